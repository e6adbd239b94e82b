// The Node versions package.json's `engines` claims are ones every locked dependency accepts, so
// `npm ci` on any of them installs without an EBADENGINE warning.
import { readFileSync } from "node:fs";
import semver from "semver";
import { describe, expect, it } from "vitest";

const read = (file: string) => JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), "utf8"));
const claimed: string = read("package.json").engines.node;
const packages: Record<string, { engines?: { node?: string } }> = read("package-lock.json").packages;

describe("engines", () => {
  it("claims only Node versions every locked dependency accepts", () => {
    const refusing = Object.entries(packages)
      .filter(([path, meta]) => path !== "" && typeof meta.engines?.node === "string")
      .filter(([, meta]) => !semver.subset(claimed, meta.engines?.node as string))
      .map(([path, meta]) => `${path.replace(/^.*node_modules\//, "")} wants ${meta.engines?.node}`);
    expect(refusing).toEqual([]);
  });

  it("includes the Node this suite runs on", () => {
    expect(semver.satisfies(process.versions.node, claimed)).toBe(true);
  });

  it("would catch a dependency that refuses a claimed version", () => {
    expect(semver.subset(">=20.19", "^20.19.0 || ^22.12.0")).toBe(false);
    expect(semver.subset("^20.19.0 || ^22.13.0", "^20.19.0 || ^22.12.0")).toBe(true);
  });
});
