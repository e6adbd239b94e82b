/**
 * "overseer/http": the HTTP API for programs that embed it in their own process, and the token
 * helpers it authenticates with. A separate entry point, so that importing "overseer" does not
 * load Fastify into every worker.
 */
export { authenticate, type CreatedToken, createToken, generateSecret, hashSecret } from "../auth/tokens.js";
export type { TokenRecord, TokenScope } from "../core/types.js";
export {
  API_PREFIX,
  buildHttpServer,
  DEFAULT_HOST,
  DEFAULT_PORT,
  type HttpServer,
  type HttpServerOptions,
  type RouteInfo,
  type StartedHttpServer,
  startHttpServer,
} from "./server.js";
