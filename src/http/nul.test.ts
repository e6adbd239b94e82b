/**
 * A NUL character anywhere in a request is a 400 INVALID_CHARACTER naming where it was, on both
 * backends alike: in every path parameter, query parameter and top-level body field of every
 * operation of the OpenAPI document (the table is built from it, so a new route is covered by
 * being added), and nested in a body. On PostgreSQL, which cannot store one, the SDK gets the
 * same code, not a driver error; SQLite refuses it the same way.
 */
import { describe, expect, it } from "vitest";
import { isOverseerError } from "../core/errors.js";
import { testApi } from "../test-support/http.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";

interface Shape {
  method: string;
  path: string;
  body?: unknown;
  /** Where the refusal must say the NUL was. */
  in: "path" | "query" | "body";
  field: string;
}

/** One shape per path parameter, query parameter and top-level body field in the document. */
function shapesOf(doc: any): Shape[] {
  const shapes: Shape[] = [];
  for (const [template, item] of Object.entries<any>(doc.paths)) {
    if (!template.startsWith("/api/v1/")) continue;
    for (const [m, op] of Object.entries<any>(item)) {
      const method = m.toUpperCase();
      const params: any[] = op.parameters ?? [];
      const names = params.filter((p) => p.in === "path").map((p) => p.name as string);
      const path = (nul?: string) => template.replace(/\{(\w+)\}/g, (_, name) => (name === nul ? "a%00b" : "x"));
      const body = op.requestBody ? {} : undefined;
      for (const name of names) shapes.push({ method, path: path(name), body, in: "path", field: `params.${name}` });
      for (const p of params.filter((p) => p.in === "query"))
        shapes.push({ method, path: `${path()}?${p.name}=%00`, body, in: "query", field: `query.${p.name}` });
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      for (const field of Object.keys(schema?.properties ?? {}))
        shapes.push({ method, path: path(), body: { [field]: "s\u0000" }, in: "body", field: `body.${field}` });
    }
  }
  return shapes;
}

describe(`NUL characters on ${TEST_BACKEND}`, () => {
  it("are a 400 INVALID_CHARACTER naming the parameter or field, in every operation", async () => {
    const api = await testApi();
    const doc = (await api.request("GET", "/api/v1/openapi.json", { token: api.tokens.admin })).body;
    const shapes: Shape[] = [
      ...shapesOf(doc),
      // As a viewer (the bug as first seen), nested in a body, in a key, and in an array of jobs.
      { method: "GET", path: "/api/v1/jobs/%00", in: "path", field: "params.id" },
      { method: "POST", path: "/api/v1/alerts", body: { summary: "s\u0000" }, in: "body", field: "body.summary" },
      {
        method: "POST",
        path: "/api/v1/alerts",
        body: { summary: "s", details: { a: [1, "\u0000"] } },
        in: "body",
        field: "body.details.a.1",
      },
      {
        method: "POST",
        path: "/api/v1/jobs",
        body: { task: "t", payload: { "k\u0000": 1 } },
        in: "body",
        field: "body.payload.k\\u0000",
      },
      {
        method: "POST",
        path: "/api/v1/jobs",
        body: [{ task: "t" }, { task: "t\u0000" }],
        in: "body",
        field: "body.1.task",
      },
    ];
    // Every operation with a parameter or a body field is in the table: about a hundred shapes.
    expect(shapes.length).toBeGreaterThan(80);
    const failures: string[] = [];
    for (const shape of shapes) {
      const token = shape.path === "/api/v1/jobs/%00" ? api.tokens.viewer : api.tokens.admin;
      const res = await api.request(shape.method, shape.path, { token, body: shape.body });
      const want = {
        error: {
          code: "INVALID_CHARACTER",
          message: `${shape.field}: holds a NUL character (\\u0000), which cannot be stored; remove it`,
          details: { in: shape.in, field: shape.field, character: "U+0000" },
        },
      };
      if (res.status !== 400 || JSON.stringify(res.body) !== JSON.stringify(want))
        failures.push(`${shape.method} ${shape.path} ${JSON.stringify(shape.body)} → ${res.status} ${res.text}`);
    }
    expect(failures).toEqual([]);
    // Nothing was stored on the way: no job, no alert.
    expect(await api.overseer.listJobs()).toEqual([]);
    expect(await api.overseer.listAlerts()).toEqual([]);
  });

  it("is refused by the SDK with INVALID_CHARACTER, not a driver error", async () => {
    const overseer = await (await testDatabase("overseer-nul-")).open({});
    const refusals = [
      () => overseer.getJob("a\u0000b"),
      () => overseer.listJobs({ search: "\u0000" }),
      () => overseer.raiseAlert({ summary: "disk\u0000full" }),
      () => overseer.getAlert("a\u0000"),
      () => overseer.getApproval("a\u0000"),
    ];
    for (const call of refusals) {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isOverseerError(err, "INVALID_CHARACTER"), String(err)).toBe(true);
    }
    // A payload is JSON, where a NUL is the escape \u0000: it is kept, on both backends.
    const job = await overseer.enqueue("t", { text: "a\u0000b" });
    expect((await overseer.getJob(job.id))?.payload).toEqual({ text: "a\u0000b" });
    expect(await overseer.listAlerts()).toEqual([]);
  });
});
