// The incremental build's decisions: what a fresh clone, an unchanged tree, a changed source,
// a changed dashboard file, a deleted source and a missing output each rebuild.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
// @ts-expect-error: a plain ES module without type declarations
import { hashFiles, listFiles, planBuild } from "./build-changed.mjs";

const built = { compiledBuilt: true, dashboardBuilt: true };
const tree = { sources: ["src/a.ts", "src/b.ts"], compiled: "c1", dashboard: "d1", ...built };
const stamp = { sources: ["src/a.ts", "src/b.ts"], compiled: "c1", dashboard: "d1" };

describe("the incremental build", () => {
  it("builds everything on a fresh clone (no stamp)", () => {
    expect(planBuild(null, tree)).toEqual({ clean: false, compile: true, dashboard: true, removed: [] });
  });

  it("builds nothing when nothing changed", () => {
    expect(planBuild(stamp, tree)).toEqual({ clean: false, compile: false, dashboard: false, removed: [] });
  });

  it("compiles only when a source changed, and builds the dashboard only when its files did", () => {
    expect(planBuild(stamp, { ...tree, compiled: "c2" })).toMatchObject({ compile: true, dashboard: false });
    expect(planBuild(stamp, { ...tree, dashboard: "d2" })).toMatchObject({ compile: false, dashboard: true });
  });

  it("starts from a clean dist when a source was deleted, so its output goes too", () => {
    const plan = planBuild(stamp, { ...tree, sources: ["src/a.ts"], compiled: "c3" });
    expect(plan).toEqual({ clean: true, compile: true, dashboard: true, removed: ["src/b.ts"] });
  });

  it("builds a part whose output is missing, whatever the stamp says", () => {
    expect(planBuild(stamp, { ...tree, compiledBuilt: false })).toMatchObject({ compile: true, dashboard: false });
    expect(planBuild(stamp, { ...tree, dashboardBuilt: false })).toMatchObject({ compile: false, dashboard: true });
  });

  it("hashes paths and contents, so an edit, a rename and a new file each change the hash", () => {
    const root = mkdtempSync(join(tmpdir(), "overseer-build-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    writeFileSync(join(root, "a.ts"), "export const a = 1;\n");
    const first = hashFiles(root, listFiles(root, "."));
    expect(hashFiles(root, listFiles(root, "."))).toBe(first);
    writeFileSync(join(root, "a.ts"), "export const a = 2;\n");
    const edited = hashFiles(root, listFiles(root, "."));
    expect(edited).not.toBe(first);
    writeFileSync(join(root, "b.ts"), "");
    expect(hashFiles(root, listFiles(root, "."))).not.toBe(edited);
  });
});
