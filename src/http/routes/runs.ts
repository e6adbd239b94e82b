/**
 * /api/v1/runs: start runs from the config's profiles (admin only: a run executes a command on
 * the server), list and read them, steer them (pause, resume, cancel) and read a turn's stored
 * output by byte range. A run's live events are at /runs/:id/events (routes/events.ts).
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply } from "fastify";
import { toBudget, toInputSpec } from "../../config/run-profiles.js";
import { OverseerError, runNotFound } from "../../core/errors.js";
import { type RunFilter, runStatus } from "../../core/run.js";
import { RUN_STATES, type RunState } from "../../core/run-state.js";
import type { Overseer, StartRunRequest } from "../../sdk/overseer.js";
import { BusyGuard } from "../busy.js";
import * as contract from "../contract/runs.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { typed } from "../type-provider.js";
import { etag, expectedVersion } from "../versions.js";

const RANGE = /^bytes=(\d{0,15})-(\d{0,15})$/;

/** `busy`: the server's one guard, shared with the jobs and approvals routes (see busy.ts). */
export function runRoutes(overseer: Overseer, busy: BusyGuard = new BusyGuard()) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/runs/profiles", { config: { scope: "viewer" }, schema: contract.listRunProfiles }, async () => {
      const config = overseer.runs;
      const profiles = Object.entries(config?.profiles ?? {}).map(([name, p]) => ({
        name,
        description: p.description ?? null,
        command: p.command,
        args: p.args,
        params: p.params,
        maxTurns: p.maxTurns,
        turnTimeoutMs: p.turnTimeout,
        graceMs: p.grace,
        completion: p.completion,
        onTurnFailure: p.onTurnFailure,
        telemetry: p.telemetry,
        watch: p.watch,
        onShutdown: p.onShutdown,
        ...(p.input === undefined ? {} : { input: toInputSpec(p.input) }),
        ...(p.budget === undefined ? {} : { budget: toBudget(p.budget) }),
      }));
      return { profiles, allowAdHoc: config?.allowAdHoc ?? false };
    });

    app.post("/runs", { config: { scope: "admin" }, schema: contract.startRun }, async (request, reply) => {
      // The schema checks the fields every request has; the SDK checks the rest against the
      // config's profiles (RUN_PROFILE_NOT_FOUND, INVALID_RUN_PARAMS, AD_HOC_RUNS_DISABLED).
      const run = await overseer.startRun(request.body as StartRunRequest, {
        createdBy: request.token?.name ?? null,
      });
      reply.header("location", `/api/v1/runs/${run.id}`);
      return reply.code(202).send({ run });
    });

    app.get("/runs", { config: { scope: "viewer" }, schema: contract.listRuns }, async (request) => {
      const query = request.query;
      const limit = pageLimit(query.limit);
      const runs = await overseer.listRuns({
        ...toRunFilter(query),
        beforeId: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
        limit: limit + 1,
      });
      return pageOf(runs, limit);
    });

    app.get("/runs/count", { config: { scope: "viewer" }, schema: contract.countRuns }, async (request) => {
      // One more than the cap tells "exactly the cap" from "more than it".
      const n = await overseer.countMatchingRuns(toRunFilter(request.query), contract.RUN_COUNT_CAP + 1);
      return { count: Math.min(n, contract.RUN_COUNT_CAP), capped: n > contract.RUN_COUNT_CAP };
    });

    app.get("/runs/:id", { config: { scope: "viewer" }, schema: contract.getRun }, async (request, reply) => {
      const { id } = request.params;
      const [run, turns, reruns] = await Promise.all([
        requireRun(overseer, id),
        overseer.listRunTurns(id),
        overseer.listReruns(id),
      ]);
      reply.header("etag", etag(run.version));
      return { run, turns, reruns };
    });

    app.get(
      "/runs/:id/status",
      { config: { scope: "viewer" }, schema: contract.getRunStatus },
      async (request, reply) => {
        const run = await requireRun(overseer, request.params.id);
        reply.header("etag", etag(run.version));
        return runStatus(run);
      },
    );

    app.post("/runs/:id/control", { config: { scope: "operator" }, schema: contract.controlRun }, async (request) => {
      const { id } = request.params;
      const body = request.body;
      if (body.immediate !== undefined && body.action !== "pause") {
        throw new OverseerError("INVALID_ARGUMENT", "immediate applies to pause only", { field: "immediate" });
      }
      const version = expectedVersion(request);
      const run = await busy.run([`run:${id}`], () =>
        overseer.controlRun(id, body.action, {
          immediate: body.immediate,
          expectedVersion: version,
          by: request.token?.name ?? null,
        }),
      );
      return { run };
    });

    app.post("/runs/:id/rerun", { config: { scope: "admin" }, schema: contract.rerunRun }, async (request, reply) => {
      const body = request.body ?? {};
      const run = await overseer.rerunRun(request.params.id, body.params === undefined ? {} : { params: body.params }, {
        createdBy: request.token?.name ?? null,
      });
      reply.code(202);
      return { run };
    });

    app.post(
      "/runs/:id/messages",
      { config: { scope: "operator" }, schema: contract.sendRunMessage },
      async (request, reply) => {
        const message = await overseer.sendRunMessage(request.params.id, request.body.body, {
          sentBy: request.token?.name ?? null,
        });
        reply.code(201);
        return { message };
      },
    );

    app.get(
      "/runs/:id/messages",
      { config: { scope: "viewer" }, schema: contract.listRunMessages },
      async (request) => ({ items: await overseer.listRunMessages(request.params.id) }),
    );

    app.get(
      "/runs/:id/output",
      { config: { scope: "viewer" }, schema: contract.getRunOutput },
      async (request, reply) => {
        const { id } = request.params;
        const turn = Number(request.query.turn);
        const range = parseRange(request.headers.range);
        const head = await overseer.readRunOutput(id, turn, 0, 0);
        if (head === null) {
          await requireRun(overseer, id);
          throw new OverseerError("RUN_TURN_NOT_FOUND", `run ${id} has no turn ${turn}`, { id, turn });
        }
        const size = head.size;
        reply.header("content-type", "text/plain; charset=utf-8");
        reply.header("accept-ranges", "bytes");
        reply.header("x-output-size", String(size));
        // No range, or the last N bytes of nothing: the whole output.
        if (range === null || (range.suffix && size === 0)) {
          reply.header("content-length", String(size));
          return sendStream(reply, outputStream(overseer, id, turn, 0, size));
        }
        const start = range.suffix ? Math.max(0, size - range.length) : range.start;
        const end = range.suffix ? size : Math.min(size, range.end === null ? size : range.end + 1);
        if (start >= size) {
          reply.header("content-range", `bytes */${size}`);
          throw new OverseerError(
            "RANGE_NOT_SATISFIABLE",
            `the range starts at ${start} but the output has ${size} bytes`,
            {
              size,
            },
          );
        }
        reply.code(206).header("content-range", `bytes ${start}-${end - 1}/${size}`);
        reply.header("content-length", String(end - start));
        return sendStream(reply, outputStream(overseer, id, turn, start, end));
      },
    );
  };
}

