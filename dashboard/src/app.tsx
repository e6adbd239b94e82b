/**
 * The shell: sign-in gate, navigation, and the routing table. A later page (runs, approvals,
 * alerts) is one row in ROUTES and one entry in the navigation.
 */
import { type ReactNode, useEffect, useState } from "react";
import type { Whoami } from "../../src/http/contract";
import { api, onSignedOut, setApiToken } from "./api/client";
import { eventStream, type StreamStatus } from "./api/event-stream";
import { NavLinks } from "./components/nav-links";
import { ShortcutsDialog } from "./components/shortcuts-dialog";
import { AlertDetailPage, AlertsPage } from "./pages/alerts";
import { ApprovalDetailPage, ApprovalsPage } from "./pages/approvals";
import { ClaimsPage } from "./pages/claims";
import { EventsPage } from "./pages/events";
import { JobDetailPage } from "./pages/job-detail";
import { JobsPage } from "./pages/jobs";
import { MetricsPage } from "./pages/metrics";
import { OncallPage } from "./pages/oncall";
import { OverviewPage } from "./pages/overview";
import { QueuesPage } from "./pages/queues";
import { RunDetailPage } from "./pages/run-detail";
import { RunTurnOutputPage } from "./pages/run-turn-output";
import { RunsPage } from "./pages/runs";
import { SchedulesPage } from "./pages/schedules";
import { SignInPage } from "./pages/sign-in";
import { WorkerDetailPage } from "./pages/worker-detail";
import { WorkersPage } from "./pages/workers";
import { Link, matchPath, useLocation } from "./router";
import { signOut, storedToken } from "./session";

interface Route {
  path: string;
  title: string;
  /** Shown in the navigation bar. */
  nav?: boolean;
  render: (params: Record<string, string>, who: Whoami) => ReactNode;
}

const ROUTES: Route[] = [
  { path: "/", title: "Overview", nav: true, render: () => <OverviewPage /> },
  { path: "/jobs", title: "Jobs", nav: true, render: (_p, who) => <JobsPage who={who} /> },
  { path: "/jobs/:id", title: "Job", render: (p, who) => <JobDetailPage key={p.id} id={p.id ?? ""} who={who} /> },
  { path: "/runs", title: "Runs", nav: true, render: () => <RunsPage /> },
  { path: "/runs/:id", title: "Run", render: (p, who) => <RunDetailPage key={p.id} id={p.id ?? ""} who={who} /> },
  {
    path: "/runs/:id/output/:turn",
    title: "Turn output",
    render: (p) => <RunTurnOutputPage key={`${p.id}/${p.turn}`} id={p.id ?? ""} turn={p.turn ?? ""} />,
  },
  { path: "/approvals", title: "Approvals", nav: true, render: (_p, who) => <ApprovalsPage who={who} /> },
  {
    path: "/approvals/:id",
    title: "Approval",
    render: (p, who) => <ApprovalDetailPage key={p.id} id={p.id ?? ""} who={who} />,
  },
  { path: "/alerts", title: "Alerts", nav: true, render: (_p, who) => <AlertsPage who={who} /> },
  { path: "/alerts/:id", title: "Alert", render: (p, who) => <AlertDetailPage key={p.id} id={p.id ?? ""} who={who} /> },
  { path: "/oncall", title: "On call", nav: true, render: (_p, who) => <OncallPage who={who} /> },
  { path: "/claims", title: "Claims", nav: true, render: () => <ClaimsPage /> },
  { path: "/queues", title: "Queues", nav: true, render: (_p, who) => <QueuesPage who={who} /> },
  { path: "/workers", title: "Workers", nav: true, render: () => <WorkersPage /> },
  { path: "/stats", title: "Metrics", nav: true, render: () => <MetricsPage /> },
  {
    path: "/workers/:id",
    title: "Worker",
    render: (p, who) => <WorkerDetailPage key={p.id} id={p.id ?? ""} who={who} />,
  },
  { path: "/schedules", title: "Schedules", nav: true, render: (_p, who) => <SchedulesPage who={who} /> },
  { path: "/events", title: "Events", nav: true, render: () => <EventsPage /> },
];

export function App() {
  const { path } = useLocation();
  const [who, setWho] = useState<Whoami | null>(null);
  const [checking, setChecking] = useState(storedToken() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const [status, setStatus] = useState<StreamStatus>("connecting");

  useEffect(() => {
    onSignedOut(() => {
      signOut();
      setWho(null);
      setNotice("The server no longer accepts this token (revoked?). Sign in again.");
    });
    const token = storedToken();
    if (!token) return;
    setApiToken(token);
    api<Whoami>("/whoami").then(
      (w) => {
        setWho(w);
        setChecking(false);
      },
      () => setChecking(false),
    );
  }, []);
  useEffect(() => eventStream.onStatus(setStatus), []);

  const matched = ROUTES.map((r) => ({ route: r, params: matchPath(r.path, path) })).find((m) => m.params !== null);
  useEffect(() => {
    document.title = `${matched?.route.title ?? "Not found"} · Overseer`;
  }, [matched?.route.title]);

  if (checking) return <p className="muted">Checking the token…</p>;
  if (!who) return <SignInPage onSignedIn={setWho} notice={notice} />;

  return (
    <div className="shell">
      <SkipLink />
      <ShortcutsDialog />
      <header className="top">
        <strong className="brand">Overseer</strong>
        <NavLinks
          links={ROUTES.filter((r) => r.nav).map((r) => ({
            path: r.path,
            title: r.title,
            current: matched?.route.path === r.path || (r.path !== "/" && path.startsWith(`${r.path}/`)),
          }))}
        />
        <StreamIndicator status={status} />
        <span
          className={`badge execution-${who.execution}`}
          data-testid="execution-mode"
          title={
            who.execution === "enabled"
              ? "Execution is on: approved actions run"
              : "Execution is off: approved actions are recorded as dry runs"
          }
        >
          {who.execution === "enabled" ? "execution on" : "DRY RUN"}
        </span>
        <span className="who">
          {who.name} ({who.scope})
        </span>
        <button
          type="button"
          onClick={() => {
            signOut();
            setWho(null);
            setNotice(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main className="content" id="main" tabIndex={-1}>
        {matched?.params ? (
          matched.route.render(matched.params, who)
        ) : (
          <>
            <h1>Not found</h1>
            <p>
              No page at <code>{path}</code>. <Link href="/">Go to the overview.</Link>
            </p>
          </>
        )}
      </main>
    </div>
  );
}

/** First on every page: a keyboard goes straight to the page's content, past the navigation. */
function SkipLink() {
  return (
    // biome-ignore lint/a11y/useValidAnchor: a skip link is a link to #main by convention; the click only keeps the URL free of the fragment
    <a
      href="#main"
      className="skip-link"
      onClick={(event) => {
        event.preventDefault();
        document.getElementById("main")?.focus();
      }}
    >
      Skip to content
    </a>
  );
}

/** The shared event stream's state in the top bar; a dropped or lost stream offers to try again at once. */
function StreamIndicator({ status }: { status: StreamStatus }) {
  const text: Record<StreamStatus, string> = {
    connecting: "connecting…",
    live: "● live",
    reconnecting: "reconnecting…",
    lost: "stream lost",
    ended: "ended",
  };
  return (
    <span className={`stream stream-${status}`} title="the live event stream" role="status" data-testid="stream-status">
      {text[status]}
      {(status === "lost" || status === "reconnecting") && (
        <button type="button" className="small stream-retry" onClick={() => eventStream.retryNow()}>
          Retry
        </button>
      )}
    </span>
  );
}
