/**
 * The pieces every resource's contract is built from, and the two ways a schema becomes a type.
 * Schemas are plain JSON Schema objects `as const`: Fastify validates and serialises with them,
 * @fastify/swagger documents them, and json-schema-to-ts reads their literal types, so a record,
 * body or answer is written once. Nothing here may import Node or server code: the dashboard
 * type-checks and bundles the contract.
 *
 * A `required` list names fields the server always sends, so clients need not guard them (it is
 * complete for runs, their turns, schedules, the stats and the retry preview; other records list
 * fewer). The serialiser writes required properties first, then the others, each in `properties`
 * order: a property made required moves ahead in `properties` too, or its place on the wire
 * changes. Jobs, attempts, events and workers cannot do that: a job's payload, result and
 * progress are omitted when undefined, so they stay optional between fields it always sends, and
 * the CLI's remote mode restores the store's field order from those records' `properties`.
 */
import type { FromSchema, JSONSchema } from "json-schema-to-ts";
import type { SharedSchemas } from "./shared-schemas.js";

export const string = { type: "string" } as const;
export const nullableString = { type: ["string", "null"] } as const;
export const isoTime = { type: "string", format: "date-time" } as const;
export const nullableTime = { type: ["string", "null"], format: "date-time" } as const;
export const integer = { type: "integer" } as const;
export const nullableInteger = { type: ["integer", "null"] } as const;
export const openObject = { type: "object", additionalProperties: true } as const;
/** Any JSON value: payloads, results and progress are the user's own. */
export const anyJson = {} as const;

/** A shared record, by the `$id` it is registered under (see SHARED_SCHEMAS). */
export function ref<const Id extends string>(id: Id): { readonly $ref: `${Id}#` } {
  return { $ref: `${id}#` };
}

/** A listing's page: `{items, nextCursor}` of the shared record `id` (see http/cursor.ts). */
export function pageSchema<const Id extends string>(id: Id) {
  return {
    type: "object",
    required: ["items", "nextCursor"],
    properties: {
      items: { type: "array", items: ref(id) },
      nextCursor: { type: ["string", "null"], description: "Pass as cursor for the next page." },
    },
  } as const;
}

type Envelopes<Status extends number> = { readonly [S in Status]: { readonly $ref: "ErrorEnvelope#" } };

/** Every error status a route may answer, all with the envelope. */
export function errorResponses<const Status extends number>(...statuses: Status[]): Envelopes<Status> {
  return Object.fromEntries(statuses.map((s) => [s, ref("ErrorEnvelope")])) as Envelopes<Status>;
}

/** `{id}` in a path: a record's ULID; the description says whose. */
export function idParams<const Description extends string>(description: Description) {
  return {
    type: "object",
    required: ["id"],
    additionalProperties: false,
    properties: { id: { type: "string", minLength: 1, maxLength: 64, description } },
  } as const;
}

/** Optimistic concurrency in a body: the `version` the caller read. `If-Match` does the same. */
export const versionBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    version: {
      type: "integer",
      minimum: 0,
      description: "Refuse with 409 if the record is no longer at this version.",
    },
  },
} as const;

/** `$ref: "Job#"` and the like resolve to the shared records. */
type Resolved = { references: [...SharedSchemas] };

/**
 * What the server accepts for a request schema (a body, a query string, path params): JSON
 * Schema's meaning, so an object without `additionalProperties: false` takes other fields too.
 */
export type Accepted<Schema extends JSONSchema> = FromSchema<Schema, Resolved>;

/**
 * What a client receives for a response schema. Fastify's serialiser writes only the properties
 * a schema lists (unless it says `additionalProperties`), so a record's type has exactly those:
 * the index signature JSON Schema's default would add is dropped wherever properties are listed.
 */
export type Served<Schema extends JSONSchema> = Listed<FromSchema<Schema, Resolved>>;

type Listed<T> = T extends readonly (infer Item)[]
  ? Listed<Item>[]
  : T extends object
    ? keyof Named<T> extends never
      ? { [K in keyof T]: Listed<T[K]> }
      : { [K in keyof T as NamedKey<K>]: Listed<T[K]> }
    : T;

/** T's listed properties: a mapped type over `keyof T` sees each property and index signature apart. */
type Named<T> = { [K in keyof T as NamedKey<K>]: T[K] };
type NamedKey<K> = string extends K ? never : number extends K ? never : K;
