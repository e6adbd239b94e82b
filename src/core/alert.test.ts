import { describe, expect, it } from "vitest";
import {
  ALERT_STATUSES,
  ALERT_TRANSITIONS,
  type Alert,
  type AlertStatus,
  type AlertTransitionName,
  acknowledge,
  bump,
  canTransitionAlert,
  checkNewAlert,
  close,
  dueAction,
  type EscalationPolicy,
  escalateAhead,
  escalateNow,
  escalationAfterTrigger,
  type NewAlert,
  nextEscalation,
  parseAlertStatuses,
  positionAfter,
  raise,
} from "./alert.js";
import { OverseerError } from "./errors.js";

const MIN = 60_000;
const T0 = Date.UTC(2030, 0, 1);
const iso = (ms: number): string => new Date(ms).toISOString();

/** tg at once, hook 5 min later; then once more, 10 min after the last step. */
const POLICY: EscalationPolicy = {
  name: "default",
  steps: [
    { delayMs: 0, notify: ["ops-tg"] },
    { delayMs: 5 * MIN, notify: ["ops-hook"] },
  ],
  repeat: 1,
  repeatDelayMs: 10 * MIN,
  ackTimeoutMs: 30 * MIN,
};

const NEW: NewAlert = {
  id: "a1",
  source: "job.dead",
  summary: "payments: job died",
  details: { queue: "payments" },
  dedupKey: "job.dead:payments",
  policy: POLICY,
};

describe("the alert status machine", () => {
  const table: Array<[AlertTransitionName, AlertStatus, boolean]> = [];
  for (const name of Object.keys(ALERT_TRANSITIONS) as AlertTransitionName[]) {
    for (const from of ALERT_STATUSES) table.push([name, from, canTransitionAlert(name, from)]);
  }

  it.each([
    ["trigger", "triggered", false],
    ["acknowledge", "triggered", true],
    ["acknowledge", "acknowledged", false],
    ["acknowledge", "closed", false],
    ["close", "triggered", true],
    ["close", "acknowledged", true],
    ["close", "closed", false],
    ["retrigger", "acknowledged", true],
    ["retrigger", "triggered", false],
    ["escalate", "triggered", true],
    ["escalate", "acknowledged", true],
    ["escalate", "closed", false],
  ] as const)("%s from %s: %s", (name, from, allowed) => {
    expect(canTransitionAlert(name, from)).toBe(allowed);
  });

  it("nothing leaves closed", () => {
    expect(table.filter(([, from, ok]) => from === "closed" && ok)).toEqual([]);
  });
});

describe("positionAfter", () => {
  it.each([
    [
      { step: -1, round: 0 },
      { step: 0, round: 0 },
    ],
    [
      { step: 0, round: 0 },
      { step: 1, round: 0 },
    ],
    [
      { step: 1, round: 0 },
      { step: 0, round: 1 },
    ],
    [
      { step: 0, round: 1 },
      { step: 1, round: 1 },
    ],
    [{ step: 1, round: 1 }, null],
  ])("after %j comes %j", (from, to) => {
    expect(positionAfter(from, POLICY)).toEqual(to);
  });

  it("repeat 0 goes through once", () => {
    expect(positionAfter({ step: 1, round: 0 }, { ...POLICY, repeat: 0 })).toBeNull();
  });
});

describe("escalationAfterTrigger", () => {
  it("notifies a first step of delay 0 at once and says when the second is due", () => {
    expect(escalationAfterTrigger(POLICY, T0)).toEqual({
      notify: { step: 0, round: 0, targets: ["ops-tg"] },
      position: { step: 0, round: 0 },
      nextEscalationAt: T0 + 5 * MIN,
    });
  });

  it("waits for a first step with a delay", () => {
    const delayed = { ...POLICY, steps: [{ delayMs: 2 * MIN, notify: ["a"] }] };
    expect(escalationAfterTrigger(delayed, T0)).toEqual({
      notify: null,
      position: { step: -1, round: 0 },
      nextEscalationAt: T0 + 2 * MIN,
    });
  });

  it("a one-step policy without repeats has nothing after its step", () => {
    const one = { ...POLICY, steps: [{ delayMs: 0, notify: ["a"] }], repeat: 0 };
    expect(escalationAfterTrigger(one, T0).nextEscalationAt).toBeNull();
  });

  it("no policy: nothing", () => {
    expect(escalationAfterTrigger(null, T0)).toEqual({
      notify: null,
      position: { step: -1, round: 0 },
      nextEscalationAt: null,
    });
  });
});

