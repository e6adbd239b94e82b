/**
 * The MCP tools, defined once for both transports: a name, what the tool does in words an
 * agent can act on, its input as a zod schema (checked by the MCP server before the tool runs,
 * with messages naming the field), whether it writes (operator rights) or only reads (viewer),
 * and what it does through a backend. Domain rules (a task's name, a claim key, a TTL's range)
 * stay with Overseer, which refuses with its own codes.
 */
import { z } from "zod";
import { RISKS } from "../core/gate-policy.js";
import {
  MAX_LESSON_BODY,
  MAX_LESSON_OUTCOME,
  MAX_LESSON_TAGS,
  MAX_LESSON_TITLE,
  MAX_SIMILAR_LIMIT,
  MAX_SIMILAR_TEXT,
} from "../core/lesson.js";
import { APPROVAL_TASK, COMMAND_TASK } from "../sdk/command-task.js";
import type { McpBackend } from "./backend.js";
import { approvalView, jobView, waitForDecision } from "./wait.js";

/** The longest `wait_for_decision` may wait in one call; agents call again to wait longer. */
export const MAX_WAIT_SECONDS = 600;
export const DEFAULT_WAIT_SECONDS = 60;

export interface McpTool {
  name: string;
  title: string;
  description: string;
  /** True for tools that change something: they need operator rights. */
  writes: boolean;
  input: z.ZodObject;
  run(backend: McpBackend, args: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
}

function tool<S extends z.ZodObject>(definition: {
  name: string;
  title: string;
  description: string;
  writes: boolean;
  input: S;
  run(backend: McpBackend, args: z.output<S>, signal: AbortSignal): Promise<unknown>;
}): McpTool {
  return definition as unknown as McpTool;
}

/** A required string, trimmed, with messages that name the field. */
const text = (field: string, max: number) =>
  z
    .string({ error: `${field} must be a string` })
    .trim()
    .min(1, `${field} must not be empty`)
    .max(max, `${field} must be at most ${max} characters`);

const id = (what: string) => text("id", 100).describe(`The ${what}'s id, as returned when it was created.`);
const risk = z
  .enum(RISKS as [string, ...string[]], { error: `risk must be one of ${RISKS.join(", ")}` })
  .describe(`How risky it is, for the approver and the gate policy: ${RISKS.join(", ")}. Default medium.`);
const testFlag = z
  .boolean({ error: "test must be true or false" })
  .describe("True for a trial request that checks the approval path; approvers are told it is a test.");
const ttl = z
  .union([z.string(), z.number().int()], { error: 'ttl must be a duration such as "30s", "5m", "2h", or milliseconds' })
  .describe('How long the claim is held unless refreshed: "30s", "5m", "2h" or milliseconds; 1s to 24h.');
const owner = text("owner", 200).describe("Who holds the claim: this agent's stable name (1-200 characters).");
const key = text("key", 200).describe(
  "What is claimed, e.g. story:ABC-12: 1-200 letters, digits, '.', '_', ':' or '-', starting with a letter or digit.",
);
const holder = (field: string, what: string) => text(field, 200).optional().describe(what);
const duration = (field: string, what: string) =>
  z
    .union([z.string(), z.number().int().nonnegative()], {
      error: `${field} must be a duration such as "30s" or "5m", or milliseconds`,
    })
    .optional()
    .describe(what);

const enqueueJob = tool({
  name: "enqueue_job",
  title: "Enqueue a job",
  description:
    "Enqueue a job of a task for Overseer's workers to run, and return its id and state. The job is committed when this returns. " +
    "With an idempotencyKey that is still held, the existing job comes back (created: false). " +
    "A task no worker has ever registered is enqueued all the same, with a TASK_NOT_REGISTERED warning: it waits for such a worker.",
  writes: true,
  input: z.strictObject({
    task: text("task", 200).describe(
      "The task's name, as its workers define it (letters, digits, '.', '_', ':', '-').",
    ),
    payload: z.unknown().optional().describe("The job's input, any JSON value; the task's handler receives it."),
    queue: text("queue", 200).optional().describe("The queue it waits in; default the task's or 'default'."),
    priority: z
      .union([z.number().int(), z.enum(["high", "default", "low"])], {
        error: "priority must be a whole number or one of high, default, low",
      })
      .optional()
      .describe("Lower runs first: a whole number, or high (-10), default (0), low (10)."),
    runAt: text("runAt", 64)
      .optional()
      .describe("The earliest time it may start, ISO-8601 (2030-01-01T09:00:00Z); default now."),
    delay: duration("delay", 'Start no sooner than this from now: "30s", "5m", or milliseconds.'),
    maxAttempts: z
      .number({ error: "maxAttempts must be a whole number" })
      .int("maxAttempts must be a whole number")
      .min(1, "maxAttempts must be at least 1")
      .optional()
      .describe("Attempts before the job is dead; default the task's."),
    idempotencyKey: text("idempotencyKey", 512)
      .optional()
      .describe("A second enqueue with this key returns the first job while it is unfinished (and a while after)."),
    concurrencyKey: text("concurrencyKey", 512)
      .optional()
      .describe("Jobs sharing this key share the task's concurrency limit."),
    timeout: duration("timeout", 'How long one attempt may run: "10m", or milliseconds.'),
  }),
  async run(backend, { task, payload, ...options }) {
    const { job, created, warnings } = await backend.enqueue(task, payload, options);
    return { id: job.id, task: job.task, queue: job.queue, state: job.state, runAt: job.runAt, created, warnings };
  },
});

const getJob = tool({
  name: "get_job",
  title: "Get a job",
  description:
    "A job's state (queued, running, awaiting_approval, succeeded, dead, cancelled...), its attempts, its result or last error, " +
    "and its approval requests with their state and outcome (who decided, why).",
  writes: false,
  input: z.strictObject({ id: id("job") }),
  async run(backend, { id }) {
    const [job, approvals] = await Promise.all([backend.getJob(id), backend.jobApprovals(id)]);
    return {
      ...jobView(job),
      queue: job.queue,
      maxAttempts: job.maxAttempts,
      createdAt: job.createdAt,
      finishedAt: job.finishedAt,
      approvals: approvals.map(approvalView),
    };
  },
});

const getRun = tool({
  name: "get_run",
  title: "Get a run's status",
  description:
    "An agent run's status at a glance: its state (queued, running, paused, completed, failed, cancelled...), current turn of its maximum, " +
    "process id, stats (turns, tokens, tests), completion and error.",
  writes: false,
  input: z.strictObject({ id: id("run") }),
  run: (backend, { id }) => backend.runStatus(id),
});

const proposeCommand = tool({
  name: "propose_command",
  title: "Propose a command for approval",
  description:
    `Propose a shell command for a person to approve before it runs: enqueues a job of the built-in task ${COMMAND_TASK}, ` +
    "which shows the command to the approvers (dashboard, CLI, Telegram) and, once approved, records a dry run or runs it " +
    "if the server has execution enabled. Returns the job id at once: call wait_for_decision with it to learn the decision " +
    "and the job's result {decision, decidedBy, reason, executed, dryRun, exitCode?, output?}. You cannot approve your own proposal.",
  writes: true,
  input: z.strictObject({
    command: text("command", 10_000).describe("The command line to run, exactly as it would run."),
    title: text("title", 300).optional().describe("One line for the approver: what the command is for."),
    reason: text("reason", 4_000).optional().describe("Why it is needed now; shown with the request."),
    risk: risk.optional(),
    test: testFlag.optional(),
  }),
  run: (backend, args) => askThrough(backend, COMMAND_TASK, args),
});

const requestApproval = tool({
  name: "request_approval",
  title: "Ask a person for approval",
  description:
    `Ask a person to approve something before you do it: enqueues a job of the built-in task ${APPROVAL_TASK}, which asks ` +
    "the approvers (dashboard, CLI, Telegram) and ends with their answer {approved, decidedBy, reason, timedOut}. " +
    "Returns the job id at once: call wait_for_decision with it. You cannot approve your own request.",
  writes: true,
  input: z.strictObject({
    title: text("title", 300).describe("One line for the approver: what you want to do."),
    details: z.unknown().optional().describe("Anything that helps them decide: text, a diff, a JSON object."),
    risk: risk.optional(),
    test: testFlag.optional(),
  }),
  run: (backend, args) => askThrough(backend, APPROVAL_TASK, args),
});

/**
 * Enqueues the built-in task that asks a person and returns at once with what to wait on. A
 * TASK_NOT_REGISTERED warning says no worker with the task has run yet: nobody is asked until one does.
 */
async function askThrough(backend: McpBackend, task: string, args: object) {
  const { job, created, warnings } = await backend.enqueue(task, args, {});
  return { jobId: job.id, state: job.state, created, warnings, next: "call wait_for_decision with this jobId" };
}

const waitForDecisionTool = tool({
  name: "wait_for_decision",
  title: "Wait for a decision",
  description:
    "Wait until a person has decided the approval a job asked for (propose_command, request_approval) and the job has finished, " +
    `or until timeoutSeconds pass (default ${DEFAULT_WAIT_SECONDS}, at most ${MAX_WAIT_SECONDS}). ` +
    "Returns done, the approval's state and outcome, and the job's state and result. Running out of time is not an error: " +
    "waitTimedOut is true and you may call again.",
  writes: false,
  input: z.strictObject({
    jobId: text("jobId", 100).describe("The job id propose_command or request_approval returned."),
    timeoutSeconds: z
      .number({ error: "timeoutSeconds must be a number of seconds" })
      .int("timeoutSeconds must be a whole number of seconds")
      .min(1, "timeoutSeconds must be at least 1")
      .max(MAX_WAIT_SECONDS, `timeoutSeconds must be at most ${MAX_WAIT_SECONDS}; call again to wait longer`)
      .default(DEFAULT_WAIT_SECONDS)
      .describe(`How long to wait in this call, in seconds: 1-${MAX_WAIT_SECONDS}, default ${DEFAULT_WAIT_SECONDS}.`),
  }),
  run: (backend, { jobId, timeoutSeconds }, signal) => waitForDecision(backend, jobId, timeoutSeconds * 1_000, signal),
});

const decideApproval = tool({
  name: "decide_approval",
  title: "Approve or deny a request",
  description:
    "Approve or deny a pending approval request, as the identity this MCP server acts for (the token, or the local user). " +
    "Overseer checks that it may: it must be among the request's approvers and not the one who asked. " +
    "Returns the request's state and outcome after the decision (a quorum may need more approvals).",
  writes: true,
  input: z.strictObject({
    id: id("approval request"),
    decision: z.enum(["approve", "deny"], { error: "decision must be approve or deny" }).describe("approve or deny."),
    reason: text("reason", 2_000).optional().describe("Why; recorded with the decision and shown to the job."),
  }),
  async run(backend, { id, decision, reason }) {
    return approvalView(await backend.decideApproval(id, decision, reason ?? null));
  },
});

const takeClaim = tool({
  name: "take_claim",
  title: "Take a claim",
  description:
    "Take the claim on a key (a lease with a TTL) so that only this owner works on it, or refresh it if this owner holds it already. " +
    "Refused with CLAIM_HELD (naming the holder) while someone else holds it; an expired claim may be taken over. " +
    "The fencing token grows with every new holder.",
  writes: true,
  input: z.strictObject({
    key,
    owner,
    ttl,
    role: holder("role", "What the holder does here, e.g. reviewer."),
    agent: holder("agent", "Which agent takes it, e.g. claude-code."),
    fingerprint: holder("fingerprint", "What tells this session of the agent from another, e.g. host:pid."),
  }),
  run: (backend, { key, owner, ttl, role, agent, fingerprint }) =>
    backend.takeClaim(key, owner, ttl, { role, agent, fingerprint }),
});

const refreshClaim = tool({
  name: "refresh_claim",
  title: "Refresh a claim",
  description: "Extend the claim its owner holds to now + ttl. CLAIM_NOT_HELD if the owner does not hold it now.",
  writes: true,
  input: z.strictObject({ key, owner, ttl }),
  run: (backend, { key, owner, ttl }) => backend.refreshClaim(key, owner, ttl),
});

const releaseClaim = tool({
  name: "release_claim",
  title: "Release a claim",
  description: "Free the key at once, for its owner. CLAIM_NOT_HELD if the owner does not hold it now.",
  writes: true,
  input: z.strictObject({ key, owner }),
  run: (backend, { key, owner }) => backend.releaseClaim(key, owner),
});

const listClaims = tool({
  name: "list_claims",
  title: "List claims",
  description: "The claims held now, by key: owner, role, agent, fencing token and when each expires.",
  writes: false,
  input: z.strictObject({}),
  run: async (backend) => ({ claims: await backend.listClaims() }),
});

const recordLesson = tool({
  name: "record_lesson",
  title: "Record a lesson",
  description:
    "Record what a finished piece of work taught (what was tried, how it ended), so that the next similar work finds it " +
    "with search_lessons. With a key already used, the first lesson comes back unchanged (created: false).",
  writes: true,
  input: z.strictObject({
    title: text("title", MAX_LESSON_TITLE).describe("What the work was about, one line: 'api 502s after deploy'."),
    outcome: text("outcome", MAX_LESSON_OUTCOME).describe(
      "How it ended, in a few words: 'resolved by rolling back to 1.4.2'.",
    ),
    body: z
      .string({ error: "body must be a string" })
      .max(MAX_LESSON_BODY, `body must be at most ${MAX_LESSON_BODY} characters`)
      .optional()
      .describe("What was tried: the steps, the fix, what did not work."),
    tags: z
      .array(text("tags[]", 64), { error: "tags must be a list of strings" })
      .max(MAX_LESSON_TAGS, `tags may hold at most ${MAX_LESSON_TAGS} tags`)
      .optional()
      .describe("Labels for filtering, e.g. service:api, oom (stored lower-case)."),
    jobId: text("jobId", 100).optional().describe("The job the lesson came from."),
    runId: text("runId", 100).optional().describe("The run the lesson came from."),
    key: text("key", 200).optional().describe("Makes recording idempotent: the same key records one lesson."),
  }),
  run: (backend, lesson) => backend.recordLesson(lesson),
});

const searchLessons = tool({
  name: "search_lessons",
  title: "Search lessons",
  description:
    "Find recorded lessons like a text (what you are about to do) or like a job, best first, each with the words it matched. " +
    "Give text or jobId.",
  writes: false,
  input: z.strictObject({
    text: text("text", MAX_SIMILAR_TEXT).optional().describe("What the new work is about."),
    jobId: text("jobId", 100)
      .optional()
      .describe("Lessons like this job (its task and payload); its own are left out."),
    tags: z
      .array(text("tags[]", 64), { error: "tags must be a list of strings" })
      .optional()
      .describe("Only lessons with all of these tags."),
    limit: z
      .number({ error: "limit must be a whole number" })
      .int("limit must be a whole number")
      .min(1, "limit must be at least 1")
      .max(MAX_SIMILAR_LIMIT, `limit must be at most ${MAX_SIMILAR_LIMIT}`)
      .optional()
      .describe(`How many, 1-${MAX_SIMILAR_LIMIT}; default 5.`),
  }),
  run: async (backend, query) => ({ lessons: await backend.similarLessons(query) }),
});

/** Every tool, in the order a client lists them. */
export const TOOLS: readonly McpTool[] = [
  enqueueJob,
  getJob,
  getRun,
  proposeCommand,
  requestApproval,
  waitForDecisionTool,
  decideApproval,
  takeClaim,
  refreshClaim,
  releaseClaim,
  listClaims,
  recordLesson,
  searchLessons,
];
