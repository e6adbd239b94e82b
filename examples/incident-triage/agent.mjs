// The triage agent: one function, askAgent(step, context), which a real model call replaces
// (send the step's prompt with the context, parse the JSON answer). Here it is a scripted
// stand-in, so that every session is exact and the tests can say what must happen: the
// incident's `scenario`, or words in its title, pick a fixture, and the fixture decides the
// agent's tool calls, its confidence and what it proposes.

/** What the agent answers at each step, per scenario. */
const FIXTURES = {
  "bad-deploy": {
    triage: {
      severity: "high",
      hypothesis: "the last deploy broke the service",
      tools: ["deploys.list", "logs.search"],
    },
    investigate: {
      toolCalls: [
        { tool: "deploys.list", args: { last: 3 }, result: "1.8.0 rolled out 4 minutes before the first 502" },
        { tool: "logs.search", args: { query: "level:error" }, result: "CrashLoopBackOff: missing env CHECKOUT_KEY" },
      ],
      finding: "the 1.8.0 pods crash-loop on a missing environment variable",
      confidence: 0.9,
    },
    propose: {
      action: "deploy.rollback",
      risk: "high",
      command: "kubectl rollout undo deployment/{service}",
      summary: "rolled back the deployment to the previous release",
    },
    verify: { healthy: true, note: "error rate back under 0.1 %", message: "Rolled back. Resolved." },
  },
  "disk-full": {
    triage: { severity: "high", hypothesis: "a volume filled up", tools: ["metrics.query"] },
    investigate: {
      toolCalls: [{ tool: "metrics.query", args: { metric: "disk_used_ratio" }, result: "0.99 on the primary" }],
      finding: "WAL archiving stalled and pg_wal filled the volume",
      confidence: 0.85,
    },
    propose: {
      action: "disk.expand",
      risk: "medium",
      command: 'kubectl patch pvc {service}-data --patch \'{"spec":{"resources":{"requests":{"storage":"200Gi"}}}}\'',
      summary: "expanded the volume and restarted WAL archiving",
    },
    verify: { healthy: true, note: "disk at 61 %", message: "Disk expanded. Resolved." },
  },
  "false-recovery": {
    triage: { severity: "medium", hypothesis: "pods are short of memory", tools: ["pods.list"] },
    investigate: {
      toolCalls: [{ tool: "pods.list", args: { status: "OOMKilled" }, result: "3 pods OOMKilled in 10 minutes" }],
      finding: "the pods hit their memory limit under load",
      confidence: 0.8,
    },
    propose: {
      action: "pods.restart",
      risk: "low",
      command: "kubectl rollout restart deployment/{service}",
      summary: "restarted the pods",
    },
    // The agent says it is resolved; the check it ran says otherwise. The session trusts the check.
    verify: { healthy: false, note: "pods OOMKilled again within 2 minutes", message: "Pods restarted. Resolved!" },
  },
  unclear: {
    triage: { severity: "medium", hypothesis: "no clear pattern", tools: ["logs.search"] },
    investigate: {
      toolCalls: [{ tool: "logs.search", args: { query: "level:error" }, result: "a few unrelated timeouts" }],
      finding: "nothing in the logs explains the symptom",
      confidence: 0.35,
    },
  },
};

/** The scenario of an incident: the one it names, else the first whose words are in its title. */
export function scenarioOf(incident) {
  if (incident.scenario && FIXTURES[incident.scenario]) return incident.scenario;
  const title = incident.title.toLowerCase();
  if (/\b(5\d\d|deploy|rollout)/.test(title)) return "bad-deploy";
  if (/\bdisk|volume|wal\b/.test(title)) return "disk-full";
  if (/\b(oom|memory)/.test(title)) return "false-recovery";
  return "unclear";
}

/**
 * The agent's answer for one step. `context` is what a prompt would carry: the incident, the
 * lessons like it, and the answers of the steps before. `delayMs` on the incident stands for a
 * model that thinks a while (the tests use it to catch a session in the middle of a step).
 */
export async function askAgent(step, context) {
  const { incident } = context;
  if (incident.delayMs) await new Promise((resolve) => setTimeout(resolve, incident.delayMs));
  const answer = FIXTURES[scenarioOf(incident)][step];
  if (answer === undefined) throw new Error(`the agent has no answer for step ${step}`);
  const text = JSON.stringify(answer).replaceAll("{service}", incident.service);
  const parsed = JSON.parse(text);
  if (step === "triage" && context.lessons.length > 0) {
    parsed.hypothesis += `; a similar incident was ${context.lessons[0].outcome}`;
  }
  return parsed;
}
