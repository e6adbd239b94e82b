/**
 * The contract's types are the schemas': a field added to one schema reaches every client type
 * built on it (through `$ref`, pages and details) with no other edit, in the dashboard and in the
 * shipped client (overseer/client) alike. The compile-time half is checked by `npm run
 * typecheck`; the other half runs the TypeScript checker here, on the dashboard's settings and on
 * the package's, over a copy of the contract with one field added.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, expectTypeOf, it } from "vitest";
import type * as Client from "../../client/index.js";
import type { Approval, Job, JobDetail, JobPage, Queue, Run, Stats } from "./index.js";
import type { jobSchema } from "./jobs.js";
import type { Served } from "./schema.js";
import { SHARED_SCHEMAS } from "./shared-schemas.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("the contract's types", () => {
  it("are the schemas' types: listed fields only, nullable and optional as the schema says", () => {
    expectTypeOf<Job>().toEqualTypeOf<Served<typeof jobSchema>>();
    expectTypeOf<Job["state"]>().toEqualTypeOf<
      "scheduled" | "queued" | "running" | "awaiting_approval" | "succeeded" | "dead" | "cancelled"
    >();
    expectTypeOf<Job["finishedAt"]>().toEqualTypeOf<string | null | undefined>();
    expectTypeOf<Job["id"]>().toEqualTypeOf<string>();
    // Fastify's serialiser sends the listed properties only: no index signature to hide a typo.
    expectTypeOf<Job>().not.toHaveProperty("finishedAtt");
    expectTypeOf<JobPage["items"][number]>().toEqualTypeOf<Job>();
    expectTypeOf<JobDetail["job"]>().toEqualTypeOf<Job>();
    expectTypeOf<Run["spec"]["maxTurns"]>().toEqualTypeOf<number>();
    expectTypeOf<Approval["outcome"]>().toBeNullable();
    expectTypeOf<Queue["counts"]["awaiting_approval"]>().toEqualTypeOf<number>();
    expectTypeOf<Stats["queues"]>().toEqualTypeOf<Record<string, Stats["counts"]>>();
    // An open object (an event's data, a run's params) keeps taking any field.
    expectTypeOf<Run["params"]>().toEqualTypeOf<{ [key: string]: unknown }>();
  });

  it("are the shipped client's types", () => {
    expectTypeOf<Client.Job>().toEqualTypeOf<Job>();
    expectTypeOf<Client.JobDetail>().toEqualTypeOf<JobDetail>();
    expectTypeOf<Client.Run>().toEqualTypeOf<Run>();
    expectTypeOf<Client.Approval>().toEqualTypeOf<Approval>();
    expectTypeOf<Client.Queue>().toEqualTypeOf<Queue>();
    expectTypeOf<Client.Stats>().toEqualTypeOf<Stats>();
    expectTypeOf<Awaited<ReturnType<Client.OverseerClient["jobs"]["get"]>>>().toEqualTypeOf<JobDetail>();
  });

  it("register each shared record once, by a unique $id", () => {
    const ids = SHARED_SCHEMAS.map((s) => s.$id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain("Job");
    expect(ids).toContain("ErrorEnvelope");
  });
});

/**
 * Type-checks `probe` as the file `probePath` under the settings of `tsconfig`, with `jobs.ts` of
 * the contract replaced by `jobsSource`.
 */
function diagnostics(tsconfig: string, probePath: string, probe: string, jobsSource: string): string[] {
  const configFile = join(root, tsconfig);
  const config = ts.parseJsonConfigFileContent(
    ts.readConfigFile(configFile, ts.sys.readFile).config,
    ts.sys,
    dirname(configFile),
  );
  const probeFile = join(root, probePath);
  const jobsFile = join(root, "src/http/contract/jobs.ts");
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (file === probeFile ? probe : file === jobsFile ? jobsSource : readFile(file));
  host.fileExists = (file) => file === probeFile || ts.sys.fileExists(file);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError) => {
    const text = file === probeFile ? probe : file === jobsFile ? jobsSource : undefined;
    return text === undefined ? getSourceFile(file, language, onError) : ts.createSourceFile(file, text, language);
  };
  const program = ts.createProgram([probeFile], config.options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
}

/** The contract's jobs.ts with a `labels` field added to the job schema. */
function jobsWithLabels(): string {
  const jobs = readFileSync(join(root, "src/http/contract/jobs.ts"), "utf8");
  const marker = "    id: string,\n    task: string,\n    queue: string,\n";
  expect(jobs, "jobSchema's first properties, where the probe adds one").toContain(marker);
  return jobs.replace(marker, `${marker}    labels: { type: "array", items: string },\n`);
}

describe("a field added to one schema", () => {
  it("reaches the dashboard's types through pages and details, with no other edit", () => {
    const probe = [
      'import type { JobDetail, JobPage } from "../../src/http/contract";',
      "export const fromPage = (page: JobPage): string[] | undefined => page.items[0]?.labels;",
      "export const fromDetail = (detail: JobDetail): string[] | undefined => detail.job.labels;",
      // The checker does check these reads: a field no schema has is an error.
      "export const missing = (detail: JobDetail): unknown => detail.job.labelz;",
    ].join("\n");
    const problems = diagnostics("dashboard/tsconfig.json", "dashboard/src/contract-probe.ts", probe, jobsWithLabels());
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/contract-probe\.ts: Property 'labelz' does not exist/);
  });

  it("reaches the shipped client's answers and the CLI's backend, with no other edit", () => {
    const probe = [
      'import type { Job, OverseerClient } from "../client/index.js";',
      'import { openBackend } from "./backend.js";',
      "export const fromType = (job: Job): string[] | undefined => job.labels;",
      "export const fromDetail = async (c: OverseerClient): Promise<string[] | undefined> =>",
      '  (await c.jobs.get("id")).job.labels;',
      "export const fromPage = async (c: OverseerClient): Promise<string[] | undefined> =>",
      "  (await c.jobs.list()).items[0]?.labels;",
      "export const fromBackend = async (): Promise<string[] | undefined> =>",
      '  (await (await openBackend({})).jobDetail("id")).job.labels;',
      "export const missing = (job: Job): unknown => job.labelz;",
    ].join("\n");
    const problems = diagnostics("tsconfig.json", "src/cli/contract-probe.ts", probe, jobsWithLabels());
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/contract-probe\.ts: Property 'labelz' does not exist/);
  });
});
