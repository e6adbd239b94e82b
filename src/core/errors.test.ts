import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode, isOverseerError, OverseerError, PermanentError } from "./errors.js";

const DOC_PATH = fileURLToPath(new URL("../../docs/errors.md", import.meta.url));
const doc = readFileSync(DOC_PATH, "utf8");
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

/** The text of the `## CODE` section, up to the next level-2 heading. */
function section(code: string): string {
  const start = doc.indexOf(`\n## ${code}\n`);
  if (start === -1) return "";
  const next = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, next === -1 ? undefined : next);
}

describe("docs/errors.md", () => {
  const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => (m[1] as string).trim());

  it.each(codes)("documents %s with its status, when it happens and what to do", (code) => {
    expect(headings).toContain(code);
    const text = section(code);
    expect(text).toContain(`**HTTP status:** ${ERROR_CODES[code].status}`);
    expect(text).toMatch(/\*\*When:\*\* \S/);
    expect(text).toMatch(/\*\*What to do:\*\* \S/);
  });

  it("documents no code that is not in the registry", () => {
    expect(headings.filter((h) => !(codes as string[]).includes(h))).toEqual([]);
  });

  it("documents each code once", () => {
    expect(new Set(headings).size).toBe(headings.length);
  });
});

describe("ERROR_CODES", () => {
  it.each(codes)("%s is an upper-case code with an HTTP error status and a summary", (code) => {
    expect(code).toMatch(/^[A-Z][A-Z_]*[A-Z]$/);
    const { status, summary } = ERROR_CODES[code];
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    expect(summary.length).toBeGreaterThan(10);
  });
});

describe("OverseerError", () => {
  it("carries its code, status, details and a JSON form", () => {
    const err = new OverseerError("JOB_NOT_FOUND", "no job with id x", { id: "x" });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("OverseerError");
    expect(err.code).toBe("JOB_NOT_FOUND");
    expect(err.status).toBe(404);
    expect(err.details).toEqual({ id: "x" });
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: "JOB_NOT_FOUND",
      message: "no job with id x",
      details: { id: "x" },
    });
  });

  it.each(codes)("maps %s to its registry status", (code) => {
    expect(new OverseerError(code, "m").status).toBe(ERROR_CODES[code].status);
  });

  it("defaults details to an empty object", () => {
    expect(new OverseerError("INVALID_ARGUMENT", "m").details).toEqual({});
  });
});

describe("isOverseerError", () => {
  const err = new OverseerError("SHUTTING_DOWN", "gone");
  it("recognises any OverseerError, or one with a given code", () => {
    expect(isOverseerError(err)).toBe(true);
    expect(isOverseerError(err, "SHUTTING_DOWN")).toBe(true);
    expect(isOverseerError(err, "JOB_NOT_FOUND")).toBe(false);
  });

  it.each<unknown>([new Error("SHUTTING_DOWN"), { code: "SHUTTING_DOWN" }, "SHUTTING_DOWN", null, undefined])(
    "rejects look-alikes: %s",
    (value) => {
      expect(isOverseerError(value)).toBe(false);
      expect(isOverseerError(value, "SHUTTING_DOWN")).toBe(false);
    },
  );
});

describe("PermanentError", () => {
  it("is an Error that is never retried", () => {
    const cause = new Error("root");
    const err = new PermanentError("card refused", { code: "CARD_REFUSED", cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("PermanentError");
    expect(err.retryable).toBe(false);
    expect(err.code).toBe("CARD_REFUSED");
    expect(err.cause).toBe(cause);
    expect(new PermanentError("x").code).toBe("PERMANENT_ERROR");
  });
});
