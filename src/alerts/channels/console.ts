/**
 * Console channel for development: one log line per notification through Overseer's logger
 * (pino in a server, so the line is JSON with the fields below). It never fails.
 */
import type { Logger } from "../../core/logger.js";
import { type Channel, markedTitle } from "./channel.js";

export function createConsoleChannel(name: string, logger: Logger): Channel {
  return {
    name,
    type: "console",
    async send(n) {
      logger.info(
        {
          channel: name,
          kind: n.kind,
          id: n.id,
          title: markedTitle(n),
          ...(n.request === undefined ? {} : { request: n.request }),
          ...(n.details === undefined ? {} : { details: n.details }),
          ...(n.links === undefined ? {} : { links: n.links.map((l) => l.url) }),
          ...(n.actions === undefined ? {} : { actions: n.actions }),
          ...(n.bundle === undefined ? {} : { bundled: n.bundle.total }),
          at: n.at,
        },
        `notification: ${markedTitle(n)}`,
      );
      return undefined; // a log line is never changed later: no receipt
    },
  };
}
