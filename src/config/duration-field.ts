/**
 * A duration field of the config file: a string such as `30s` or `5m`, or milliseconds, read by
 * `parseDuration`. A bad value is refused with parseDuration's message, under the field's path.
 */
import { z } from "zod";
import { parseDuration } from "../core/duration.js";

export const durationField = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value, "duration");
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^duration /, "") });
    return z.NEVER;
  }
});
