/**
 * Reading and writing the files of a run's working folder that Overseer itself touches (a
 * template's `{{file:...}}`, watched files, the `file` input), safely against what an agent or a
 * checked-out repository may have put there: only a regular file reached without a symbolic link
 * (at any level) and inside the real working folder is read or written. A symlink, a named pipe
 * (which would block the read until a writer came), a device or a folder reads as absent, and is
 * never written through.
 */
import { closeSync, constants, mkdirSync, openSync, realpathSync, writeSync } from "node:fs";
import { open, realpath } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { completePrefixLength, cutAtOrAfter } from "../../core/utf8-boundary.js";

/** A window of a file: its text from byte `start` (cut between characters) and the file's size. */
export interface FileWindow {
  text: string;
  /** Byte offset of `text` in the file. */
  start: number;
  size: number;
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

const inside = (root: string, path: string): boolean => path === root || path.startsWith(root + sep);

/**
 * `length` bytes of `cwd/rel` from byte `from` (default: its last `length` bytes), or null when
 * it is absent or not a regular file inside the real working folder.
 */
export async function readInside(
  cwd: string,
  rel: string,
  options: { length: number; from?: number },
): Promise<FileWindow | null> {
  let path: string;
  try {
    const root = await realpath(cwd);
    const folder = await realpath(dirname(resolve(cwd, rel)));
    if (!inside(root, folder)) return null;
    path = join(folder, basename(rel));
  } catch {
    return null;
  }
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, READ_FLAGS);
  } catch {
    return null; // absent, a symlink (ELOOP), not readable
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile()) return null;
    const size = stat.size;
    const from = Math.min(size, options.from ?? Math.max(0, size - options.length));
    const bytes = Buffer.alloc(Math.min(options.length, size - from));
    const { bytesRead } = await file.read(bytes, 0, bytes.length, from);
    const read = bytes.subarray(0, bytesRead);
    // Cut between characters at both ends: a window may start or stop inside one.
    const skip = from > 0 ? cutAtOrAfter(read, 0) : 0;
    const end = from + bytesRead < size ? completePrefixLength(read) : read.length;
    return { text: read.subarray(skip, Math.max(skip, end)).toString("utf8"), start: from + skip, size };
  } catch {
    return null;
  } finally {
    await file.close();
  }
}

/** Writes `cwd/rel` (its folders made as needed), refusing a path that leaves the real working folder or is a symlink. */
export function writeInside(cwd: string, rel: string, text: string): void {
  const full = resolve(cwd, rel);
  mkdirParents(dirname(full));
  const root = realpathSync(cwd);
  const folder = realpathSync(dirname(full));
  if (!inside(root, folder)) throw new Error(`${rel} is outside the working folder (through a symbolic link)`);
  let fd: number;
  try {
    fd = openSync(join(folder, basename(full)), WRITE_FLAGS, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw new Error(`${rel} is a symbolic link: not written`);
    throw err;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * `mkdir -p`. Not `mkdirSync(path, { recursive: true })`: on Node 20 that spins forever on a path
 * whose parent refuses new entries with ENOENT (any path under /proc), which would hang the supervisor.
 */
export function mkdirParents(path: string): void {
  const parts = resolve(path)
    .split(sep)
    .filter((p) => p !== "");
  let current: string = sep;
  for (const part of parts) {
    current = join(current, part);
    try {
      mkdirSync(current);
    } catch (err) {
      // Exists already (as a directory, or the next step fails with ENOTDIR): go on.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
}
