/**
 * Loads a tasks folder: each `.js`/`.mjs` module default-exports a handler, and the task name
 * is the file name (`send-sms.mjs` → `send-sms`). A module may also export `defaults`
 * (TaskDefaults). Files starting with `_` or `.` and test files are skipped.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { OverseerError } from "../core/errors.js";
import { defineTask, type TaskDefinition } from "../core/task.js";

const EXTENSIONS = new Set([".js", ".mjs", ".cjs"]);

export async function loadTasksDir(dir: string): Promise<TaskDefinition[]> {
  const root = resolve(dir);
  let entries: string[];
  try {
    if (!statSync(root).isDirectory()) throw new Error("not a folder");
    entries = readdirSync(root).sort();
  } catch (err) {
    throw new OverseerError("TASKS_DIR_INVALID", `cannot read tasks folder "${dir}": ${(err as Error).message}`, {
      dir,
    });
  }
  const tasks: TaskDefinition[] = [];
  for (const file of entries) {
    const ext = extname(file);
    if (!EXTENSIONS.has(ext) || file.startsWith("_") || file.startsWith(".") || /\.test\.[cm]?js$/.test(file)) continue;
    const name = basename(file, ext);
    let mod: { default?: unknown; defaults?: unknown };
    try {
      mod = (await import(pathToFileURL(join(root, file)).href)) as typeof mod;
    } catch (err) {
      throw new OverseerError("TASKS_DIR_INVALID", `cannot load task module "${file}": ${(err as Error).message}`, {
        file,
      });
    }
    if (typeof mod.default !== "function") {
      throw new OverseerError("TASKS_DIR_INVALID", `task module "${file}" must default-export a handler function`, {
        file,
      });
    }
    try {
      tasks.push(defineTask(name, mod.default as TaskDefinition["handler"], (mod.defaults ?? {}) as object));
    } catch (err) {
      throw new OverseerError("TASKS_DIR_INVALID", `task module "${file}": ${(err as Error).message}`, { file });
    }
  }
  if (tasks.length === 0) {
    throw new OverseerError("TASKS_DIR_INVALID", `tasks folder "${dir}" has no task modules (.js or .mjs files)`, {
      dir,
    });
  }
  return tasks;
}
