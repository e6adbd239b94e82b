/**
 * What `overseer approvals ...` does, from the local database or through a server's HTTP API
 * (`--url`), behind one interface, as `claim-backend.ts` does for claims. Either way the store
 * decides who may decide. Locally the decider is the local user (`--as NAME`, else `$USER`),
 * with the groups the config file (`--config`) lists them in; remotely it is the token, and the
 * server says who that is.
 */
import {
  type Approval,
  type ApprovalDetail,
  type ApprovalState,
  collect,
  type OverseerClient,
} from "../client/index.js";
import { OverseerError } from "../core/errors.js";
import type { Overseer } from "../sdk/overseer.js";
import { closing, type GlobalOptions, loadConfig, openOverseer } from "./context.js";
import { refuseAsWithUrl, remoteClient } from "./remote.js";

export interface ApprovalListQuery {
  states?: ApprovalState[];
  jobId?: string;
  runId?: string;
  limit: number;
}

export interface ApprovalBackend {
  list(query: ApprovalListQuery): Promise<Approval[]>;
  detail(id: string): Promise<ApprovalDetail>;
  decide(id: string, decision: "approve" | "deny", reason: string | null): Promise<Approval>;
  close(): Promise<void>;
}

export async function withApprovalBackend<T>(
  options: GlobalOptions & { as?: string },
  fn: (backend: ApprovalBackend) => Promise<T>,
): Promise<T> {
  refuseAsWithUrl(options, "the server decides who you are from the token");
  const client = remoteClient(options);
  let backend: ApprovalBackend;
  if (client) backend = new RemoteApprovals(client);
  else {
    const config = options.config === undefined ? undefined : await loadConfig(options.config);
    backend = new LocalApprovals(await openOverseer(options, undefined, config), options.as);
  }
  return closing(backend, fn);
}

/** `--as NAME`, else `$USER`: who decides in local mode. */
export function localUser(as: string | undefined): string {
  const name = (as ?? process.env.USER ?? process.env.LOGNAME ?? "").trim();
  if (name === "" || name.length > 128 || /[\s\p{Cc}]/u.test(name)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      as === undefined
        ? "cannot tell who you are: $USER is not set; name yourself with --as NAME"
        : "--as must be 1-128 characters without spaces or control characters",
      { field: "as" },
    );
  }
  return name;
}

class LocalApprovals implements ApprovalBackend {
  constructor(
    private readonly o: Overseer,
    /** `--as`; only deciding needs to know who you are. */
    private readonly as: string | undefined,
  ) {}

  list(query: ApprovalListQuery) {
    return this.o.listApprovals(query);
  }
  detail(id: string) {
    return this.o.getApprovalDetail(id);
  }
  decide(id: string, decision: "approve" | "deny", reason: string | null) {
    // Whoever can open the database can operate: the local user decides as themselves.
    const decider = this.o.deciderFor(localUser(this.as), true);
    return this.o.decideApproval(id, { decision, reason, channel: "cli" }, decider);
  }
  close() {
    return this.o.close();
  }
}

class RemoteApprovals implements ApprovalBackend {
  constructor(private readonly api: OverseerClient) {}

  list(query: ApprovalListQuery) {
    return collect(
      this.api.approvals.all({ state: query.states, jobId: query.jobId, runId: query.runId }, { limit: query.limit }),
    );
  }
  detail(id: string) {
    return this.api.approvals.get(id);
  }
  async decide(id: string, decision: "approve" | "deny", reason: string | null) {
    const asked = { decision, channel: "cli" as const, ...(reason === null ? {} : { reason }) };
    return (await this.api.approvals.decide(id, asked)).approval;
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
