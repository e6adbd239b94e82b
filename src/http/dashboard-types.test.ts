/**
 * The dashboard's hand-written API types (dashboard/src/api/types.ts) against the server's JSON
 * schemas (schemas.ts), which are what the server serializes with: a field the dashboard reads
 * that the schema lacks is never sent; a field the schema allows to be null must allow null in
 * the dashboard too; a union of string literals must list the schema's enum exactly; and the
 * state lists the dashboard filters by must be the server's. Walks interfaces, inline object
 * types, arrays and references between interfaces, with the TypeScript parser (no type checker).
 */
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { SHARED_SCHEMAS } from "./contract/shared-schemas.js";

const TYPES_FILE = new URL("../../dashboard/src/api/types.ts", import.meta.url);

/** Dashboard interface → the shared schema ($id) the server answers with. */
const ROOTS: Record<string, string> = {
  Job: "Job",
  Attempt: "Attempt",
  OverseerEvent: "Event",
  Queue: "Queue",
  Worker: "Worker",
  Schedule: "Schedule",
  Run: "Run",
  RunTurn: "RunTurn",
  Approval: "Approval",
  Alert: "Alert",
  AlertNotification: "AlertNotification",
  Heartbeat: "Heartbeat",
};

/** Dashboard `as const` lists → where the schema keeps the same enum. */
const ENUMS: Array<[string, string, string]> = [
  ["JOB_STATES", "Job", "state"],
  ["RUN_STATES", "Run", "state"],
  ["APPROVAL_STATES", "Approval", "state"],
  ["ALERT_STATUSES", "Alert", "status"],
  ["ALERT_SOURCES", "Alert", "source"],
];

type Schema = {
  $id?: string;
  $ref?: string;
  type?: string | readonly string[];
  enum?: readonly unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: unknown;
  items?: Schema;
};

const shared = new Map<string, Schema>(SHARED_SCHEMAS.map((s) => [s.$id as string, s as Schema]));
const source = ts.createSourceFile("types.ts", readFileSync(TYPES_FILE, "utf8"), ts.ScriptTarget.Latest, true);
const interfaces = new Map<string, ts.InterfaceDeclaration>();
const constArrays = new Map<string, string[]>();
for (const statement of source.statements) {
  if (ts.isInterfaceDeclaration(statement)) interfaces.set(statement.name.text, statement);
  if (ts.isVariableStatement(statement)) {
    for (const d of statement.declarationList.declarations) {
      let init = d.initializer;
      if (init !== undefined && ts.isAsExpression(init)) init = init.expression;
      if (ts.isIdentifier(d.name) && init !== undefined && ts.isArrayLiteralExpression(init)) {
        constArrays.set(
          d.name.text,
          init.elements.filter(ts.isStringLiteral).map((e) => e.text),
        );
      }
    }
  }
}

function resolve(schema: Schema): Schema {
  if (schema.$ref === undefined) return schema;
  const target = shared.get(schema.$ref.replace(/#$/, ""));
  if (target === undefined) throw new Error(`unknown $ref ${schema.$ref}`);
  return target;
}

const typesOf = (schema: Schema): string[] =>
  schema.type === undefined ? [] : typeof schema.type === "string" ? [schema.type] : [...schema.type];

/** Every mismatch between a dashboard type node and the schema at `path`. */
function compare(node: ts.TypeNode, schemaIn: Schema, path: string, problems: string[]): void {
  const schema = resolve(schemaIn);
  // Anything goes where the schema says nothing (payloads, results, details).
  if (Object.keys(schema).length === 0) return;
  let parts: ts.TypeNode[] = [node];
  if (ts.isUnionTypeNode(node)) parts = [...node.types];
  const isNull = (t: ts.TypeNode) => ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword;
  const nullable = parts.some(isNull);
  const rest = parts.filter((t) => !isNull(t));
  if (typesOf(schema).includes("null") && !nullable) {
    problems.push(`${path}: the server may send null; the dashboard's type does not allow it`);
  }
  const literals = rest.filter(
    (t): t is ts.LiteralTypeNode => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal),
  );
  if (literals.length > 0 && literals.length === rest.length && schema.enum !== undefined) {
    const mine = literals.map((t) => (t.literal as ts.StringLiteral).text).sort();
    const theirs = schema.enum
      .filter((v) => v !== null)
      .map(String)
      .sort();
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
      problems.push(`${path}: the dashboard lists ${mine.join("|")}; the server's enum is ${theirs.join("|")}`);
    }
    return;
  }
  if (rest.length !== 1) return;
  const only = rest[0] as ts.TypeNode;
  if (ts.isArrayTypeNode(only)) {
    if (schema.items !== undefined) compare(only.elementType, schema.items, `${path}[]`, problems);
    return;
  }
  if (ts.isTypeLiteralNode(only)) {
    compareMembers(only.members, schema, path, problems);
    return;
  }
  if (ts.isTypeReferenceNode(only) && ts.isIdentifier(only.typeName)) {
    const named = interfaces.get(only.typeName.text);
    if (named !== undefined) compareMembers(named.members, schema, path, problems);
  }
}

function compareMembers(members: ts.NodeArray<ts.TypeElement>, schema: Schema, path: string, problems: string[]): void {
  const properties = schema.properties;
  if (properties === undefined) return;
  for (const member of members) {
    if (!ts.isPropertySignature(member) || member.type === undefined) continue;
    const name = member.name.getText(source);
    const property = properties[name];
    if (property === undefined) {
      if (schema.additionalProperties === true) continue;
      problems.push(`${path}.${name}: not in the server's schema, so the server never sends it`);
      continue;
    }
    compare(member.type, property, `${path}.${name}`, problems);
  }
}

describe("the dashboard's API types", () => {
  it.each(Object.entries(ROOTS))("%s matches the server's %s schema", (name, id) => {
    const declaration = interfaces.get(name);
    const schema = shared.get(id);
    if (declaration === undefined || schema === undefined) throw new Error(`missing ${name} or schema ${id}`);
    const problems: string[] = [];
    compareMembers(declaration.members, schema, name, problems);
    expect(problems).toEqual([]);
  });

  it.each(ENUMS)("%s is the server's %s.%s enum, in the same order", (list, id, field) => {
    const enumOf = shared.get(id)?.properties?.[field]?.enum?.filter((v) => v !== null);
    expect(constArrays.get(list)).toEqual(enumOf);
  });

  it("notices drift: a field the server does not send and a null the dashboard does not allow", () => {
    const probe = ts.createSourceFile(
      "probe.ts",
      "interface P { id: string; nope: number; finishedAt: string }",
      ts.ScriptTarget.Latest,
      true,
    );
    const p = probe.statements[0] as ts.InterfaceDeclaration;
    const problems: string[] = [];
    for (const member of p.members) {
      if (!ts.isPropertySignature(member) || member.type === undefined) continue;
      const name = member.name.getText(probe);
      const property = (shared.get("Job") as Schema).properties?.[name];
      if (property === undefined) problems.push(`${name}: missing`);
      else compare(member.type, property, `P.${name}`, problems);
    }
    expect(problems).toEqual([
      "nope: missing",
      "P.finishedAt: the server may send null; the dashboard's type does not allow it",
    ]);
  });
});
