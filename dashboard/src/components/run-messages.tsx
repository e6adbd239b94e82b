/**
 * A run's messages: what people sent it and which turn got each, and a box to send one. A
 * message goes to the next turn that starts, never the one running, so the list says "waiting
 * for the next turn" until a turn takes it. The box is closed, with the reason, for a finished
 * run, for a run whose input has no {{messages}}, and for a token that may not send.
 */
import { type FormEvent, useEffect, useState } from "react";
import { takesMessages } from "../../../src/core/run-input";
import { FINISHED_RUN_STATES, type Run, type RunMessage } from "../../../src/http/contract";
import { api } from "../api/client";
import { useLive } from "../hooks";
import { ago, describeOutcome, type Outcome } from "./common";

const MAX_CHARS = 8_000;

export function RunMessages({ run, denied }: { run: Run; denied: string | null }) {
  const path = `/runs/${encodeURIComponent(run.id)}/messages`;
  const { data, reload } = useLive<{ items: RunMessage[] }>(
    `${run.id}-messages`,
    (signal) => api<{ items: RunMessage[] }>(path, { signal }),
    (e) => e.runId === run.id && (e.kind === "run.message_sent" || e.kind === "run.turn_started"),
    300,
  );
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const closed = FINISHED_RUN_STATES.includes(run.state)
    ? `the run is ${run.state}`
    : !takesMessages(run.spec.input)
      ? "its profile's input has no {{messages}}, so no turn would read a message"
      : denied;
  // Once the box closes, what the last send said no longer holds.
  useEffect(() => {
    if (closed !== null) setOutcome(null);
  }, [closed]);
  const send = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await api<{ message: RunMessage }>(path, { method: "POST", body: { body: text } });
      setText("");
      setOutcome({ ok: true, text: "sent: the next turn to start gets it" });
      reload();
    } catch (err) {
      setOutcome(describeOutcome(err));
    } finally {
      setBusy(false);
    }
  };
  const items = data?.items ?? [];
  return (
    <>
      {items.length === 0 ? (
        <p className="muted">No messages.</p>
      ) : (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a long list scrolls, and a keyboard must reach it to scroll it
        <ol className="run-messages" aria-label="messages" tabIndex={0}>
          {items.map((m) => (
            <li key={m.id}>
              <strong>{m.sentBy ?? "an operator"}</strong> <time dateTime={m.createdAt}>{ago(m.createdAt)} ago</time>{" "}
              <span className="muted" data-testid="message-turn">
                {m.turn === null ? "waiting for the next turn" : `given to turn ${m.turn}`}
              </span>
              <blockquote>{m.body}</blockquote>
            </li>
          ))}
        </ol>
      )}
      <form className="run-message-form" aria-label="send a message to the run" onSubmit={(e) => void send(e)}>
        <label className="run-message-label">
          Message for the next turn
          <textarea
            value={text}
            maxLength={MAX_CHARS}
            rows={3}
            disabled={closed !== null}
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy || closed !== null || text.trim() === ""} title={closed ?? undefined}>
          Send
        </button>
        {closed !== null && <span className="muted small-text">Closed: {closed}</span>}
        {outcome && (
          <span className={outcome.ok ? "ok" : "error"} role="status">
            {outcome.text}
          </span>
        )}
      </form>
    </>
  );
}
