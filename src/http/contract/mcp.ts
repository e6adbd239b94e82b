/**
 * /api/v1/mcp: the Model Context Protocol over streamable HTTP (see docs/mcp.md). The messages
 * are JSON-RPC, as the MCP specification has them, not records of this API: the document
 * names the transport's answers and leaves the messages to the specification.
 */
import { errorResponses } from "./schema.js";

export const postMcpMessage = {
  tags: ["mcp"],
  operationId: "postMcpMessage",
  summary: "Send MCP messages: tools for agents to enqueue, ask for approval, wait, claim and learn",
  description:
    "The MCP streamable HTTP transport in stateless mode: each POST carries one JSON-RPC message (or a batch) and " +
    "its answer comes back in the response, as a Server-Sent Events stream. Send `Accept: application/json, " +
    "text/event-stream`. Any token may list and call the reading tools; the writing tools need the operator " +
    "scope, and a viewer's call is answered with a tool error (FORBIDDEN), not an HTTP error. Errors of the " +
    "protocol itself (a malformed message, a missing Accept) are JSON-RPC errors, as the specification says.",
  body: {
    description: "A JSON-RPC request, notification or response, or a batch of them.",
    anyOf: [{ type: "object" }, { type: "array", items: { type: "object" } }],
  },
  response: {
    200: {
      description: "The answer to the request: a Server-Sent Events stream of JSON-RPC messages.",
      content: {
        "text/event-stream": {
          schema: { type: "string", description: "Server-Sent Events, each `data:` one JSON-RPC message." },
        },
      },
    },
    202: { description: "The body held only notifications or responses: accepted, nothing to answer.", type: "null" },
    ...errorResponses(400, 401, 403),
    406: {
      description: "The Accept header does not list both application/json and text/event-stream (a JSON-RPC error).",
      type: "object",
      additionalProperties: true,
    },
  },
} as const;

/**
 * Kept out of the document: it never succeeds (an operation there must), and POST is the
 * endpoint. MCP clients may GET it for a stream of server-initiated messages; the 405 says there
 * is none, as the specification asks.
 */
export const getMcpStream = {
  hide: true,
  summary: "Always 405 METHOD_NOT_ALLOWED: the stateless endpoint sends no server-initiated stream",
} as const;
