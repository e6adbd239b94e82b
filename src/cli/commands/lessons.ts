/** `overseer lessons list|show|similar|delete`: what finished sessions taught (docs/lessons.md). */
import type { Command } from "commander";
import { type Lesson, parseTags } from "../../core/lesson.js";
import { action, globals, parseIntOption, printJson, printLine, printTable } from "../context.js";
import { withLessonBackend } from "../lesson-backend.js";

export function registerLessons(program: Command): void {
  const lessons = program
    .command("lessons")
    .description("list, show, search and delete lessons from finished sessions");

  lessons
    .command("list")
    .description("lessons, newest first")
    .option("--tag <tag>", "only lessons with this tag")
    .option("--job <id>", "only the lessons of this job")
    .option("--limit <n>", "at most this many (1-500)", "50")
    .action(
      action(async (flags: { tag?: string; job?: string; limit: string }, command: Command) => {
        const g = globals(command);
        const filter = {
          limit: parseIntOption(flags.limit, "--limit", 1, 500),
          ...(flags.tag === undefined ? {} : { tag: parseTags([flags.tag], "--tag")[0] as string }),
          ...(flags.job === undefined ? {} : { jobId: flags.job }),
        };
        const list = await withLessonBackend(g, (b) => b.list(filter));
        if (g.json) return printJson(list);
        if (list.length === 0) return printLine("no lessons");
        printTable(
          ["ID", "CREATED", "TITLE", "OUTCOME", "TAGS"],
          list.map((l) => [l.id, l.createdAt, l.title, l.outcome, l.tags.join(",")]),
        );
      }),
    );

  lessons
    .command("show")
    .description("one lesson in full")
    .argument("<id>")
    .action(
      action(async (id: string, _flags, command: Command) => {
        const g = globals(command);
        const lesson = await withLessonBackend(g, (b) => b.get(id));
        if (g.json) return printJson(lesson);
        printLine(describe(lesson));
      }),
    );

  lessons
    .command("similar")
    .description("the lessons most like TEXT (or --job ID), best first, with the words each matched")
    .argument("[text]", "what the new session is about")
    .option("--job <id>", "lessons like this job (its task and payload) instead of TEXT")
    .option("--tags <tags>", "only lessons with all of these comma-separated tags")
    .option("--limit <n>", "at most this many (1-50)", "5")
    .action(
      action(
        async (text: string | undefined, flags: { job?: string; tags?: string; limit: string }, command: Command) => {
          const g = globals(command);
          const query = {
            ...(text === undefined ? {} : { text }),
            ...(flags.job === undefined ? {} : { jobId: flags.job }),
            ...(flags.tags === undefined ? {} : { tags: parseTags(flags.tags.split(","), "--tags") }),
            limit: parseIntOption(flags.limit, "--limit", 1, 50),
          };
          const found = await withLessonBackend(g, (b) => b.similar(query));
          if (g.json) return printJson(found);
          if (found.length === 0) return printLine("no similar lessons");
          // Best first; the scores only compare within one answer (--json has them).
          printTable(
            ["ID", "TITLE", "OUTCOME", "MATCHED"],
            found.map((s) => [
              s.lesson.id,
              s.lesson.title,
              s.lesson.outcome,
              [...s.reason.terms, ...s.reason.tags.map((t) => `#${t}`)].join(", "),
            ]),
          );
        },
      ),
    );

  lessons
    .command("delete")
    .description("delete a lesson")
    .argument("<id>")
    .action(
      action(async (id: string, _flags, command: Command) => {
        const g = globals(command);
        await withLessonBackend(g, (b) => b.delete(id));
        if (g.json) return printJson({ deleted: id });
        printLine(`deleted lesson ${id}`);
      }),
    );
}

function describe(l: Lesson): string {
  const source = l.jobId ? `job ${l.jobId}` : l.runId ? `run ${l.runId}` : "no job or run";
  return [
    `${l.title}`,
    `  outcome: ${l.outcome}`,
    `  tags:    ${l.tags.length > 0 ? l.tags.join(", ") : "none"}`,
    `  from:    ${source}, recorded ${l.createdAt}${l.createdBy ? ` by ${l.createdBy}` : ""}`,
    `  id:      ${l.id}`,
    ...(l.body === "" ? [] : ["", l.body]),
  ].join("\n");
}
