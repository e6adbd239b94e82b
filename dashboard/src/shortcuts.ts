/**
 * The keyboard shortcuts: `?` lists them, `g` then a letter goes to a page, `/` focuses the
 * page's filter box. Keys typed into a field are the field's, never a shortcut; a key with
 * Ctrl, Alt or Meta is the browser's.
 */
import { useEffect } from "react";
import { navigate } from "./router";

/** `g` then the key goes to the page. */
export const GO_TO: ReadonlyArray<{ key: string; path: string; title: string }> = [
  { key: "o", path: "/", title: "Overview" },
  { key: "j", path: "/jobs", title: "Jobs" },
  { key: "r", path: "/runs", title: "Runs" },
  { key: "a", path: "/approvals", title: "Approvals" },
  { key: "l", path: "/alerts", title: "Alerts" },
  { key: "c", path: "/oncall", title: "On call" },
  { key: "k", path: "/claims", title: "Claims" },
  { key: "m", path: "/stats", title: "Metrics" },
  { key: "q", path: "/queues", title: "Queues" },
  { key: "w", path: "/workers", title: "Workers" },
  { key: "s", path: "/schedules", title: "Schedules" },
  { key: "e", path: "/events", title: "Events" },
];

/** The rest of the list the help dialog shows. */
export const OTHER_SHORTCUTS: ReadonlyArray<{ keys: string[]; what: string }> = [
  { keys: ["?"], what: "List these shortcuts" },
  { keys: ["/"], what: "Focus the page's filter box" },
  { keys: ["Esc"], what: "Close a dialog" },
];

/** How long `g` waits for its letter. */
const SEQUENCE_MS = 1500;

/** True when the key belongs to what has the focus: a text field, a list, an editable block. */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement)
    return !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
  return false;
}

/** The page's first filter or search field, if it has one. */
function filterBox(): HTMLElement | null {
  return document.querySelector<HTMLElement>(
    "main input[type=search], main form.filters input:not([type=checkbox]), main form.filters select",
  );
}

/** Listens for the shortcuts while mounted; `help` opens the list. */
export function useShortcuts(help: () => void): void {
  useEffect(() => {
    let pendingG = 0;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (typing(event.target) || document.querySelector("dialog[open]")) return;
      const key = event.key;
      if (pendingG && Date.now() - pendingG < SEQUENCE_MS) {
        pendingG = 0;
        const target = GO_TO.find((g) => g.key === key.toLowerCase());
        if (target) {
          event.preventDefault();
          navigate(target.path);
        }
        return;
      }
      pendingG = 0;
      if (key === "?") {
        event.preventDefault();
        help();
      } else if (key === "g") {
        pendingG = Date.now();
      } else if (key === "/") {
        const box = filterBox();
        if (box) {
          event.preventDefault();
          box.focus();
        }
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [help]);
}
