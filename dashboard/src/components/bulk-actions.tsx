/**
 * One action on everything a page's filter matches: the matched count, one note or reason for
 * all, and a confirmation dialog naming what will happen before the one request is sent. The
 * server applies it up to its limit (500) and says what it changed and what it skipped.
 */
import { useState } from "react";
import { ApiError } from "../api/client";
import { ConfirmDialog } from "./confirm-dialog";

/** What the server answers a bulk action: how many matched, changed, and which were skipped. */
export interface BulkOutcome {
  matched: number;
  changed: number;
  skipped: Array<{ id: string; code: string }>;
}

export interface BulkVerb {
  /** The button's text: "Acknowledge all", "Approve all". */
  label: string;
  /** What the dialog asks: "Acknowledge 12 triggered alerts?". */
  question: (count: number) => string;
  run: (text: string, limit: number) => Promise<BulkOutcome>;
}

/** The server's most per request. */
export const BULK_LIMIT = 500;

export function BulkActions({
  matched,
  what,
  textLabel,
  placeholder,
  verbs,
  denied,
  onDone,
}: {
  /** How many the filter matches now (the listing's total). */
  matched: number;
  /** "alerts", "pending requests". */
  what: string;
  textLabel: string;
  placeholder: string;
  verbs: BulkVerb[];
  /** Why this token may not act, or null. */
  denied: string | null;
  onDone: () => void;
}) {
  const [text, setText] = useState("");
  const [asking, setAsking] = useState<BulkVerb | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const count = Math.min(matched, BULK_LIMIT);
  const ask = (verb: BulkVerb) => {
    setAsking(verb);
    setResult(null);
  };
  const close = () => setAsking(null);
  const confirm = async () => {
    if (!asking) return;
    setBusy(true);
    try {
      const r = await asking.run(text.trim(), count);
      const skipped = r.skipped.length > 0 ? `, ${r.skipped.length} skipped (${skippedCodes(r)})` : "";
      setResult({ ok: true, text: `${r.changed} of ${r.matched} done${skipped}` });
      setText("");
    } catch (err) {
      setResult({ ok: false, text: err instanceof ApiError ? err.describe() : String(err) });
    } finally {
      setBusy(false);
      close();
      onDone();
    }
  };
  return (
    <form className="bulk-bar" aria-label={`act on every matching ${what}`} onSubmit={(e) => e.preventDefault()}>
      <span data-testid="matched-count">
        {matched} matching {what}
        {matched > BULK_LIMIT ? ` (the first ${BULK_LIMIT} are acted on per click)` : ""}
      </span>
      <label className="decision-reason">
        {textLabel}
        <input
          value={text}
          maxLength={2000}
          placeholder={placeholder}
          disabled={denied !== null}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      {verbs.map((v) => (
        <button
          key={v.label}
          type="button"
          disabled={denied !== null || matched === 0 || busy}
          title={denied ?? (matched === 0 ? `no ${what} match` : undefined)}
          onClick={() => ask(v)}
        >
          {v.label}
        </button>
      ))}
      {denied && <span className="muted small-text">{denied}</span>}
      {result && (
        <output className={result.ok ? "ok" : "error"} aria-label="bulk result">
          {result.text}
        </output>
      )}
      {asking && (
        <ConfirmDialog
          title={asking.question(count)}
          confirmLabel="Confirm"
          busy={busy}
          onConfirm={() => void confirm()}
          onCancel={close}
        >
          {text.trim() ? (
            <p className="muted">
              {textLabel}: {text.trim()}
            </p>
          ) : (
            <p className="muted">One request; the server says what it changed and what it skipped.</p>
          )}
        </ConfirmDialog>
      )}
    </form>
  );
}

function skippedCodes(r: BulkOutcome): string {
  const counts = new Map<string, number>();
  for (const s of r.skipped) counts.set(s.code, (counts.get(s.code) ?? 0) + 1);
  return [...counts].map(([code, n]) => `${n} ${code}`).join(", ");
}