/**
 * Sends a turn's bytes as the store yields them: the text/plain answer of the schema, which the
 * contract's types (JSON answers) do not describe.
 */
function sendStream(reply: FastifyReply, stream: Readable): FastifyReply {
  return reply.send(stream);
}

/** How much of a turn's output one read takes from the store while streaming it. */
const OUTPUT_READ_BYTES = 1 << 20;

/**
 * Bytes [start, end) of a turn's stored output as a stream, read from the store 1 MiB at a time
 * as the client takes them, so a turn of many megabytes is never held in memory whole. `end` is
 * the size when the request came: output a running turn adds meanwhile is not sent.
 */
function outputStream(overseer: Overseer, id: string, turn: number, start: number, end: number): Readable {
  return Readable.from(
    (async function* () {
      for (let at = start; at < end; ) {
        const part = await overseer.readRunOutput(id, turn, at, Math.min(end, at + OUTPUT_READ_BYTES));
        if (part === null || part.data.length === 0) return;
        yield part.data;
        at += part.data.length;
      }
    })(),
    { objectMode: false },
  );
}

async function requireRun(overseer: Overseer, id: string) {
  const run = await overseer.getRun(id);
  if (!run) throw runNotFound(id);
  return run;
}

/** A listing's or a count's query string as the store's filter, times as epoch ms. */
function toRunFilter(query: {
  state?: string;
  profile?: string;
  createdAfter?: string;
  createdBefore?: string;
}): RunFilter {
  const filter: RunFilter = {};
  if (query.state !== undefined) filter.states = parseRunStates(query.state);
  if (query.profile !== undefined) filter.profile = query.profile;
  for (const field of ["createdAfter", "createdBefore"] as const) {
    const value = query[field];
    if (value === undefined) continue;
    const ms = Date.parse(value);
    if (!Number.isFinite(ms)) {
      throw new OverseerError("INVALID_ARGUMENT", `${field} must be an ISO-8601 time; got "${value}"`, { field });
    }
    filter[field] = ms;
  }
  return filter;
}

function parseRunStates(text: string): RunState[] {
  const states = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of states) {
    if (!(RUN_STATES as readonly string[]).includes(s)) {
      throw new OverseerError(
        "INVALID_STATE_FILTER",
        `unknown run state "${s}"; the states are ${RUN_STATES.join(", ")}`,
        {
          field: "state",
        },
      );
    }
  }
  return states as RunState[];
}

type ByteRange = { suffix: false; start: number; end: number | null } | { suffix: true; length: number };

/** `bytes=a-b`, `bytes=a-` or `bytes=-n`; null without a header. One range only. */
function parseRange(header: string | undefined): ByteRange | null {
  if (header === undefined) return null;
  const match = RANGE.exec(header.trim());
  const bad = () =>
    new OverseerError(
      "INVALID_ARGUMENT",
      `Range must be bytes=START-END, bytes=START- or bytes=-N; got ${JSON.stringify(header)}`,
      {
        field: "Range",
      },
    );
  if (!match) throw bad();
  const [, a = "", b = ""] = match;
  if (a === "" && b === "") throw bad();
  if (a === "") return { suffix: true, length: Number(b) };
  const start = Number(a);
  const end = b === "" ? null : Number(b);
  if (end !== null && end < start) throw bad();
  return { suffix: false, start, end };
}
