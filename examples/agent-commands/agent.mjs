// A scripted stand-in for a coding agent working through a backlog, speaking only the Model
// Context Protocol to Overseer (the official SDK's client over streamable HTTP, with a token of
// its own): for each item it takes the item's claim, so that no other agent works on it, and
// proposes the item's command; then it waits for each decision and releases the claim.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

export async function connectAgent(name, { url, token }) {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/api/v1/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);

  /** Calls a tool: its structured answer, or an Error with Overseer's `CODE: message`. */
  const call = async (tool, args) => {
    const result = await client.callTool({ name: tool, arguments: args });
    if (result.isError) throw new Error(result.content.map((c) => c.text).join(" "));
    return result.structuredContent;
  };

  return {
    name,
    call,
    /**
     * Takes the claims it can get, racing other agents: each item ends with exactly one owner.
     * The items it took, and, for the rest, who held them.
     */
    async claim(backlog) {
      const took = [];
      const lost = [];
      for (const item of backlog) {
        try {
          await call("take_claim", {
            key: item.id,
            owner: name,
            ttl: "10m",
            role: "implementer",
            agent: name,
            fingerprint: `${name}:${process.pid}`,
          });
          took.push(item);
        } catch (err) {
          lost.push({ item, why: err.message });
        }
      }
      return { took, lost };
    },
    /** Proposes an item's command; the job that carries it. */
    async propose(item) {
      const proposed = await call("propose_command", {
        command: item.command,
        title: item.title,
        reason: `backlog item ${item.id}`,
      });
      return proposed.jobId;
    },
    /** Waits until the proposal is decided and its job has finished (a minute at a time). */
    async outcome(jobId) {
      for (;;) {
        const view = await call("wait_for_decision", { jobId, timeoutSeconds: 60 });
        if (view.done) return view;
      }
    },
    release: (item) => call("release_claim", { key: item.id, owner: name }),
    close: () => client.close(),
  };
}
