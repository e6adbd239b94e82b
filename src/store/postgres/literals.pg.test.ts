/** The store's text[] expressions, read back by PostgreSQL itself: every list comes back as it was sent. */
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PG_URL } from "../../test-support/pg-schema.js";
import { textArrayLiteral } from "./literals.js";

describe("textArrayLiteral on PostgreSQL", () => {
  const client = new pg.Client({ connectionString: PG_URL });
  beforeAll(() => client.connect());
  afterAll(() => client.end());

  const read = async (values: readonly (string | null)[]) =>
    (await client.query<{ a: (string | null)[] }>(`SELECT ${textArrayLiteral(values)} AS a`)).rows[0]?.a;

  test("reads back ids, JSON, quotes, backslashes, separators, empty texts and NULLs as they were", async () => {
    const awkward = fc.constantFrom("'", "\\", '"', "{", "}", ",", "\u001e", "é", "😀", " ", "\n", "NULL");
    const text = fc
      .oneof(
        fc.string({ unit: "grapheme" }),
        fc.array(awkward).map((a) => a.join("")),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      )
      .filter((value) => !value.includes("\u0000"));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(text, { nil: null }), { maxLength: 20 }), async (values) => {
        expect(await read(values)).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });
});
