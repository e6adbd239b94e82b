/**
 * What `overseer runs ...` does, from the local database (with `--config` for the profiles) or
 * through a server's HTTP API (`--url`), behind one interface, as `backend.ts` does for jobs.
 * Either way a supervisor (`overseer start`) executes the runs; these commands only start, read
 * and steer them.
 */
import {
  type Approval,
  collect,
  type OverseerClient,
  type Run,
  type RunDetail,
  type RunMessage,
} from "../client/index.js";
import { isOverseerError, runNotFound } from "../core/errors.js";
import type { RunFilter } from "../core/run.js";
import type { RunControlAction } from "../core/run-state.js";
import { encodeCursor } from "../http/cursor.js";
import type { Overseer, StartRunRequest } from "../sdk/overseer.js";
import { closing, type GlobalOptions, loadConfig, openOverseer } from "./context.js";
import { remoteClient } from "./remote.js";

/** The most requests `runs show` lists: a run asks at most once a turn. */
const MAX_REQUESTS = 100;

export interface RunBackend {
  start(request: StartRunRequest): Promise<Run>;
  list(filter: RunFilter & { limit: number }): Promise<Run[]>;
  detail(id: string): Promise<RunDetail>;
  control(id: string, action: RunControlAction, immediate: boolean): Promise<Run>;
  rerun(id: string, params?: Record<string, unknown>): Promise<Run>;
  message(id: string, body: string): Promise<RunMessage>;
  messages(id: string): Promise<RunMessage[]>;
  /** The questions and approvals the run asked: pending first, then settled ones, newest first. */
  requests(id: string): Promise<Approval[]>;
  /** Bytes of a turn's output from `start` on; null when the turn does not exist yet. */
  output(id: string, turn: number, start: number): Promise<{ data: Buffer; size: number } | null>;
  close(): Promise<void>;
}

export async function openRunBackend(options: GlobalOptions): Promise<RunBackend> {
  const client = remoteClient(options);
  if (client) return new RemoteRuns(client);
  const config = options.config === undefined ? undefined : await loadConfig(options.config);
  return new LocalRuns(await openOverseer(options, undefined, config));
}

export async function withRunBackend<T>(options: GlobalOptions, fn: (backend: RunBackend) => Promise<T>): Promise<T> {
  const backend = await openRunBackend(options);
  return closing(backend, fn);
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
    return { run, turns: await this.o.listRunTurns(id), reruns: await this.o.listReruns(id) };
  }
  rerun(id: string, params?: Record<string, unknown>) {
    return this.o.rerunRun(id, params === undefined ? {} : { params });
  }
  control(id: string, action: RunControlAction, immediate: boolean) {
    return this.o.controlRun(id, action, immediate ? { immediate } : {});
  }
  message(id: string, body: string) {
    return this.o.sendRunMessage(id, body);
  }
  messages(id: string) {
    return this.o.listRunMessages(id);
  }
  requests(id: string) {
    return this.o.listApprovals({ runId: id, limit: MAX_REQUESTS });
  }
  output(id: string, turn: number, start: number) {
    return this.o.readRunOutput(id, turn, start);
  }
  close() {
    return this.o.close();
  }
}

class RemoteRuns implements RunBackend {
  constructor(private readonly api: OverseerClient) {}

  start(request: StartRunRequest) {
    return this.api.runs.start(request);
  }
  list(filter: RunFilter & { limit: number }) {
    const cursor = filter.beforeId === undefined ? undefined : encodeCursor(filter.beforeId);
    return collect(
      this.api.runs.all({ state: filter.states, profile: filter.profile }, { limit: filter.limit, cursor }),
    );
  }
  detail(id: string) {
    return this.api.runs.get(id);
  }
  rerun(id: string, params?: Record<string, unknown>) {
    return this.api.runs.rerun(id, params === undefined ? {} : { params });
  }
  control(id: string, action: RunControlAction, immediate: boolean) {
    return this.api.runs.control(id, action, { immediate });
  }
  message(id: string, body: string) {
    return this.api.runs.message(id, body);
  }
  messages(id: string) {
    return this.api.runs.messages(id);
  }
  requests(id: string) {
    return collect(this.api.approvals.all({ runId: id }, { limit: MAX_REQUESTS }));
  }
  async output(id: string, turn: number, start: number) {
    try {
      const { data, size } = await this.api.runs.output(id, turn, start === 0 ? {} : { range: { from: start } });
      return { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), size };
    } catch (err) {
      if (isOverseerError(err, "RUN_TURN_NOT_FOUND")) return null;
      if (isOverseerError(err, "RANGE_NOT_SATISFIABLE")) {
        return { data: Buffer.alloc(0), size: Number(err.details.size ?? start) };
      }
      throw err;
    }
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
