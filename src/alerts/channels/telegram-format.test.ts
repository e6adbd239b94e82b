import { describe, expect, it } from "vitest";
import { visibleText } from "../../test-support/fake-telegram.js";
import { type Notification, renderText } from "./channel.js";
import { escapeHtml, MAX_MESSAGE_LENGTH, telegramHtml } from "./telegram-format.js";

const base: Notification = {
  kind: "approval",
  id: "A1-1",
  approvalId: "A1",
  title: "Approval needed: merge <release> & tag",
  details: '{"risk": "high"}',
  links: [{ label: "Approval", url: "http://127.0.0.1:7070/approvals/A1?x=1&y=2" }],
  actions: ["approve", "deny"],
  at: "2030-01-01T00:00:00Z",
};

/** What Telegram would show, read the way Telegram reads it (the fake refuses what Telegram refuses). */
const shown = (html: string): string => visibleText({ text: html, parseMode: "HTML" });

describe("telegramHtml", () => {
  it("shows the title, the command as a code block, the details and the links, every < > & escaped", () => {
    const html = telegramHtml({
      ...base,
      request: { details: { command: "test -f a && cat a > b", repo: "acme/<api>" } },
    });
    expect(html).toBe(
      [
        "<b>Approval needed: merge &lt;release&gt; &amp; tag</b>",
        '<b>Command</b>\n<pre><code class="language-shell">test -f a &amp;&amp; cat a &gt; b</code></pre>',
        "<b>repo</b>: acme/&lt;api&gt;",
        '{"risk": "high"}',
        "Approval: http://127.0.0.1:7070/approvals/A1?x=1&amp;y=2",
      ].join("\n\n"),
    );
    expect(shown(html)).toContain("test -f a && cat a > b");
  });

  it("marks a request whose approval runs nothing as DRY RUN, and a test item as TEST, in front of the title", () => {
    const dry = telegramHtml({ ...base, request: { details: { command: "ls" }, execution: "dry-run", test: true } });
    expect(shown(dry).split("\n")[0]).toBe("[DRY RUN] [TEST] Approval needed: merge <release> & tag");
    const live = telegramHtml({ ...base, request: { details: { command: "ls" }, execution: "enabled", test: false } });
    expect(shown(live).split("\n")[0]).toBe("Approval needed: merge <release> & tag");
    expect(renderText({ ...base, request: { details: {}, execution: "dry-run" } }).split("\n")[0]).toBe(
      "[DRY RUN] Approval needed: merge <release> & tag",
    );
  });

  it("shows a diff as a diff block and ends with the settled line", () => {
    const html = telegramHtml({ ...base, request: { details: { diff: "-old\n+new" } } }, "✅ Approved by ana: <ok>");
    expect(html).toContain('<pre><code class="language-diff">-old\n+new</code></pre>');
    expect(html.endsWith("\n\n✅ Approved by ana: &lt;ok&gt;")).toBe(true);
  });

  it("cuts a request too long for one message, says so, and keeps the links and the line", () => {
    const huge = {
      command: "deploy --all",
      diff: Array.from({ length: 2_000 }, (_, i) => `+line ${i} <tag> & more`).join("\n"),
      after: { note: "never shown" },
    };
    const html = telegramHtml({ ...base, request: { details: huge } }, "✅ Approved by ana");
    expect(html.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    const text = shown(html); // parses: no tag or entity was cut in half
    expect(text).toContain("deploy --all");
    expect(text).toContain("+line 0 <tag> & more");
    expect(text).toContain("… cut here: the whole request is on the dashboard");
    expect(text).not.toContain("never shown");
    expect(text).toContain("Approval");
    expect(text.endsWith("✅ Approved by ana")).toBe(true);
  });

  it("cuts a long list of fields at a line, never inside its markup", () => {
    const fields = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`key${i}`, `value <${i}> & more`]));
    const html = telegramHtml({ ...base, request: { details: { command: "x".repeat(2_000), ...fields } } });
    expect(html.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    const text = shown(html);
    expect(text).toMatch(/key\d+: value <\d+> & more\n…\n<i>|key\d+: value <\d+> & more\n…\n… cut here/);
    expect(text).toContain("… cut here: the whole request is on the dashboard");
  });

  it("never cuts inside an entity or a surrogate pair, wherever the limit falls", () => {
    for (const unit of ["&", "<>", "😀", "a&b", "é"]) {
      for (let pad = 0; pad < 8; pad++) {
        const html = telegramHtml({ ...base, request: { details: { diff: "x".repeat(pad) + unit.repeat(3_000) } } });
        expect(html.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
        expect(() => shown(html)).not.toThrow();
        expect(html).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      }
    }
  });

  it("keeps the whole of a long title and details within bounds, and sends alerts without a request as before", () => {
    const html = telegramHtml({ kind: "alert", id: "a", title: "t".repeat(5_000), details: "d".repeat(5_000), at: "" });
    expect(html.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(shown(html)).toMatch(/^t{499}…\n\nd{999}…$/);
  });
});

describe("escapeHtml", () => {
  it("escapes what Telegram's HTML mode reads as markup", () => {
    expect(escapeHtml(`<a href="x">&amp;</a>`)).toBe('&lt;a href="x"&gt;&amp;amp;&lt;/a&gt;');
  });
});
