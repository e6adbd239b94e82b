// The example's own HTTP routes, next to Overseer's API: incidents come in here and become
// triage sessions. A session is its job: its version guards writes (a stale one gets 409), and
// an action on a session that is executing a step gets 429 with Retry-After, from whichever
// process or node asks, since the job's state is the database's.
import { incidentProblems } from "./triage.mjs";

/** Overseer's error codes as HTTP statuses, for the few the routes pass on. */
const STATUS = { JOB_NOT_FOUND: 404, VERSION_CONFLICT: 409, INVALID_TRANSITION: 409, BUSY: 429 };

export function incidentRoutes(overseer, dashboardUrl) {
  return async (req, res) => {
    try {
      const url = new URL(req.url, "http://localhost");
      const [, resource, id, verb, ...rest] = url.pathname.split("/");
      if (resource !== "incidents" || rest.length > 0) return send(res, 404, error("NOT_FOUND", "no such route"));
      if (req.method === "POST" && id === undefined) return await open(overseer, dashboardUrl, req, res);
      if (req.method === "GET" && id && verb === undefined) return await show(overseer, id, res);
      if (req.method === "POST" && id && verb === "retry") return await retry(overseer, id, req, res);
      return send(res, 404, error("NOT_FOUND", `no route ${req.method} ${url.pathname}`));
    } catch (err) {
      const status = STATUS[err?.code];
      if (status === undefined) {
        console.error(err);
        return send(res, 500, error("INTERNAL_ERROR", "something went wrong; see the server's log"));
      }
      const retryAfter = err.details?.retryAfter;
      return send(res, status, error(err.code, err.message), retryAfter ? { "retry-after": String(retryAfter) } : {});
    }
  };
}

/** POST /incidents: a new session. 201 with its id and version, 400 naming what is wrong. */
async function open(overseer, dashboardUrl, req, res) {
  const body = await readJson(req);
  if (body === undefined) return send(res, 400, error("INVALID_JSON", "send the incident as a JSON object"));
  const problems = incidentProblems(body);
  if (problems.length > 0) return send(res, 400, error("INVALID_INCIDENT", problems.join("; ")));
  const job = await overseer.enqueue("triage", body);
  return send(res, 201, { session: job.id, version: job.version, dashboard: `${dashboardUrl}/jobs/${job.id}` });
}

/** The session's job, or null for an id that is no triage session. */
async function sessionJob(overseer, id) {
  const job = await overseer.getJob(id);
  return job?.task === "triage" ? job : null;
}

/** GET /incidents/:id: the session, its steps and its status once it has one. */
async function show(overseer, id, res) {
  const job = await sessionJob(overseer, id);
  if (job === null) return send(res, 404, error("NOT_FOUND", `no session ${id}`));
  const steps = await overseer.jobSteps(id);
  return send(
    res,
    200,
    {
      session: job.id,
      state: job.state,
      version: job.version,
      status: job.result?.status ?? null,
      reason: job.result?.reason ?? null,
      steps: steps.map((s) => ({ name: s.name, status: s.status, durationMs: s.durationMs })),
    },
    { etag: `"${job.version}"` },
  );
}

/** POST /incidents/:id/retry with If-Match: a finished session runs again, if nobody changed it since. */
async function retry(overseer, id, req, res) {
  const version = /^"?(\d+)"?$/.exec(req.headers["if-match"] ?? "")?.[1];
  if (version === undefined) {
    return send(res, 428, error("VERSION_REQUIRED", 'send If-Match: "<version>" as GET gave it'));
  }
  if ((await sessionJob(overseer, id)) === null) return send(res, 404, error("NOT_FOUND", `no session ${id}`));
  const job = await overseer.retry(id, { expectedVersion: Number(version) });
  return send(res, 200, { session: job.id, state: job.state, version: job.version });
}

function error(code, message) {
  return { error: { code, message } };
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function readJson(req) {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64 * 1024) return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
