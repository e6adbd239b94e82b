/**
 * /api/v1/runs: start runs from the config's profiles (admin only: a run executes a command on
 * the server), list and read them, steer them (pause, resume, cancel) and read a turn's stored
 * output by byte range. A run's live events are at /runs/:id/events (routes/events.ts).
 */
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { OverseerError, runNotFound } from "../../core/errors.js";
import { RUN_CONTROL_ACTIONS, RUN_STATES, type RunControlAction, type RunState } from "../../core/run-state.js";
import type { Overseer, StartRunRequest } from "../../sdk/overseer.js";
import { BusyGuard } from "../busy.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { errorResponses, pageSchema, ref, runIdParams } from "../schemas.js";
import { etag, expectedVersion } from "../versions.js";

const listQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    state: { type: "string", description: "Comma-separated states, e.g. running,paused." },
    profile: { type: "string", maxLength: 128, description: "Only runs of this profile." },
    limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
    cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
  },
} as const;

const startBody = {
  type: "object",
  description:
    "{profile, params} for a profile of the config file; or, if the config sets runs.allowAdHoc, {command, args, cwd, " +
    "maxTurns, turnTimeout, grace, completion, env, onTurnFailure} as a profile would have them.",
  properties: {
    profile: { type: "string", minLength: 1, maxLength: 128 },
    params: { type: "object", additionalProperties: true },
    command: { type: "string", minLength: 1, maxLength: 4_096 },
  },
} as const;

const controlBody = {
  type: "object",
  required: ["action"],
  additionalProperties: false,
  properties: {
    action: { type: "string", enum: [...RUN_CONTROL_ACTIONS] },
    immediate: {
      type: "boolean",
      description: "pause only: freeze the turn's processes now (SIGSTOP) instead of pausing when the turn ends.",
    },
    version: { type: "integer", minimum: 0, description: "Refuse with 409 if the run is no longer at this version." },
  },
} as const;

const outputQuery = {
  type: "object",
  required: ["turn"],
  additionalProperties: false,
  properties: { turn: { type: "string", pattern: "^[0-9]{1,9}$", description: "The turn, from 1." } },
} as const;

/** 200 and 206 of a turn's output: its bytes as text, streamed. */
function outputResponse(description: string, headers: Record<string, { type: string; description: string }> = {}) {
  return {
    description,
    headers: {
      "accept-ranges": { type: "string", enum: ["bytes"], description: "Byte ranges may be asked for." },
      "x-output-size": { type: "string", pattern: "^[0-9]+$", description: "The bytes stored so far for the turn." },
      ...headers,
    },
    content: { "text/plain": { schema: { type: "string", description: "The turn's output, as it was written." } } },
  };
}

const RANGE = /^bytes=(\d{0,15})-(\d{0,15})$/;

/** `busy`: the server's one guard, shared with the jobs and approvals routes (see busy.ts). */
export function runRoutes(overseer: Overseer, busy: BusyGuard = new BusyGuard()) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/runs/profiles",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["runs"],
          operationId: "listRunProfiles",
          summary: "The run profiles of the config file: what may be started, with the params each takes",
          response: {
            200: {
              type: "object",
              required: ["profiles", "allowAdHoc"],
              properties: {
                profiles: { type: "array", items: { type: "object", additionalProperties: true } },
                allowAdHoc: { type: "boolean" },
              },
            },
            ...errorResponses(401, 403),
          },
        },
      },
      async () => {
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
        }));
        return { profiles, allowAdHoc: config?.allowAdHoc ?? false };
      },
    );

    app.post(
      "/runs",
      {
        config: { scope: "admin" },
        schema: {
          tags: ["runs"],
          operationId: "startRun",
          summary: "Start a run: 202 with the queued run; a supervisor picks it up at once",
          body: startBody,
          response: {
            202: { type: "object", required: ["run"], properties: { run: ref("Run") } },
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request, reply) => {
        const run = await overseer.startRun(request.body as StartRunRequest, {
          createdBy: request.token?.name ?? null,
        });
        reply.header("location", `/api/v1/runs/${run.id}`);
        return reply.code(202).send({ run });
      },
    );

    app.get(
      "/runs",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["runs"],
          operationId: "listRuns",
          summary: "List runs, newest first, one page at a time",
          querystring: listQuery,
          response: {
            200: pageSchema("Run"),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => {
        const query = request.query as { state?: string; profile?: string; limit?: string; cursor?: string };
        const limit = pageLimit(query.limit);
        const runs = await overseer.listRuns({
          states: query.state === undefined ? undefined : parseRunStates(query.state),
          profile: query.profile,
          beforeId: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
          limit: limit + 1,
        });
        return pageOf(runs, limit);
      },
    );

    app.get(
      "/runs/:id",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["runs"],
          operationId: "getRun",
          summary: "A run with its turns",
          params: runIdParams,
          response: {
            200: {
              type: "object",
              required: ["run", "turns"],
              properties: { run: ref("Run"), turns: { type: "array", items: ref("RunTurn") } },
            },
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const [run, turns] = await Promise.all([requireRun(overseer, id), overseer.listRunTurns(id)]);
        reply.header("etag", etag(run.version));
        return { run, turns };
      },
    );

    app.get(
      "/runs/:id/status",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["runs"],
          operationId: "getRunStatus",
          summary: "A run's state and counters, for polling",
          params: runIdParams,
          response: { 200: ref("RunStatus"), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const run = await requireRun(overseer, (request.params as { id: string }).id);
        reply.header("etag", etag(run.version));
        const { id, state, version, currentTurn, pid, stats, completion, error, updatedAt } = run;
        return {
          id,
          state,
          version,
          currentTurn,
          maxTurns: run.spec.maxTurns,
          pid,
          stats,
          completion,
          error,
          updatedAt,
        };
      },
    );

    app.post(
      "/runs/:id/control",
      {
        config: { scope: "operator" },
        schema: {
          tags: ["runs"],
          operationId: "controlRun",
          summary: "Pause (at the end of the turn, or now with immediate), resume or cancel a run",
          description:
            "409 RUN_INVALID_TRANSITION with details.state when the run's state does not allow it. Send the version " +
            "you read in If-Match (or as version) to act only if the run has not changed.",
          params: runIdParams,
          body: controlBody,
          response: {
            200: { type: "object", required: ["run"], properties: { run: ref("Run") } },
            ...errorResponses(400, 401, 403, 404, 409, 429),
          },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        const body = request.body as { action: RunControlAction; immediate?: boolean };
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
      },
    );

    app.get(
      "/runs/:id/output",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["runs"],
          operationId: "getRunOutput",
          summary: "A turn's stored output (telemetry lines excluded), whole or by byte range",
          description:
            "text/plain. Send Range: bytes=START-END (END inclusive; bytes=START- for the rest; bytes=-N for the last N) " +
            "for 206 with Content-Range; 416 RANGE_NOT_SATISFIABLE beyond the end. X-Output-Size is the bytes stored so far.",
          params: runIdParams,
          querystring: outputQuery,
          response: {
            200: outputResponse("The whole output stored so far."),
            206: outputResponse("The bytes of the Range asked for.", {
              "content-range": {
                type: "string",
                description: "bytes START-END/SIZE: which bytes these are (END inclusive) of how many.",
              },
            }),
            ...errorResponses(400, 401, 403, 404, 416),
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const turn = Number((request.query as { turn: string }).turn);
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
          return reply.send(outputStream(overseer, id, turn, 0, size));
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
        return reply.send(outputStream(overseer, id, turn, start, end));
      },
    );
  };
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
