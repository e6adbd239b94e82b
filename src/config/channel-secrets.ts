/**
 * Reading the channels' secrets from the environment, when a worker first needs them: `env:NAME`
 * references only, so no secret is ever written in a config file. Kept apart from the channels'
 * zod schema (config/alert-channels.ts) so that an Overseer can resolve them without loading it.
 */
import { standardSecretProblem } from "../alerts/channels/webhook.js";
import { OverseerError } from "../core/errors.js";
import type { ChannelConfig, ResolvedChannelConfig } from "./alert-channels.js";

/** How a config names a secret: `env:NAME`. */
export const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** Reads every `env:NAME` secret; a variable that is missing or empty is an INVALID_CONFIG naming it. */
export function resolveAlertChannels(
  channels: readonly ChannelConfig[],
  env: Record<string, string | undefined> = process.env,
  source = "config",
): ResolvedChannelConfig[] {
  const read = (ref: string, field: string): string => {
    const name = (ENV_REF.exec(ref) as RegExpExecArray)[1] as string;
    const value = env[name];
    if (value === undefined || value === "") {
      throw invalid(source, `${field}: environment variable ${name} is not set (referenced as ${ref})`);
    }
    return value;
  };
  return channels.map((c): ResolvedChannelConfig => {
    const at = `alerts.channels.${c.name}`;
    if (c.type === "webhook") {
      const secretValue = read(c.secret, `${at}.secret`);
      const problem = c.signature === "standard" ? standardSecretProblem(secretValue) : null;
      if (problem !== null) throw invalid(source, `${at}.secret: ${problem} (read from ${c.secret})`);
      return { ...c, secretValue };
    }
    if (c.type === "telegram") return { ...c, botTokenValue: read(c.botToken, `${at}.botToken`) };
    if (c.type === "sms" || c.type === "voice") {
      return { ...c, authTokenValue: read(c.provider.authToken, `${at}.provider.authToken`) };
    }
    if (c.type === "email" && c.password !== undefined) {
      return { ...c, passwordValue: read(c.password, `${at}.password`) };
    }
    return c;
  });
}

function invalid(source: string, message: string): OverseerError {
  return new OverseerError("INVALID_CONFIG", `${source}: ${message}`, { source });
}
