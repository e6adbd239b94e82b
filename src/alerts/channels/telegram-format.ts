/**
 * A notification as a Telegram message, in the Bot API's HTML parse mode: the title in bold, what
 * a request asks (see request-details.ts) with commands and diffs as code blocks, the details,
 * the dashboard links, and a last line when the request is settled. The whole fits Telegram's
 * 4,096 characters: the request is cut first (a code block within its text, a list at a line),
 * saying so and where the rest is. Links are written out, `Approval: <url>`, not as `<a>` tags:
 * Telegram drops a link whose host has no public domain (the default `127.0.0.1`), text and all.
 */
import { markedTitle, type Notification } from "./channel.js";
import { type RequestBlock, requestBlocks } from "./request-details.js";

/** Telegram's limit on a message's text (counted after parsing: the markup fits with room to spare). */
export const MAX_MESSAGE_LENGTH = 4096;
const MAX_TITLE = 500;
const MAX_DETAILS = 1_000;
const CUT = "<i>… cut here: the whole request is on the dashboard</i>";

export function telegramHtml(n: Notification, lastLine?: string): string {
  const head = `<b>${escapeHtml(clipText(markedTitle(n), MAX_TITLE))}</b>`;
  const tail: string[] = [];
  if (n.details) tail.push(escapeHtml(clipText(n.details, MAX_DETAILS)));
  if (n.links && n.links.length > 0) {
    tail.push(n.links.map((link) => `${escapeHtml(link.label)}: ${escapeHtml(link.url)}`).join("\n"));
  }
  if (lastLine !== undefined) tail.push(escapeHtml(lastLine));
  const fixed = [head, ...tail].join("\n\n").length;
  const request = requestHtml(requestBlocks(n.request?.details), MAX_MESSAGE_LENGTH - fixed - 2);
  return [head, ...(request === "" ? [] : [request]), ...tail].join("\n\n");
}

/** The request's blocks in at most `room` characters: whole blocks, then the one that did not fit cut. */
function requestHtml(blocks: readonly RequestBlock[], room: number): string {
  const parts: string[] = [];
  let used = 0;
  for (const block of blocks) {
    const separator = parts.length === 0 ? 0 : 2;
    const html = blockHtml(block);
    if (used + separator + html.length <= room) {
      parts.push(html);
      used += separator + html.length;
      continue;
    }
    const left = room - used - separator - CUT.length - 1;
    const cut = left > 0 ? blockHtml(block, left) : "";
    parts.push(cut === "" ? CUT : `${cut}\n${CUT}`);
    break;
  }
  return parts.join("\n\n");
}

/** One block as HTML; with `max`, its text cut so that the whole is at most `max` characters ("" if nothing fits). */
function blockHtml(block: RequestBlock, max?: number): string {
  switch (block.kind) {
    case "text":
      return withinRoom("", escapeHtml(block.text), "", max);
    case "fields": {
      // Whole lines only: a cut inside one could break its markup.
      const lines: string[] = [];
      for (const [key, value] of block.fields) {
        const line = `<b>${escapeHtml(key)}</b>: ${escapeHtml(value)}`;
        const length = lines.reduce((n, l) => n + l.length + 1, 0) + line.length;
        if (max !== undefined && length > max - 2) return lines.length === 0 ? "" : `${lines.join("\n")}\n…`;
        lines.push(line);
      }
      return lines.join("\n");
    }
    case "code":
      return withinRoom(
        `<b>${escapeHtml(block.label)}</b>\n<pre><code class="language-${block.language}">`,
        escapeHtml(block.text),
        "</code></pre>",
        max,
      );
  }
}

/** `open + body + close`, the body cut (never inside an entity) so that the whole fits `max`; "" if no body fits. */
function withinRoom(open: string, body: string, close: string, max: number | undefined): string {
  if (max === undefined || open.length + body.length + close.length <= max) return `${open}${body}${close}`;
  const room = max - open.length - close.length - 1;
  if (room <= 0) return "";
  let cut = body.slice(0, room);
  const amp = cut.lastIndexOf("&");
  if (amp !== -1 && !cut.includes(";", amp)) cut = cut.slice(0, amp);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${open}${cut}…${close}`;
}

function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/** Text for Telegram's HTML mode: `<`, `>` and `&` as entities (all it asks of text outside tags). */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
