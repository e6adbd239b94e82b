/**
 * Linux process-group helpers for turns: each turn's command leads its own process group, so
 * the group id is the leader's pid and signals reach everything it started (unless something
 * left the group with setsid, which /proc cannot tell us about). Zombies count as gone: they
 * run no code, and PID 1 in a container may never reap an orphan.
 */
import { readdirSync, readFileSync } from "node:fs";

interface ProcStat {
  state: string;
  pgrp: number;
}

/** `/proc/<pid>/stat`, or null when the process is gone (or was never there). */
function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    // The process exited between readdir and read: that is the answer, not a failure.
    if (isCode(err, "ENOENT") || isCode(err, "ESRCH")) return null;
    throw err;
  }
  // The command name is in parentheses and may itself hold spaces and ')': fields follow the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const pgrp = Number(fields[2]);
  if (fields[0] === undefined || !Number.isInteger(pgrp)) return null;
  return { state: fields[0], pgrp };
}

/** Whether `pid` is a live process (a zombie is not). */
export function processAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== "Z";
}

/** Pids of the live (non-zombie) processes in group `pgid`, in /proc order. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (stat !== null && stat.pgrp === pgid && stat.state !== "Z") members.push(pid);
  }
  return members;
}

/** Sends `signal` to every process in group `pgid`; returns false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`refusing to signal process group ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if (isCode(err, "ESRCH")) return false;
    throw err;
  }
}

/** Polls until group `pgid` has no live member; resolves false if some are left after `timeoutMs`. */
export async function waitGroupGone(pgid: number, timeoutMs: number, pollMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (groupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
  }
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as NodeJS.ErrnoException).code === code;
}
