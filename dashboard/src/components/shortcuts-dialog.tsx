/**
 * The list of keyboard shortcuts, in a modal <dialog>: the browser keeps the focus inside it,
 * Escape closes it, and the focus goes back to where it was.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { GO_TO, OTHER_SHORTCUTS, useShortcuts } from "../shortcuts";

export function ShortcutsDialog() {
  const [open, setOpen] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const show = useCallback(() => setOpen(true), []);
  useShortcuts(show);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={dialog}
      className="shortcuts-dialog"
      aria-labelledby="shortcuts-title"
      onClose={() => setOpen(false)}
      data-testid="shortcuts"
    >
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <dl>
        {OTHER_SHORTCUTS.map((s) => (
          <Row key={s.what} keys={s.keys} what={s.what} />
        ))}
        {GO_TO.map((g) => (
          <Row key={g.key} keys={["g", g.key]} what={`Go to ${g.title}`} />
        ))}
      </dl>
      <p className="muted">Keys typed into a field stay in the field.</p>
      <button type="button" onClick={() => setOpen(false)}>
        Close
      </button>
    </dialog>
  );
}

function Row({ keys, what }: { keys: string[]; what: string }) {
  return (
    <>
      <dt>
        {keys.map((k, i) => (
          <span key={k}>
            {i > 0 && " then "}
            <kbd>{k}</kbd>
          </span>
        ))}
      </dt>
      <dd>{what}</dd>
    </>
  );
}
