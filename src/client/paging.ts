/**
 * Cursor paging of the listings (jobs, runs, approvals, alerts): one page at a time, or every
 * page in turn as an async iterator that asks for the next page only when the caller wants
 * more. Cursors are opaque: only a `nextCursor` the server gave is ever sent back.
 */

/** The API's largest page. */
export const MAX_PAGE_SIZE = 500;

export interface Page<T> {
  items: T[];
  /** The cursor of the next page; null on the last one. */
  nextCursor: string | null;
}

/** One page: at most `limit` items (1-500; the server's default is 50), after `cursor`. */
export interface PageQuery {
  limit?: number;
  cursor?: string;
}

/** Walking the pages: from `cursor` (or the start), stopping after `limit` items in all. */
export interface WalkOptions {
  cursor?: string;
  limit?: number;
  /** Items per request, 1-500; default 500 (fewer when `limit` leaves fewer to read). */
  pageSize?: number;
}

type PageReader<T> = (page: { limit: number; cursor: string | undefined }) => Promise<Page<T>>;

/** Each page in turn until the last, or until `limit` items were read. */
export async function* walkPages<T>(read: PageReader<T>, options: WalkOptions = {}): AsyncGenerator<Page<T>> {
  const total = options.limit ?? Number.POSITIVE_INFINITY;
  const size = Math.min(options.pageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
  let cursor = options.cursor;
  let seen = 0;
  while (seen < total) {
    const page = await read({ limit: Math.min(size, total - seen), cursor });
    seen += page.items.length;
    yield page;
    if (page.nextCursor === null || page.items.length === 0) return;
    cursor = page.nextCursor;
  }
}

/** The items of `walkPages`, one by one. */
export async function* walkItems<T>(read: PageReader<T>, options: WalkOptions = {}): AsyncGenerator<T> {
  for await (const page of walkPages(read, options)) yield* page.items;
}

/** Every item of an async iterable, in order (the first `limit` of `walkItems`, say). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
