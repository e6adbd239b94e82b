/**
 * /api/v1/oncall over real HTTP: the rotations' status, an override made by the token's name and
 * cancelled, the history paged, and bad input refused with the field named and nothing written.
 */
import { describe, expect, it } from "vitest";
import { type AlertsConfig, EMPTY_ALERTS } from "../config/alerts.js";
import { testApi } from "../test-support/http.js";

/** Daily handoffs at 00:00 UTC between ana and bo; cy may stand in. */
const ALERTS: AlertsConfig = {
  ...EMPTY_ALERTS,
  people: { ana: { telegram: 1 }, bo: { telegram: 2 }, cy: { telegram: 3 } },
  rotations: {
    primary: {
      name: "primary",
      people: ["ana", "bo"],
      timezone: "UTC",
      start: "2026-01-01T00:00",
      shiftMs: 86_400_000,
    },
  },
};

describe("/api/v1/oncall", () => {
  it("shows who is on call; an override made by the token takes over, is cancelled, and stays in the history", async () => {
    const t = await testApi({ alerts: ALERTS });
    const before = await t.request("GET", "/api/v1/oncall", { token: t.tokens.viewer });
    expect(before.status).toBe(200);
    const [primary] = before.body.rotations;
    expect(primary).toMatchObject({ name: "primary", timezone: "UTC", people: ["ana", "bo"], shiftMs: 86_400_000 });
    expect(primary.now.until.endsWith("T00:00:00.000Z")).toBe(true);
    expect(primary.next.person).not.toBe(primary.now.person);
    expect(primary.upcoming).toEqual([]);

    const made = await t.request("POST", "/api/v1/oncall/overrides", {
      token: t.tokens.operator,
      body: { rotation: "primary", person: "cy", for: "2h", reason: "swap" },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      id: 1,
      person: "cy",
      reason: "swap",
      createdBy: "test-operator",
      cancelledAt: null,
    });
    const during = await t.request("GET", "/api/v1/oncall", { token: t.tokens.viewer });
    expect(during.body.rotations[0].now).toMatchObject({ person: "cy", override: { id: 1 } });
    expect(during.body.rotations[0].upcoming).toEqual([made.body]);

    const cancelled = await t.request("POST", "/api/v1/oncall/overrides/1/cancel", { token: t.tokens.operator });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: 1, cancelledBy: "test-operator" });
    const again = await t.request("POST", "/api/v1/oncall/overrides/1/cancel", { token: t.tokens.operator });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("OVERRIDE_ENDED");
    const missing = await t.request("POST", "/api/v1/oncall/overrides/77/cancel", { token: t.tokens.operator });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("OVERRIDE_NOT_FOUND");

    await t.request("POST", "/api/v1/oncall/overrides", {
      token: t.tokens.operator,
      body: { rotation: "primary", person: "ana", from: new Date(Date.now() + 3_600_000).toISOString(), for: "1h" },
    });
    const page = await t.request("GET", "/api/v1/oncall/overrides?limit=1", { token: t.tokens.viewer });
    expect(page.body.items.map((o: { id: number }) => o.id)).toEqual([2]);
    const next = await t.request("GET", `/api/v1/oncall/overrides?limit=1&cursor=${page.body.nextCursor}`, {
      token: t.tokens.viewer,
    });
    expect(next.body).toEqual({ items: [cancelled.body], nextCursor: null });
    const other = await t.request("GET", "/api/v1/oncall/overrides?rotation=secondary", { token: t.tokens.viewer });
    expect(other.body).toEqual({ items: [], nextCursor: null });
  });

  it("refuses bad input with the field named, and writes nothing", async () => {
    const t = await testApi({ alerts: ALERTS });
    const cases: Array<[unknown, number, string, string | undefined]> = [
      [{ rotation: "nope", person: "cy", for: "1h" }, 404, "ROTATION_NOT_FOUND", undefined],
      [{ rotation: "primary", person: "zed", for: "1h" }, 400, "INVALID_ARGUMENT", "person"],
      [{ rotation: "primary", person: "cy" }, 400, "INVALID_ARGUMENT", "until"],
      [
        { rotation: "primary", person: "cy", for: "1h", until: "2099-01-01T00:00:00Z" },
        400,
        "INVALID_ARGUMENT",
        "until",
      ],
      [{ rotation: "primary", person: "cy", until: "2099-01-01" }, 400, "INVALID_ARGUMENT", "until"],
      [{ rotation: "primary", person: "cy", for: "a while" }, 400, "INVALID_ARGUMENT", "for"],
      [
        { rotation: "primary", person: "cy", for: "1h", from: "2000-01-01T00:00:00Z" },
        400,
        "INVALID_ARGUMENT",
        "until",
      ],
      [{ rotation: "primary", person: "cy", for: "1h", by: "someone else" }, 400, "INVALID_ARGUMENT", "by"],
      [{ rotation: "primary", person: "cy", for: "1h", reason: "x".repeat(501) }, 400, "INVALID_ARGUMENT", "reason"],
    ];
    for (const [body, status, code, field] of cases) {
      const answer = await t.request("POST", "/api/v1/oncall/overrides", { token: t.tokens.operator, body });
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.error.code, JSON.stringify(body)).toBe(code);
      // Schema refusals name the body's field (body.by), the SDK's the field itself (until).
      if (field !== undefined)
        expect(answer.body.error.details.field, JSON.stringify(body)).toMatch(new RegExp(`^(body\\.)?${field}$`));
    }
    const badId = await t.request("POST", "/api/v1/oncall/overrides/abc/cancel", { token: t.tokens.operator });
    expect(badId.status).toBe(400);
    expect(await t.overseer.listOncallOverrides()).toEqual([]);
  });
});
