/**
 * Routes typed from the contract: with this type provider a handler's params, query string and
 * body have the types of the route's schemas, and what it returns or sends must fit the answer
 * schema of its status, so the handlers and the schemas cannot drift apart either. Answers are
 * checked against the listed properties only (as the serialiser writes them), so a handler may
 * return a domain record that carries more.
 */
import type { FastifyInstance, FastifyTypeProvider } from "fastify";
import type { JSONSchema } from "json-schema-to-ts";
import type { Accepted, Served } from "./contract/schema.js";

export interface ContractProvider extends FastifyTypeProvider {
  validator: this["schema"] extends JSONSchema ? Accepted<this["schema"]> : unknown;
  serializer: this["schema"] extends JSONSchema ? Served<this["schema"]> : unknown;
}

/** The routes' view of the app: the same instance, typed by the contract's schemas. */
export function typed(app: FastifyInstance) {
  return app.withTypeProvider<ContractProvider>();
}
