/**
 * /api/v1/mcp: Overseer's MCP tools over streamable HTTP (see mcp/ and docs/mcp.md), in the
 * SDK's stateless mode: each POST gets a server and a transport of its own, acting as the token
 * that authenticated it, so a session needs no state between requests and every request is
 * checked as any other (the route takes any viewer; write tools check for operator).
 *
 * The answer is the SDK's web Response, sent through Fastify so that the security headers,
 * metrics and error envelope apply. A request ends its server when its response closes, and
 * the server's shutdown ends the requests still open (a wait_for_decision can last minutes).
 */
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { scopeAllows } from "../../auth/scopes.js";
import { OverseerError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { LocalMcpBackend } from "../../mcp/local-backend.js";
import { createMcpServer } from "../../mcp/server.js";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/mcp.js";

/** The request headers the transport reads; the token stays out of its reach. */
const PASSED_HEADERS = ["accept", "content-type", "mcp-protocol-version", "mcp-session-id", "last-event-id"];

export function mcpRoutes(overseer: Overseer, logger: Logger) {
  return async (app: FastifyInstance): Promise<void> => {
    const open = new Set<() => Promise<void>>();
    app.addHook("preClose", async () => {
      await Promise.all([...open].map((close) => close()));
    });

    app.post("/mcp", { config: { scope: "viewer" }, schema: contract.postMcpMessage }, async (request, reply) => {
      const token = request.token;
      if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
      const actor = { name: token.name, mayOperate: scopeAllows(token.scope, "operator"), channel: "api" as const };
      const server = createMcpServer({
        backend: new LocalMcpBackend(overseer, actor, false),
        access: { name: token.name, scope: token.scope },
        logger,
      });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      const close = async () => {
        open.delete(close);
        // Closing the server closes its transport and aborts its tools (a wait ends at once).
        await server.close();
      };
      open.add(close);
      reply.raw.once("close", () => void close());
      await server.connect(transport);
      const response = await transport.handleRequest(webRequest(request), { parsedBody: request.body });
      // The transport's status, whichever it is (the schema lists those the document names).
      reply.code(response.status as 200);
      response.headers.forEach((value, name) => {
        reply.header(name, value);
      });
      if (response.body === null) return reply.send();
      if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
        return reply.send(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>));
      }
      return reply.send(await response.text());
    });

    app.get("/mcp", { config: { scope: "viewer" }, schema: contract.getMcpStream }, async (_request, reply) => {
      reply.header("allow", "POST");
      throw new OverseerError(
        "METHOD_NOT_ALLOWED",
        "this MCP endpoint is stateless and sends no server-initiated messages; POST your messages",
        { allow: ["POST"] },
      );
    });
  };
}

/** What the SDK's transport reads of a request: method, URL and the protocol's headers. */
function webRequest(request: FastifyRequest): Request {
  const headers = new Headers();
  for (const name of PASSED_HEADERS) {
    const value = request.headers[name];
    if (typeof value === "string") headers.set(name, value);
  }
  return new Request(new URL(request.url, "http://localhost"), { method: "POST", headers });
}
