/**
 * A run: the request it waits on, if any (answered or decided right here), its facts (state,
 * params, turn, tokens, completion or error), the control buttons its state allows, its live
 * output, its messages and settled requests, the files it touched, its test results and token
 * use per turn, what each turn changed in the files it watches, and its turns. Everything live
 * comes from the run's own event stream, which replays the run's history first, so the page shows
 * the same whether opened at the start or in the middle.
 */
import { useEffect, useMemo, useState } from "react";
import { describeBudget } from "../../../src/core/run-budget";
import {
  FINISHED_RUN_STATES,
  type OverseerEvent,
  type Run,
  type RunDetail,
  type RunTurn,
  type Whoami,
} from "../../../src/http/contract";
import { api } from "../api/client";
import { runEventStream, type StreamStatus } from "../api/event-stream";
import { ActionButton, bytes, count, ErrorNote, Loading, Section, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { RunMessages } from "../components/run-messages";
import { applyOutput, emptyOutput, fillGap, RunOutput } from "../components/run-output";
import { RunPendingRequests, RunSettledRequests, useRunRequests } from "../components/run-requests";
import { TurnChart, type TurnTokens } from "../components/turn-chart";
import { type WatchedChange, WatchedChanges, watchedChange } from "../components/watched-changes";
import { useLive } from "../hooks";
import { Link, navigate } from "../router";
import { controlBody, controlRefusal, RUN_CONTROLS } from "../run-control";
import { deniedReason } from "../session";
import { span } from "./job-detail";

interface FileTouch {
  seq: number;
  turn: number;
  path: string;
  action: "read" | "written" | "deleted" | "log updated";
  tail?: string;
}

interface TestRun {
  seq: number;
  turn: number;
  /** null while it runs. */
  result: { passed: number; failed: number; skipped: number } | null;
}

/** What the run's non-output events add up to. */
interface Activity {
  seq: number;
  files: FileTouch[];
  tests: TestRun[];
  tokens: TurnTokens[];
  /** What each turn did to the watched files, oldest first. */
  watched: WatchedChange[];
  progress: { turn: number; value: unknown; message?: string } | null;
  /** Its events other than output, newest last. */
  events: OverseerEvent[];
}

const KEEP_FILES = 500;
const KEEP_EVENTS = 300;
/** Each diff is at most 4,000 characters: these are at most 1.6 million. */
const KEEP_WATCHED = 400;

const emptyActivity = (): Activity => ({
  seq: -1,
  files: [],
  tests: [],
  tokens: [],
  watched: [],
  progress: null,
  events: [],
});

const FILE_ACTIONS: Record<string, FileTouch["action"]> = {
  "run.file_read": "read",
  "run.file_written": "written",
  "run.file_deleted": "deleted",
  "run.log_updated": "log updated",
};

function applyActivity(state: Activity, events: readonly OverseerEvent[]): Activity {
  const fresh = events.filter((e) => e.seq > state.seq && e.kind !== "run.output");
  const last = events.at(-1);
  if (fresh.length === 0) return last && last.seq > state.seq ? { ...state, seq: last.seq } : state;
  let { files, tests, tokens, watched, progress } = state;
  for (const e of fresh) {
    const data = (e.data ?? {}) as Record<string, any>;
    const turn = typeof data.turn === "number" ? data.turn : 0;
    const action = FILE_ACTIONS[e.kind];
    const change = watchedChange(e);
    if (change) watched = [...watched, change].slice(-KEEP_WATCHED);
    if (action && typeof data.path === "string") {
      // One row per path, action and turn: an agent rewriting a file ten times is one row. The
      // agent's tail stays when Overseer's own report of a watched file (no tail) comes after it.
      const same = (f: FileTouch) => f.path === data.path && f.action === action && f.turn === turn;
      const tail = typeof data.tail === "string" ? data.tail : files.find(same)?.tail;
      files = [...files.filter((f) => !same(f)), { seq: e.seq, turn, path: data.path, action, tail }].slice(
        -KEEP_FILES,
      );
    } else if (e.kind === "run.test_run_started") {
      tests = [...tests, { seq: e.seq, turn, result: null }];
    } else if (e.kind === "run.test_run_completed") {
      const result = { passed: data.passed ?? 0, failed: data.failed ?? 0, skipped: data.skipped ?? 0 };
      const open = tests.findLastIndex((t) => t.turn === turn && t.result === null);
      tests =
        open === -1
          ? [...tests, { seq: e.seq, turn, result }]
          : tests.map((t, i) => (i === open ? { ...t, result } : t));
    } else if (e.kind === "run.token_usage") {
      const input = Number(data.input) || 0;
      const output = Number(data.output) || 0;
      const at = tokens.findIndex((t) => t.turn === turn);
      tokens =
        at === -1
          ? [...tokens, { turn, input, output }].sort((a, b) => a.turn - b.turn)
          : tokens.map((t, i) => (i === at ? { turn, input: t.input + input, output: t.output + output } : t));
    } else if (e.kind === "run.progress") {
      progress = { turn, value: data.value, message: data.message };
    }
  }
  return {
    seq: Math.max(state.seq, last?.seq ?? -1),
    files,
    tests,
    tokens,
    watched,
    progress,
    events: [...state.events, ...fresh].slice(-KEEP_EVENTS),
  };
}

const time = (iso: string | null) => (iso ? iso.replace("T", " ").replace("Z", "") : "—");

function turnColumns(runId: string): Column<RunTurn>[] {
  return [
    { header: "Turn", className: "num", cell: (t) => t.turn },
    { header: "Outcome", cell: (t) => <StateBadge state={t.outcome} /> },
    {
      header: "Exit",
      className: "num",
      cell: (t) => (t.signal ? t.signal : t.exitCode === null ? "—" : String(t.exitCode)),
    },
    {
      header: "Took",
      className: "num",
      cell: (t) => (t.finishedAt ? span(Date.parse(t.finishedAt) - Date.parse(t.startedAt)) : "running"),
    },
    {
      header: "Output",
      className: "num",
      cell: (t) => (
        <Link href={`/runs/${runId}/output/${t.turn}`} title={`the full output of turn ${t.turn}`}>
          {bytes(t.outputBytes)}
        </Link>
      ),
    },
    { header: "Started", cell: (t) => time(t.startedAt) },
    { header: "PID", className: "num", cell: (t) => t.pid ?? "—" },
  ];
}

const fileColumns: Column<FileTouch>[] = [
  {
    header: "Path",
    cell: (f) => (
      <code className="clip" title={f.tail ? `${f.path}\n…${f.tail.slice(-400)}` : f.path}>
        {f.path}
      </code>
    ),
  },
  { header: "Action", cell: (f) => <span className={`badge file-${f.action.replace(" ", "-")}`}>{f.action}</span> },
  { header: "Turn", className: "num", cell: (f) => f.turn },
];

const testColumns: Column<TestRun>[] = [
  { header: "Turn", className: "num", cell: (t) => t.turn },
  { header: "Passed", className: "num", cell: (t) => (t.result ? t.result.passed : "…") },
  {
    header: "Failed",
    className: "num",
    cell: (t) => (t.result ? <span className={t.result.failed > 0 ? "error" : ""}>{t.result.failed}</span> : "…"),
  },
  { header: "Skipped", className: "num", cell: (t) => (t.result ? t.result.skipped : "…") },
  {
    header: "Result",
    cell: (t) =>
      t.result === null ? (
        <span className="muted">running</span>
      ) : t.result.failed > 0 ? (
        <span className="badge state-failed">failed</span>
      ) : (
        <span className="badge state-completed">passed</span>
      ),
  },
];

const eventColumns: Column<OverseerEvent>[] = [
  { header: "Seq", className: "num seq", cell: (e) => e.seq },
  { header: "At", className: "at", cell: (e) => e.at.slice(11, 23) },
  { header: "Kind", className: "kind", cell: (e) => e.kind },
  { header: "Data", cell: (e) => (e.data === undefined ? "" : JSON.stringify(e.data)) },
];

function ProgressValue({ progress }: { progress: Activity["progress"] }) {
  if (!progress) return <span className="muted">none reported</span>;
  const { value, message } = progress;
  const shown =
    typeof value === "number" && Number.isFinite(value)
      ? `${Math.round(value <= 1 ? value * 100 : Math.min(100, value))}%`
      : JSON.stringify(value);
  return (
    <span>
      {shown}
      {message ? ` · ${message}` : ""} <span className="muted">(turn {progress.turn})</span>
    </span>
  );
}

export function RunDetailPage({ id, who }: { id: string; who: Whoami }) {
  const stream = useMemo(() => runEventStream(id), [id]);
  // The facts reload on the shared stream, as every page's do (and so its status in the top bar
  // stays true); the run's own stream below brings the output and telemetry, history first.
  const { data, error, reload } = useLive<RunDetail>(
    id,
    (signal) => api<RunDetail>(`/runs/${encodeURIComponent(id)}`, { signal }),
    (e) => e.runId === id && e.kind !== "run.output",
    300,
  );
  const requests = useRunRequests(id);
  const [output, setOutput] = useState(emptyOutput);
  const [activity, setActivity] = useState(emptyActivity);
  const [status, setStatus] = useState<StreamStatus>("connecting");
  useEffect(() => {
    const unsubscribe = stream.subscribe((batch) => {
      setOutput((held) => applyOutput(held, batch));
      setActivity((held) => applyActivity(held, batch));
    });
    const unwatch = stream.onStatus(setStatus);
    return () => {
      unsubscribe();
      unwatch();
    };
  }, [stream]);

  const run = data?.run;
  const denied = deniedReason(who, "controlRun");
  const control = (body: ReturnType<typeof controlBody>) => async () => {
    const answer = await api<{ run: Run }>(`/runs/${encodeURIComponent(id)}/control`, { method: "POST", body });
    return `${body.action}${body.immediate ? " now" : ""}: now ${answer.run.state}`;
  };
  const finished = run ? FINISHED_RUN_STATES.includes(run.state) : false;

  return (
    <>
      <p>
        <Link href="/runs">← Runs</Link>
      </p>
      <h1>
        Run <code>{id}</code>
      </h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="the run" />}
      {run && data && (
        <>
          {/* The controls first, so that a phone shows them without scrolling. */}
          <div className="toolbar" role="toolbar" aria-label="run actions">
            {RUN_CONTROLS.map(({ control: c, label }) => (
              <ActionButton
                key={c}
                label={label}
                denied={null}
                unavailable={denied ?? controlRefusal(run.state, c)}
                run={control(controlBody(c))}
                onDone={reload}
              />
            ))}
            <ActionButton
              label="Rerun"
              denied={deniedReason(who, "rerunRun")}
              unavailable={finished ? null : "only a finished run can be rerun"}
              run={async () => {
                const answer = await api<{ run: Run }>(`/runs/${encodeURIComponent(id)}/rerun`, {
                  method: "POST",
                  body: {},
                });
                navigate(`/runs/${answer.run.id}`);
                return `started ${answer.run.id}`;
              }}
            />
            {denied && <span className="muted">Controlling a run {denied}</span>}
          </div>
          {/* One line, always there: what ended the run, or nothing yet. */}
          <p className="run-ending" data-testid="run-ending">
            {run.completion.detected ? (
              <span className="ok">
                Completed by {run.completion.detected.replace("_", " ")}
                {run.completion.line ? `: ${run.completion.line}` : ""}
                {run.completion.turn !== null ? ` (turn ${run.completion.turn})` : ""}
              </span>
            ) : run.error ? (
              <span className="error">
                {run.error.code}: {run.error.message} ({run.error.retryable ? "retryable" : "not retryable"})
              </span>
            ) : finished ? (
              <span className="muted">Finished ({run.state}).</span>
            ) : null}
          </p>
          <RunPendingRequests
            requests={requests.data?.items ?? []}
            who={who}
            onDone={() => {
              requests.reload();
              reload();
            }}
          />
          <dl className="facts">
            <dt>State</dt>
            <dd data-testid="run-state">
              <StateBadge state={run.state} />
            </dd>
            <dt>Profile</dt>
            <dd>{run.profile ?? <span className="muted">ad hoc</span>}</dd>
            {run.rerunOf && (
              <>
                <dt>Rerun of</dt>
                <dd>
                  <Link href={`/runs/${run.rerunOf}`}>
                    <code>{run.rerunOf}</code>
                  </Link>
                </dd>
              </>
            )}
            {data.reruns.length > 0 && (
              <>
                <dt>Reruns</dt>
                <dd data-testid="run-reruns">
                  {data.reruns.map((r) => (
                    <Link key={r} href={`/runs/${r}`}>
                      <code>{r}</code>{" "}
                    </Link>
                  ))}
                </dd>
              </>
            )}
            <dt>Turn</dt>
            <dd data-testid="run-turn">
              {run.currentTurn} of {run.spec.maxTurns}
            </dd>
            <dt>PID</dt>
            <dd>{run.pid ?? "—"}</dd>
            <dt>Tokens</dt>
            <dd data-testid="run-tokens">
              {count(run.stats.tokens.input + run.stats.tokens.output)}{" "}
              <span className="muted">
                ({count(run.stats.tokens.input)} in, {count(run.stats.tokens.output)} out)
              </span>
            </dd>
            {run.spec.budget && (
              <>
                <dt>Budget</dt>
                <dd data-testid="run-budget">{describeBudget(run.spec.budget, run.stats)}</dd>
              </>
            )}
            <dt>Output</dt>
            <dd>{bytes(run.stats.outputBytes)}</dd>
            <dt>Params</dt>
            <dd>
              <code className="clip" title={JSON.stringify(run.params, null, 2)}>
                {JSON.stringify(run.params)}
              </code>
            </dd>
            <dt>Progress</dt>
            <dd>
              <ProgressValue progress={activity.progress} />
            </dd>
            <dt>Tests</dt>
            <dd>
              {run.stats.tests.runs === 0
                ? "none run"
                : `${run.stats.tests.runs} runs; last ${run.stats.tests.last?.passed ?? 0} passed, ${run.stats.tests.last?.failed ?? 0} failed`}
            </dd>
            <dt>Created</dt>
            <dd>{time(run.createdAt)}</dd>
            <dt>Finished</dt>
            <dd>{time(run.finishedAt)}</dd>
            <dt>Version</dt>
            <dd>{run.version}</dd>
          </dl>
          <Section
            title="Output, live"
            actions={
              <span className={`muted stream-state stream-${status}`} data-testid="run-stream">
                {status === "ended" ? "stream ended: the run has finished" : status}
              </span>
            }
          >
            <RunOutput
              runId={id}
              output={output}
              onFill={(gapKey, text) => setOutput((held) => fillGap(held, gapKey, text))}
            />
          </Section>
          <Section title="Messages">
            <RunMessages run={run} denied={deniedReason(who, "messageRun")} />
          </Section>
          <Section title="Questions and approvals">
            <ErrorNote error={requests.error} />
            {requests.data ? (
              <RunSettledRequests requests={requests.data.items} />
            ) : (
              !requests.error && <Loading what="the run's requests" />
            )}
          </Section>
          <div className="two-col">
            <Section title="Tokens per turn">
              <TurnChart label="Tokens per turn" turns={activity.tokens} />
            </Section>
            <Section title="Tests">
              <div className="run-box">
                <DataTable
                  label="test results"
                  rows={[...activity.tests].reverse()}
                  columns={testColumns}
                  rowKey={(t) => String(t.seq)}
                  empty="No test runs reported."
                />
              </div>
            </Section>
          </div>
          <Section title="Files touched">
            <div className="run-box">
              <DataTable
                label="files touched"
                rows={[...activity.files].reverse()}
                columns={fileColumns}
                rowKey={(f) => `${f.path}|${f.action}|${f.turn}`}
                empty="No files reported."
              />
            </div>
          </Section>
          {((run.spec.watch?.length ?? 0) > 0 || activity.watched.length > 0) && (
            <Section title="Watched files per turn">
              <WatchedChanges changes={activity.watched} watch={run.spec.watch ?? []} />
            </Section>
          )}
          <Section title="Turns">
            <DataTable
              label="turns"
              rows={[...data.turns].sort((a, b) => b.turn - a.turn)}
              columns={turnColumns(id)}
              rowKey={(t) => String(t.turn)}
              empty="No turns yet."
            />
          </Section>
          <Section title="Events">
            {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard to be scrolled (axe scrollable-region-focusable) */}
            <section className="event-tail job-tail" tabIndex={0} aria-label="events, live">
              <DataTable
                label="run events"
                className="event-table"
                rows={[...activity.events].reverse()}
                columns={eventColumns}
                rowKey={(e) => String(e.seq)}
              />
            </section>
          </Section>
        </>
      )}
    </>
  );
}
