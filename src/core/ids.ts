/** Time-sortable ids (ULIDs): lexical order is creation order, and monotonic within a process. */
import { monotonicFactory } from "ulidx";

const ulid = monotonicFactory();

export function newId(): string {
  return ulid();
}
