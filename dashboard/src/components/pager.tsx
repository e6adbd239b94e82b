/**
 * Paging through a cursor listing, kept in the URL. The cursor API only goes forward, so the URL
 * keeps the cursors of the pages before this one (`prev`, oldest last) and "Previous page" pops
 * one. FIRST stands for the first page's (absent) cursor; cursors are base64url, so neither "~"
 * nor "-" alone can be one.
 */
import { query } from "../api/client";
import { navigate } from "../router";

const FIRST = "-";
const SEP = "~";

/** The page position in the URL: this page's cursor and the ones before it. */
export function pagePosition(search: URLSearchParams): { cursor: string; prev: string[] } {
  return {
    cursor: search.get("cursor") ?? "",
    prev: (search.get("prev") ?? "").split(SEP).filter((c) => c !== ""),
  };
}

export function Pager({
  path,
  filters,
  search,
  nextCursor,
  firstLabel = "Newest",
}: {
  /** The page's path, e.g. `/jobs`. */
  path: string;
  /** What the URL holds besides the position. */
  filters: Record<string, string>;
  search: URLSearchParams;
  nextCursor: string | null;
  firstLabel?: string;
}) {
  const { cursor, prev } = pagePosition(search);
  const goTo = (next: string, stack: string[]) =>
    navigate(`${path}${query({ ...filters, cursor: next, prev: stack.join(SEP) })}`);
  const previous = () => {
    const back = prev.at(-1);
    if (back !== undefined) goTo(back === FIRST ? "" : back, prev.slice(0, -1));
  };
  return (
    <nav className="pager" aria-label="pages">
      <button type="button" disabled={!cursor} onClick={() => navigate(`${path}${query(filters)}`)}>
        {firstLabel}
      </button>
      <button type="button" disabled={prev.length === 0} onClick={previous}>
        Previous page
      </button>
      <span className="muted" data-testid="page-number">
        page {prev.length + 1}
      </span>
      <button
        type="button"
        disabled={!nextCursor}
        onClick={() => nextCursor && goTo(nextCursor, [...prev, cursor || FIRST])}
      >
        Next page
      </button>
    </nav>
  );
}
