/**
 * What `overseer runs ...` does, from the local database (with `--config` for the profiles) or
 * through a server's HTTP API (`--url`), behind one interface, as `backend.ts` does for jobs.
 * Either way a supervisor (`overseer start`) executes the runs; these commands only start, read
 * and steer them.
 */
import { OverseerError, runNotFound } from "../core/errors.js";
import type { Run, RunFilter, RunTurn } from "../core/run.js";
import type { RunControlAction } from "../core/run-state.js";
import { encodeCursor } from "../http/cursor.js";
import type { Overseer, StartRunRequest } from "../sdk/overseer.js";
import { ApiClient } from "./api-client.js";
import { remoteOf } from "./backend.js";
import { type GlobalOptions, loadConfig, openOverseer } from "./context.js";

export interface RunBackend {
  start(request: StartRunRequest): Promise<Run>;
  list(filter: RunFilter & { limit: number }): Promise<Run[]>;
  detail(id: string): Promise<{ run: Run; turns: RunTurn[] }>;
  control(id: string, action: RunControlAction, immediate: boolean): Promise<Run>;
  /** Bytes of a turn's output from `start` on; null when the turn does not exist yet. */
  output(id: string, turn: number, start: number): Promise<{ data: Buffer; size: number } | null>;
  close(): Promise<void>;
}

export async function openRunBackend(options: GlobalOptions): Promise<RunBackend> {
  const remote = remoteOf(options);
  if (remote) return new RemoteRuns(new ApiClient(remote.url, remote.token));
  const config = options.config === undefined ? undefined : await loadConfig(options.config);
  return new LocalRuns(await openOverseer(options, undefined, config));
}

export async function withRunBackend<T>(options: GlobalOptions, fn: (backend: RunBackend) => Promise<T>): Promise<T> {
  const backend = await openRunBackend(options);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

class LocalRuns implements RunBackend {
  constructor(private readonly o: Overseer) {}

  start(request: StartRunRequest) {
    return this.o.startRun(request);
  }
  list(filter: RunFilter & { limit: number }) {
    return this.o.listRuns(filter);
  }
  async detail(id: string) {
    const run = await this.o.getRun(id);
    if (!run) throw runNotFound(id);
    return { run, turns: await this.o.listRunTurns(id) };
  }
  control(id: string, action: RunControlAction, immediate: boolean) {
    return this.o.controlRun(id, action, immediate ? { immediate } : {});
  }
  output(id: string, turn: number, start: number) {
    return this.o.readRunOutput(id, turn, start);
  }
  close() {
    return this.o.close();
  }
}

class RemoteRuns implements RunBackend {
  constructor(private readonly api: ApiClient) {}

  async start(request: StartRunRequest) {
    return (await this.api.request<{ run: Run }>("POST", "/api/v1/runs", request)).run;
  }
  async list(filter: RunFilter & { limit: number }) {
    const params = new URLSearchParams();
    if (filter.states) params.set("state", filter.states.join(","));
    if (filter.profile !== undefined) params.set("profile", filter.profile);
    const cursor = filter.beforeId === undefined ? undefined : encodeCursor(filter.beforeId);
    return this.api.collect<Run>("/api/v1/runs", params, filter.limit, cursor);
  }
  detail(id: string) {
    return this.api.request<{ run: Run; turns: RunTurn[] }>("GET", `/api/v1/runs/${encodeURIComponent(id)}`);
  }
  async control(id: string, action: RunControlAction, immediate: boolean) {
    const body = immediate ? { action, immediate } : { action };
    return (await this.api.request<{ run: Run }>("POST", `/api/v1/runs/${encodeURIComponent(id)}/control`, body)).run;
  }
  async output(id: string, turn: number, start: number) {
    const path = `/api/v1/runs/${encodeURIComponent(id)}/output?turn=${turn}`;
    try {
      const { data, size } = await this.api.bytes(path, start === 0 ? undefined : `bytes=${start}-`);
      return { data, size: size ?? start + data.length };
    } catch (err) {
      if (err instanceof OverseerError && err.code === "RUN_TURN_NOT_FOUND") return null;
      if (err instanceof OverseerError && err.code === "RANGE_NOT_SATISFIABLE") {
        return { data: Buffer.alloc(0), size: Number(err.details.size ?? start) };
      }
      throw err;
    }
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
