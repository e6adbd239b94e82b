/** PostgreSQL highlights the very text it indexed, or the words a search reports would drift from those it matched. */
import { describe, expect, it } from "vitest";
import { sql as migration } from "../postgres/migrations/019-lessons.js";
import { PUNCTUATION, SIMILAR_LESSONS } from "./statements.js";

describe("PostgreSQL's lesson text", () => {
  it("is split on the same punctuation by the search vector (migration 019) and the highlighting", () => {
    const uses = (text: string) => text.split(`regexp_replace(`).length - 1;
    expect(uses(migration)).toBe(4);
    expect(migration.split(`'${PUNCTUATION}'`).length - 1).toBe(4);
    const search = typeof SIMILAR_LESSONS === "string" ? SIMILAR_LESSONS : SIMILAR_LESSONS.postgres;
    expect(uses(search)).toBe(4);
    expect(search.split(`'${PUNCTUATION}'`).length - 1).toBe(4);
  });
});
