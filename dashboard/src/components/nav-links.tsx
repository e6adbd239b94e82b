/**
 * The main navigation, with live count badges on the pages where something waits for a person:
 * pending approvals, triggered alerts, dead jobs (from `GET /attention`, reloaded on the stream's
 * events). Each badge is part of its link's accessible name: "Approvals, 19 pending" (the number
 * is shown, the words are read).
 */
import { Link } from "../router";
import { useAttention } from "./attention";

export interface NavLink {
  path: string;
  title: string;
  current: boolean;
}

/** A page's badge: how many, and the words that say what of. */
type Badge = { count: number; what: string } | null;

export function NavLinks({ links }: { links: NavLink[] }) {
  const { data } = useAttention();
  const badge = (path: string): Badge => {
    if (!data) return null;
    const c = data.counts;
    if (path === "/approvals") return { count: c.approvals, what: "pending" };
    if (path === "/alerts") return { count: c.alerts, what: "triggered" };
    if (path === "/jobs") return { count: c.deadJobs, what: "dead" };
    return null;
  };
  return (
    <nav aria-label="main">
      {links.map((l) => {
        const b = badge(l.path);
        const shown = b !== null && b.count > 0;
        return (
          <Link key={l.path} href={l.path} aria-current={l.current ? "page" : undefined}>
            {l.title}
            {shown && (
              <>
                <span className="nav-badge" aria-hidden="true" data-testid={`nav-badge-${l.path.slice(1)}`}>
                  {b.count > 999 ? "999+" : b.count}
                </span>
                <span className="visually-hidden">{`, ${b.count} ${b.what}`}</span>
              </>
            )}
          </Link>
        );
      })}
    </nav>
  );
}
