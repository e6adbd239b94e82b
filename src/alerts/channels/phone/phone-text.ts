/**
 * What a phone says: a short text message (`smsText`) and a sentence for a call to speak
 * (`spokenText`). A text carries the title (marked `[DRY RUN]` / `[TEST]` as every channel marks
 * it), a bundle's summaries, and the dashboard link a person acts on (the approval's page for a
 * request, else the alert's); a call carries no links or markup, only what can be said. Pure.
 */
import { clip } from "../../../core/text.js";
import { markedTitle, type Notification } from "../channel.js";
import { MAX_SPOKEN_LENGTH } from "./phone-provider.js";

/** Twilio's limit on one message's body; longer text is cut. */
export const MAX_SMS_LENGTH = 1_600;
/** Each summary a bundle's text lists, at most. */
const MAX_LISTED_LENGTH = 120;

/** The text of a message: `[Overseer] <title>`, a bundle's list, then the link, which is never cut off. */
export function smsText(n: Notification): string {
  const link = n.links?.[0]?.url;
  const head = [`[Overseer] ${oneLine(markedTitle(n))}`];
  if (n.bundle !== undefined && n.details) {
    for (const line of n.details.split("\n")) head.push(clip(oneLine(line), MAX_LISTED_LENGTH));
  }
  if (link === undefined) return clip(head.join("\n"), MAX_SMS_LENGTH);
  return `${clip(head.join("\n"), MAX_SMS_LENGTH - link.length - 1)}\n${link}`;
}

/**
 * What a call says (twice; see `twiml`): who calls, the marks a decision needs, what it is about
 * and where to act. URLs in the title are said as "a link": nobody can take one down by ear.
 */
export function spokenText(n: Notification): string {
  const marks = [
    ...(n.request?.execution === "dry-run" ? ["Dry run: approving it runs nothing."] : []),
    ...(n.request?.test ? ["This is a test."] : []),
  ];
  const said = oneLine(n.title.replace(/\b(?:https?|ftp):\/\/\S+/gi, "a link")).replace(/[.\s]+$/, "");
  // A sentence of its own: a question keeps its question mark.
  const title = /[?!]$/.test(said) ? said : `${said}.`;
  const what =
    n.kind === "approval"
      ? `A request waits for approval: ${title} Decide on the dashboard.`
      : n.kind === "bundle"
        ? `${title} See the dashboard.`
        : `An alert: ${title} Acknowledge it on the dashboard.`;
  return clip(["This is Overseer.", ...marks, what].join(" "), MAX_SPOKEN_LENGTH);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
