/**
 * `overseer lessons list|show|similar|delete` through the built binary, on the database itself
 * (`--database`) and through a server (`--url`): the same answers either way; an unknown id is
 * exit 1 with LESSON_NOT_FOUND, bad input exit 2 naming the option.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { startHttpServer } from "../http/server.js";
import { cliSandbox } from "../test-support/cli.js";
import { tempDatabase } from "../test-support/temp-database.js";

const cli = cliSandbox("overseer-lessons-cli-");

async function setup() {
  const db = tempDatabase("overseer-lessons-");
  const overseer = await db.open();
  const operator = (await createToken(overseer.store, "cli-operator", "operator")).secret;
  const server = await startHttpServer({ overseer, port: 0 });
  onTestFinished(() => server.close());
  const record = async (title: string, outcome: string, tags: string[]) =>
    (await overseer.lessons.record({ title, outcome, tags, body: "what was tried" })).lesson.id;
  const disk = await record("postgres disk full on the primary", "resolved by fixing archive_command", ["disk"]);
  const oom = await record("search pods OOMKilled under load", "resolved by raising the memory limit", ["oom"]);
  return {
    disk,
    oom,
    local: (args: string[]) => cli.run(["--database", db.path, "lessons", ...args]),
    remote: (args: string[]) => cli.run(["--url", server.url, "--token", operator, "lessons", ...args]),
  };
}

describe("overseer lessons", () => {
  for (const mode of ["local", "remote"] as const) {
    it(`lists, shows, finds similar and deletes (${mode})`, async () => {
      const s = await setup();
      const run = s[mode];
      const listed = await run(["list"]);
      expect(listed.stderr).toBe("");
      expect(listed.stdout.split("\n")[0]).toMatch(/^ID\s+CREATED\s+TITLE\s+OUTCOME\s+TAGS$/);
      expect(listed.stdout.indexOf(s.oom)).toBeLessThan(listed.stdout.indexOf(s.disk));
      expect(
        JSON.parse((await run(["list", "--tag", "disk", "--json"])).stdout).map((l: { id: string }) => l.id),
      ).toEqual([s.disk]);

      const shown = await run(["show", s.disk]);
      expect(shown.stdout).toContain(
        "postgres disk full on the primary\n  outcome: resolved by fixing archive_command\n",
      );
      expect(shown.stdout).toContain("\n\nwhat was tried\n");

      const similar = await run(["similar", "the primary postgres volume is full", "--limit", "1"]);
      expect(similar.code).toBe(0);
      expect(similar.stdout).toContain(s.disk);
      expect(similar.stdout).not.toContain(s.oom);
      const json = JSON.parse((await run(["similar", "pods killed, out of memory", "--tags", "oom", "--json"])).stdout);
      expect(json).toMatchObject([{ lesson: { id: s.oom }, reason: { tags: ["oom"] } }]);

      expect((await run(["delete", s.disk])).stdout).toBe(`deleted lesson ${s.disk}\n`);
      const gone = await run(["show", s.disk]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/^overseer: LESSON_NOT_FOUND: no lesson has id/);
    });
  }

  it.each([
    [["similar"], "text is required"],
    [["similar", "disk", "--tags", "dsik"], 'no lesson has the tag "dsik"; tags in use like it: disk'],
    [["similar", "disk", "--limit", "0"], "--limit"],
    [["list", "--tag", "Not A Tag"], "--tag must hold tags"],
  ])("refuses %j: %s", async (args, message) => {
    const s = await setup();
    const answer = await s.local(args);
    expect(answer.code).not.toBe(0);
    expect(answer.stderr).toContain(message);
  });
});
