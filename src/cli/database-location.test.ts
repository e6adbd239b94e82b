import { describe, expect, it } from "vitest";
import { isOverseerError } from "../core/errors.js";
import { checkDatabaseLocation, createsDatabase } from "./database-location.js";

function errorOf(fn: () => void): { code: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (!isOverseerError(err)) throw err;
    return { code: err.code, message: err.message };
  }
}

describe("where the CLI may create a database", () => {
  it("only commands that start nodes, add work or set one up create one", () => {
    for (const path of ["start", "worker", "enqueue", "migrate", "tokens create", "claims take", "runs start"]) {
      expect(createsDatabase(path), path).toBe(true);
    }
    for (const path of ["jobs list", "jobs retry", "queues pause", "events", "tokens list", "prune", "requeue"]) {
      expect(createsDatabase(path), path).toBe(false);
    }
    // With --config, schedules commands register the file's schedules first.
    expect(createsDatabase("schedules list", true)).toBe(true);
    expect(createsDatabase("schedules list", false)).toBe(false);
    expect(createsDatabase("jobs list", true)).toBe(false);
  });

  it("refuses a missing file to a command that needs one, naming the path", () => {
    const none = () => false;
    expect(errorOf(() => checkDatabaseLocation("./data/overseer.db", false, none))).toEqual({
      code: "DATABASE_NOT_FOUND",
      message: expect.stringContaining("no database at ./data/overseer.db"),
    });
    expect(errorOf(() => checkDatabaseLocation("./data/overseer.db", true, none))).toBeNull();
    expect(errorOf(() => checkDatabaseLocation("o.db", false, (p) => p === "."))).toMatchObject({
      code: "DATABASE_NOT_FOUND",
    });
  });

  it("calls a chosen path in a missing folder bad input, for every command", () => {
    for (const mayCreate of [true, false]) {
      expect(errorOf(() => checkDatabaseLocation("./nope/x.db", mayCreate, () => false))).toEqual({
        code: "INVALID_ARGUMENT",
        message:
          'the folder of database "./nope/x.db" does not exist; create it first (mkdir -p ./nope) or pass another --database',
      });
    }
  });

  it("leaves PostgreSQL URLs to the server", () => {
    expect(errorOf(() => checkDatabaseLocation("postgres://127.0.0.1/nope", false, () => false))).toBeNull();
  });
});
