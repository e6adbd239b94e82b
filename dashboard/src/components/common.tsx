/** Small shared pieces: state badges, JSON blocks, errors, and action buttons that explain themselves. */
import { type ReactNode, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { ConfirmDialog } from "./confirm-dialog";

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-${state}`}>{state}</span>;
}

export function JsonView({ value, label }: { value: unknown; label: string }) {
  const text = value === undefined ? "undefined" : JSON.stringify(value, null, 2);
  return (
    <figure className="json" aria-label={label}>
      <figcaption>
        {label}{" "}
        <button type="button" className="small" onClick={() => void navigator.clipboard?.writeText(text)}>
          Copy
        </button>
      </figcaption>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex lint/a11y/useSemanticElements: a long value scrolls inside its pre, and a keyboard must reach it (and hear its name) to scroll it */}
      <pre tabIndex={0} role="region" aria-label={`${label}, as JSON`}>
        {text}
      </pre>
    </figure>
  );
}

export function ErrorNote({ error }: { error: string | null }) {
  return error ? (
    <p className="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Loading({ what }: { what: string }) {
  return <p className="muted">Loading {what}…</p>;
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="panel">
      <header className="panel-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

export interface Outcome {
  ok: boolean;
  text: string;
}

/** What the server said, success or not, as one line. */
export function describeOutcome(err: unknown): Outcome {
  return { ok: false, text: err instanceof ApiError ? err.describe() : String(err) };
}

/**
 * A button for a write: disabled with its reason shown when the token may not do it; disabled
 * with the reason as its tooltip when `unavailable` (not possible in the current state); asks
 * first when given `confirm`; shows the server's answer (including 409s) next to it after a
 * click. With `resetKey` (the state of what it acts on), the answer is cleared when that state
 * changes, except for the one change a successful write itself makes, so an old answer never
 * sits next to a newer state.
 */
export function ActionButton({
  label,
  denied,
  unavailable = null,
  run,
  onDone,
  confirm,
  resetKey,
}: {
  label: string;
  denied: string | null;
  unavailable?: string | null;
  run: () => Promise<string>;
  onDone?: () => void;
  confirm?: { title: string; message: ReactNode; confirmLabel: string };
  resetKey?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const seenKey = useRef(resetKey);
  /** A write succeeded: the next change of state is its own, not news that makes its answer old. */
  const ownChange = useRef(false);
  useEffect(() => {
    if (resetKey === seenKey.current) return;
    seenKey.current = resetKey;
    if (ownChange.current) ownChange.current = false;
    else setOutcome(null);
  }, [resetKey]);
  const click = async () => {
    setAsking(false);
    setBusy(true);
    try {
      const text = await run();
      ownChange.current = resetKey !== undefined;
      setOutcome({ ok: true, text });
    } catch (err) {
      ownChange.current = false;
      setOutcome(describeOutcome(err));
    } finally {
      setBusy(false);
      onDone?.();
    }
  };
  return (
    <span className="action">
      <button
        type="button"
        disabled={busy || denied !== null || unavailable !== null}
        title={denied ?? unavailable ?? undefined}
        onClick={confirm ? () => setAsking(true) : click}
      >
        {label}
      </button>
      {denied && <span className="muted small-text">{denied}</span>}
      {asking && confirm && (
        <ConfirmDialog
          title={confirm.title}
          confirmLabel={confirm.confirmLabel}
          onConfirm={() => void click()}
          onCancel={() => setAsking(false)}
        >
          {confirm.message}
        </ConfirmDialog>
      )}
      {outcome && (
        <output className={outcome.ok ? "ok" : "error"} aria-label={`${label} result`}>
          {outcome.text}
        </output>
      )}
    </span>
  );
}

export function ago(iso: string | null): string {
  if (!iso) return "—";
  return duration(Date.now() - Date.parse(iso));
}

export function duration(ms: number | null): string {
  if (ms === null) return "—";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** "512 B", "12.3 KB", "4.5 MB": a size for a person (1 KB = 1024 bytes). */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** 1234567 → "1,234,567", the same in every locale so tests and screenshots agree. */
export function count(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
