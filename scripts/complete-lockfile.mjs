// npm 11 leaves other platforms' optional packages (e.g. @biomejs/cli-darwin-arm64) out of
// package-lock.json when its registry does not serve them, and `npm ci` then refuses the
// lockfile as out of sync. This adds the missing entries: name, version, os/cpu/libc read
// from the package name, marked optional, so `npm ci` accepts the lockfile and skips them on
// platforms they are not for. Run after `npm install` changes dependencies:
//   node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from "node:fs";

const OS = ["darwin", "linux", "win32", "android", "freebsd", "openbsd", "netbsd", "sunos", "aix"];
const CPU = ["arm64", "x64", "arm", "ia32", "ppc64", "s390x", "riscv64", "loong64", "mips64el"];

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const packages = lock.packages;
let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const nested = `${path}/node_modules/${name}`;
    if (packages[key] || packages[nested]) continue;
    const parts = name.split("/").pop().split("-");
    const os = parts.find((p) => OS.includes(p));
    const cpu = parts.find((p) => CPU.includes(p));
    if (!os || !cpu) continue; // not a platform package: leave it to npm
    // Keys in the order npm writes them, so that a later `npm install` leaves the file as it is.
    const entry = { version, cpu: [cpu] };
    if (meta.dev) entry.dev = true;
    if (parts.includes("musl")) entry.libc = ["musl"];
    entry.optional = true;
    entry.os = [os];
    packages[key] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform package entr${added === 1 ? "y" : "ies"}`);
