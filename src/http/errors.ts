/**
 * Every failure on the wire is the error envelope (contract/error-envelope.ts), with the status
 * of its code in ERROR_CODES (the one table of code to status). Fastify's own errors (schema
 * validation, malformed JSON, oversized bodies, unknown routes) are mapped to codes here, so bad
 * input is a 4xx naming the field, never a 500. An unexpected error is a 500 with a fixed
 * message: its stack goes to the log, never to the client.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, OverseerError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ErrorEnvelope } from "./contract/error-envelope.js";
import { RAW_SECURITY_HEADERS } from "./security-headers.js";

/** Fastify's error codes for bad requests, and ours for them. Other 4xx from Fastify are INVALID_ARGUMENT. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: "INVALID_ARGUMENT",
    // Fastify's parser also refuses prototype-poisoning keys, and says the same in both cases.
    message: "the request body is not valid JSON, or holds a __proto__ or constructor.prototype key (refused)",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: "INVALID_ARGUMENT",
    message: "the request body is empty but its content-type is application/json; send a JSON value or no content-type",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: "INVALID_ARGUMENT",
    message: "the request body's size does not match its Content-Length",
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: "REQUEST_TOO_LARGE", message: "the request body is too large" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: "the request body must be JSON, sent with content-type application/json",
  },
};

export function envelope(code: ErrorCode, message: string, details: Record<string, unknown> = {}): ErrorEnvelope {
  return { error: { code, message, details } };
}

export function sendError(reply: FastifyReply, err: OverseerError): FastifyReply {
  if (err.code === "UNAUTHENTICATED") reply.header("www-authenticate", 'Bearer realm="overseer"');
  // 429 says when to come back (see busy.ts).
  if (err.code === "BUSY") reply.header("retry-after", String(err.details.retryAfter ?? 1));
  return reply
    .code(err.status)
    .type("application/json")
    .send(envelope(err.code, err.message, err.details));
}

const answeredEarly = new WeakSet<Socket>();

/**
 * Notes a request answered before all its body arrived. Node goes on reading that body on the
 * connection, and if it never completes, the request timeout ends the connection with no answer
 * of its own (see `clientErrorHandler`): the client has had its answer.
 */
export function noteAnsweredEarly(request: IncomingMessage): void {
  if (request.complete) return;
  const { socket } = request;
  answeredEarly.add(socket);
  // Should the body come after all, the connection serves its next request as any other.
  request.once("end", () => answeredEarly.delete(socket));
}

/**
 * A request Node's HTTP parser refused before Fastify saw it (headers too large, a malformed
 * request line), or one that took longer than the request timeout to arrive: answered with the
 * envelope on the raw socket, then closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  // An answer already under way, or already given to the request whose body is still coming
  // (a 401 read from its headers), cannot be followed by another on the same socket.
  if (
    answeredEarly.has(socket) ||
    (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
  ) {
    socket.destroy();
    return;
  }
  const error = clientError(err.code);
  const body = JSON.stringify(envelope(error.code, error.message));
  socket.end(
    `HTTP/1.1 ${error.status} ${REASONS[error.status] ?? "Bad Request"}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${RAW_SECURITY_HEADERS}Connection: close\r\n\r\n${body}`,
  );
}

const REASONS: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large" };

function clientError(code: string | undefined): OverseerError {
  if (code === "HPE_HEADER_OVERFLOW")
    return new OverseerError("REQUEST_TOO_LARGE", "the request line or headers are too large");
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return new OverseerError(
      "REQUEST_TIMEOUT",
      "the request's headers and body took longer than the server waits for them",
    );
  }
  return new OverseerError("INVALID_ARGUMENT", "the request is not valid HTTP");
}

/** Turns anything thrown while handling a request into an OverseerError safe to show the client. */
export function toOverseerError(err: unknown): OverseerError | null {
  if (err instanceof OverseerError) return err;
  const e = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    return validationError(mostSpecific(e.validation), e.validationContext ?? "request");
  }
  const known = e.code === undefined ? undefined : FASTIFY_CODES[e.code];
  if (known) return new OverseerError(known.code, known.message);
  // A SyntaxError raised while parsing a body Fastify already identified as JSON.
  if (err instanceof SyntaxError && e.statusCode === 400) {
    return new OverseerError("INVALID_ARGUMENT", `the request body is not valid JSON: ${err.message}`);
  }
  const status = e.statusCode ?? 0;
  if (status >= 400 && status < 500) {
    return new OverseerError("INVALID_ARGUMENT", e.message ?? "bad request");
  }
  return null;
}

/** Fastify's error handler: the envelope for everything, and the log for what was not expected. */
export function errorHandler(logger: Logger) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const known = toOverseerError(err);
    if (known) return sendError(reply, known);
    // The route pattern, not the raw URL: ids and query strings stay out of the log.
    logger.error({ err, method: request.method, route: request.routeOptions.url }, "HTTP request failed");
    return sendError(reply, new OverseerError("INTERNAL_ERROR", "internal error; the server log has the details"));
  };
}

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * With `anyOf` (one job or an array of them) the validator reports each branch's failure; the
 * deepest one is about the field the client got wrong, not the branch it did not mean.
 */
function mostSpecific(issues: readonly ValidationIssue[]): ValidationIssue {
  const concrete = issues.filter((i) => i.keyword !== "anyOf" && i.keyword !== "oneOf");
  const candidates = concrete.length > 0 ? concrete : issues;
  let best = candidates[0] as ValidationIssue;
  for (const issue of candidates) if (issue.instancePath.length > best.instancePath.length) best = issue;
  return best;
}

/** One line naming the field at fault: `body.options.priority: must be integer`. */
function validationError(issue: ValidationIssue, context: string): OverseerError {
  const path = [context, ...issue.instancePath.split("/").filter((p) => p !== "")].join(".");
  const extra = issue.params.additionalProperty;
  if (issue.keyword === "additionalProperties" && typeof extra === "string") {
    return new OverseerError("INVALID_ARGUMENT", `${path}: unknown field "${extra}"`, { field: `${path}.${extra}` });
  }
  const missing = issue.params.missingProperty;
  if (issue.keyword === "required" && typeof missing === "string") {
    return new OverseerError("INVALID_ARGUMENT", `${path}.${missing}: is required`, { field: `${path}.${missing}` });
  }
  const allowed = issue.params.allowedValues;
  const message =
    issue.keyword === "enum" && Array.isArray(allowed)
      ? `must be one of ${allowed.join(", ")}`
      : (issue.message ?? "is invalid");
  return new OverseerError("INVALID_ARGUMENT", `${path}: ${message}`, { field: path });
}
