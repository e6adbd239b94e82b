/**
 * `overseer claims take|refresh|release|list` through the built binary, on the database itself
 * (`--database`) and through a server (`--url`): the same output and exit codes either way;
 * a held claim is exit 1 with `overseer: CLAIM_HELD: ...`, bad input exit 2 before anything opens.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { startHttpServer } from "../http/server.js";
import { cliSandbox } from "../test-support/cli.js";
import { tempDatabase } from "../test-support/temp-database.js";

const cli = cliSandbox("overseer-claims-cli-");

async function setup() {
  const db = tempDatabase("overseer-claims-");
  const overseer = await db.open();
  const operator = (await createToken(overseer.store, "cli-operator", "operator")).secret;
  const viewer = (await createToken(overseer.store, "cli-viewer", "viewer")).secret;
  const server = await startHttpServer({ overseer, port: 0 });
  onTestFinished(() => server.close());
  return {
    overseer,
    local: (args: string[]) => cli.run(["--database", db.path, "claims", ...args]),
    remote: (args: string[], token = operator) => cli.run(["--url", server.url, "--token", token, "claims", ...args]),
    viewer,
  };
}

describe("overseer claims", () => {
  for (const mode of ["local", "remote"] as const) {
    it(`takes, refuses another owner, refreshes, lists and releases (${mode})`, async () => {
      const s = await setup();
      const run = s[mode];
      const took = await run(["take", "story:ABC-12", "--owner", "agent-1", "--ttl", "30s"]);
      expect(took.stderr).toBe("");
      expect(took.code).toBe(0);
      expect(took.stdout).toMatch(/^took claim story:ABC-12 as agent-1 \(token 1\) until \d{4}-\d\d-\d\dT.+Z\n$/);

      const held = await run(["take", "story:ABC-12", "--owner", "agent-2", "--ttl", "30s"]);
      expect(held.code).toBe(1);
      expect(held.stdout).toBe("");
      expect(held.stderr).toMatch(/^overseer: CLAIM_HELD: claim "story:ABC-12" is held by "agent-1" until .+Z\n$/);

      // The holder's retake, saying who it is: recorded on the claim.
      const who = ["--role", "reviewer", "--agent", "claude-code", "--fingerprint", "host-7:4242"];
      const again = await run(["take", "story:ABC-12", "--owner", "agent-1", "--ttl", "1m", ...who, "--json"]);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        acquired: false,
        previousOwner: null,
        claim: {
          key: "story:ABC-12",
          owner: "agent-1",
          token: 1,
          ttlMs: 60_000,
          role: "reviewer",
          agent: "claude-code",
          fingerprint: "host-7:4242",
        },
      });

      const stranger = await run(["refresh", "story:ABC-12", "--owner", "agent-2", "--ttl", "30s"]);
      expect(stranger.code).toBe(1);
      expect(stranger.stderr).toMatch(
        /^overseer: CLAIM_NOT_HELD: claim "story:ABC-12" is held by "agent-1", not "agent-2"/,
      );
      const refreshed = await run(["refresh", "story:ABC-12", "--owner", "agent-1", "--ttl", "2m", "--json"]);
      expect(JSON.parse(refreshed.stdout)).toMatchObject({ owner: "agent-1", token: 1, ttlMs: 120_000 });

      const list = await run(["list"]);
      expect(list.stdout).toMatch(
        /^KEY\s+OWNER\s+ROLE\s+AGENT\s+TOKEN\s+ACQUIRED\s+EXPIRES\nstory:ABC-12\s+agent-1\s+reviewer\s+claude-code\s+1\s/,
      );
      expect(JSON.parse((await run(["list", "--json"])).stdout)).toHaveLength(1);

      expect((await run(["release", "story:ABC-12", "--owner", "agent-2"])).code).toBe(1);
      const released = await run(["release", "story:ABC-12", "--owner", "agent-1"]);
      expect(released).toMatchObject({ code: 0, stdout: "released claim story:ABC-12 (token 1) held by agent-1\n" });
      expect((await run(["list"])).stdout).toBe("no claims held\n");
      const next = await run(["take", "story:ABC-12", "--owner", "agent-2", "--ttl", "30s", "--json"]);
      expect(JSON.parse(next.stdout)).toMatchObject({ acquired: true, claim: { owner: "agent-2", token: 2 } });
    });
  }

  it("bad input exits 2 with a message naming the field; a viewer token cannot take (exit 2, FORBIDDEN)", async () => {
    const s = await setup();
    const cases: Array<[string[], RegExp]> = [
      [
        ["take", "bad key", "--owner", "a", "--ttl", "30s"],
        /^overseer: INVALID_ARGUMENT: key must be 1-200 characters/,
      ],
      [
        ["take", "k", "--owner", "a", "--ttl", "500ms"],
        /^overseer: INVALID_ARGUMENT: --ttl must be between 1s and 24h/,
      ],
      [["take", "k", "--owner", "a", "--ttl", "soon"], /^overseer: INVALID_ARGUMENT: --ttl must be a duration/],
      [["take", "k", "--owner", " a", "--ttl", "30s"], /^overseer: INVALID_ARGUMENT: --owner must be 1-200 characters/],
      [["take", "k", "--ttl", "30s"], /required option '--owner <owner>' not specified/],
      [
        ["take", "k", "--owner", "a", "--ttl", "30s", "--role", ""],
        /^overseer: INVALID_ARGUMENT: --role must be 1-200 characters/,
      ],
    ];
    for (const [args, message] of cases) {
      const res = await s.local(args);
      expect(res.code, args.join(" ")).toBe(2);
      expect(res.stderr, args.join(" ")).toMatch(message);
    }
    const forbidden = await s.remote(["take", "k", "--owner", "a", "--ttl", "30s"], s.viewer);
    expect(forbidden.code).toBe(2);
    expect(forbidden.stderr).toMatch(/^overseer: FORBIDDEN: /);
    expect(await s.overseer.listClaims()).toEqual([]);
  });
});