describe("nextEscalation", () => {
  // [position, due at, now, notified (step/round or null), next position, next due]
  const table: Array<[string, { step: number; round: number }, number | null, number, string | null, number | null]> = [
    ["1 ms early: nothing", { step: 0, round: 0 }, T0 + 5 * MIN, T0 + 5 * MIN - 1, null, T0 + 5 * MIN],
    ["exactly due: step 1", { step: 0, round: 0 }, T0 + 5 * MIN, T0 + 5 * MIN, "1/0", T0 + 15 * MIN],
    ["late: step 1, timed from now", { step: 0, round: 0 }, T0 + 5 * MIN, T0 + 9 * MIN, "1/0", T0 + 19 * MIN],
    ["loop back: step 0 of round 1", { step: 1, round: 0 }, T0 + 15 * MIN, T0 + 15 * MIN, "0/1", T0 + 20 * MIN],
    ["last step of the last round", { step: 0, round: 1 }, T0 + 20 * MIN, T0 + 20 * MIN, "1/1", null],
    ["done: nothing ever", { step: 1, round: 1 }, null, T0 + 999 * MIN, null, null],
    ["first step after a delay", { step: -1, round: 0 }, T0 + 2 * MIN, T0 + 2 * MIN, "0/0", T0 + 7 * MIN],
  ];

  it.each(table)("%s", (_, position, due, now, notified, nextDue) => {
    const plan = nextEscalation({ escalation: position, nextEscalationAt: due }, POLICY, now);
    expect(plan.notify === null ? null : `${plan.notify.step}/${plan.notify.round}`).toBe(notified);
    expect(plan.nextEscalationAt).toBe(nextDue);
    if (notified === null) expect(plan.position).toEqual(position);
  });

  it("gives the step's targets", () => {
    const plan = nextEscalation({ escalation: { step: 0, round: 0 }, nextEscalationAt: T0 }, POLICY, T0);
    expect(plan.notify?.targets).toEqual(["ops-hook"]);
  });

  it("no policy: nothing", () => {
    expect(nextEscalation({ escalation: { step: -1, round: 0 }, nextEscalationAt: T0 }, null, T0).notify).toBeNull();
  });

  it("a full walk pages tg, hook, tg, hook and stops", () => {
    let state = { escalation: { step: 0, round: 0 }, nextEscalationAt: (T0 + 5 * MIN) as number | null };
    const pages: string[] = ["0:ops-tg"];
    for (let now = T0; now <= T0 + 120 * MIN; now += MIN) {
      const plan = nextEscalation(state, POLICY, now);
      if (plan.notify) pages.push(`${(now - T0) / MIN}:${plan.notify.targets.join(",")}`);
      state = { escalation: plan.position, nextEscalationAt: plan.nextEscalationAt };
    }
    expect(pages).toEqual(["0:ops-tg", "5:ops-hook", "15:ops-tg", "20:ops-hook"]);
  });
});

describe("escalateAhead", () => {
  it.each([
    [{ step: -1, round: 0 }, "0/0", T0 + 5 * MIN],
    [{ step: 0, round: 0 }, "1/0", T0 + 10 * MIN],
    [{ step: 1, round: 0 }, "0/1", T0 + 5 * MIN],
    [{ step: 1, round: 1 }, "1/1", null],
  ])("from %j notifies %s at once; next due %s", (escalation, notified, nextDue) => {
    const plan = escalateAhead({ escalation }, POLICY, T0);
    expect(`${plan.notify?.step}/${plan.notify?.round}`).toBe(notified);
    expect(plan.nextEscalationAt).toBe(nextDue);
  });
});

describe("alert transitions", () => {
  const fresh = (): Alert => raise(NEW, T0).alert;

  it("raise: triggered, count 1, first step at once", () => {
    const { alert, notify } = raise(NEW, T0);
    expect(alert).toMatchObject({
      status: "triggered",
      count: 1,
      escalation: { step: 0, round: 0 },
      nextEscalationAt: iso(T0 + 5 * MIN),
      createdAt: iso(T0),
      version: 1,
    });
    expect(notify).toEqual({ step: 0, round: 0, targets: ["ops-tg"] });
  });

  it("bump: count + 1 and new details, escalation untouched", () => {
    const bumped = bump(fresh(), { details: { n: 2 } }, T0 + MIN);
    expect(bumped).toMatchObject({ count: 2, details: { n: 2 }, version: 2, nextEscalationAt: iso(T0 + 5 * MIN) });
  });

  it("acknowledge: stops escalation, schedules the ack timeout", () => {
    const result = acknowledge(fresh(), "ana", T0 + MIN);
    expect(result.ok && result.alert).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: "ana",
      nextEscalationAt: iso(T0 + 31 * MIN),
    });
    const noTimeout = raise({ ...NEW, policy: { ...POLICY, ackTimeoutMs: null } }, T0).alert;
    const quiet = acknowledge(noTimeout, "ana", T0 + MIN);
    expect(quiet.ok && quiet.alert.nextEscalationAt).toBeNull();
  });

  it("acknowledge twice, or after close: refused with the status", () => {
    const acked = acknowledge(fresh(), "ana", T0);
    if (!acked.ok) throw new Error("unreachable");
    expect(acknowledge(acked.alert, "bo", T0)).toMatchObject({
      ok: false,
      code: "ALERT_INVALID_TRANSITION",
      status: "acknowledged",
    });
    const closed = close(acked.alert, "ana", null, T0);
    if (!closed.ok) throw new Error("unreachable");
    for (const result of [
      acknowledge(closed.alert, "bo", T0),
      close(closed.alert, "bo", null, T0),
      escalateNow(closed.alert, T0),
    ]) {
      expect(result).toMatchObject({ ok: false, status: "closed" });
      if (!result.ok) expect(result.message).toContain("closed (by ana)");
    }
  });

  it("close: final, nothing due", () => {
    const result = close(fresh(), "ana", "fixed", T0 + MIN);
    expect(result.ok && result.alert).toMatchObject({
      status: "closed",
      closedBy: "ana",
      closeReason: "fixed",
      nextEscalationAt: null,
    });
    if (result.ok) expect(dueAction(result.alert, T0 + 999 * MIN)).toBeNull();
  });

  it("escalateNow on an acknowledged alert triggers it again and notifies the next step", () => {
    const acked = acknowledge(fresh(), "ana", T0);
    if (!acked.ok) throw new Error("unreachable");
    const result = escalateNow(acked.alert, T0 + MIN);
    expect(result.ok && result.alert).toMatchObject({
      status: "triggered",
      acknowledgedBy: null,
      escalation: { step: 1, round: 0 },
    });
    expect(result.ok && result.notify).toEqual({ step: 1, round: 0, targets: ["ops-hook"] });
  });

  it("dueAction: the next step when due, nothing 1 ms before", () => {
    expect(dueAction(fresh(), T0 + 5 * MIN - 1)).toBeNull();
    expect(dueAction(fresh(), T0 + 5 * MIN)).toMatchObject({ transition: "escalate", notify: { step: 1, round: 0 } });
  });

  it("dueAction: the ack timeout re-triggers from the first step", () => {
    const acked = acknowledge(fresh(), "ana", T0);
    if (!acked.ok) throw new Error("unreachable");
    expect(dueAction(acked.alert, T0 + 30 * MIN - 1)).toBeNull();
    const due = dueAction(acked.alert, T0 + 30 * MIN);
    expect(due).toMatchObject({
      transition: "retrigger",
      notify: { step: 0, round: 0, targets: ["ops-tg"] },
      alert: { status: "triggered", acknowledgedBy: null, nextEscalationAt: iso(T0 + 35 * MIN) },
    });
  });
});

describe("checkNewAlert", () => {
  it.each([
    ["source", { source: "nope" }],
    ["summary", { summary: " " }],
    ["summary", { summary: "x".repeat(301) }],
    ["dedupKey", { dedupKey: "" }],
    ["details", { details: { big: "x".repeat(70_000) } }],
  ])("refuses a bad %s", (field, patch) => {
    let thrown: unknown;
    try {
      checkNewAlert({ ...NEW, ...patch } as NewAlert);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OverseerError);
    expect((thrown as OverseerError).details).toEqual({ field });
  });

  it("accepts a good one", () => {
    expect(() => checkNewAlert(NEW)).not.toThrow();
  });
});

describe("parseAlertStatuses", () => {
  it.each([
    ["triggered", ["triggered"]],
    ["acknowledged, closed", ["acknowledged", "closed"]],
    ["open", ["triggered", "acknowledged"]],
    ["open,triggered,", ["triggered", "acknowledged"]],
    ["", []],
  ])("reads %j", (text, expected) => {
    expect(parseAlertStatuses(text)).toEqual(expected);
  });

  it("names an unknown status, after the label when given", () => {
    expect(() => parseAlertStatuses("open,resolved")).toThrow(/^unknown alert status "resolved"/);
    expect(() => parseAlertStatuses("resolved", "--status")).toThrow(/^--status: unknown alert status "resolved"/);
  });
});
