/**
 * The form that starts a run: a profile, then one field per param of its schema, prefilled with
 * the defaults. The browser does not validate (noValidate): the server checks params against the
 * profile and its answer (INVALID_RUN_PARAMS naming the field, 403 for a non-admin token) is shown
 * next to the field it names, so the form never disagrees with the server.
 */
import { type FormEvent, type ReactNode, useEffect, useState } from "react";
import type { Run, RunParam, RunProfile } from "../../../src/http/contract";
import { ApiError, api } from "../api/client";
import { duration } from "./common";

type Draft = Record<string, string | boolean>;

function initialDraft(profile: RunProfile | undefined): Draft {
  const draft: Draft = {};
  for (const [name, schema] of Object.entries(profile?.params ?? {})) {
    if (schema.type === "boolean") draft[name] = schema.default === true;
    else draft[name] = schema.default === undefined ? "" : String(schema.default);
  }
  return draft;
}

/** The params to send: typed by the schema; an empty field is left out (the server applies its default or says it is required). */
export function paramsFromDraft(profile: RunProfile, draft: Draft): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(profile.params)) {
    const value = draft[name];
    if (schema.type === "boolean") {
      params[name] = value === true;
      continue;
    }
    if (typeof value !== "string" || value === "") continue;
    if (schema.type === "number" || schema.type === "integer") {
      const n = Number(value);
      params[name] = Number.isFinite(n) ? n : value; // not a number: sent as typed, so the server says why
    } else {
      params[name] = value;
    }
  }
  return params;
}

function isRequired(schema: RunParam): boolean {
  return schema.required !== false && schema.default === undefined;
}

/** "integer, 0 to 10", "string matching ^[a-z]+$": the schema's rules in a few words. */
function rules(schema: RunParam): string {
  const parts: string[] = [schema.type];
  if (schema.minimum !== undefined && schema.maximum !== undefined)
    parts.push(`${schema.minimum} to ${schema.maximum}`);
  else if (schema.minimum !== undefined) parts.push(`at least ${schema.minimum}`);
  else if (schema.maximum !== undefined) parts.push(`at most ${schema.maximum}`);
  if (schema.minLength !== undefined && schema.maxLength !== undefined)
    parts.push(`${schema.minLength} to ${schema.maxLength} characters`);
  else if (schema.minLength !== undefined) parts.push(`at least ${schema.minLength} characters`);
  else if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`);
  if (schema.pattern !== undefined) parts.push(`matching ${schema.pattern}`);
  return parts.join(", ");
}

function ParamField({
  name,
  schema,
  value,
  problem,
  onChange,
}: {
  name: string;
  schema: RunParam;
  value: string | boolean;
  problem: string | null;
  onChange: (value: string | boolean) => void;
}) {
  const id = `param-${name}`;
  const hint = `${id}-hint`;
  const common = {
    id,
    "aria-describedby": hint,
    "aria-invalid": problem ? true : undefined,
  } as const;
  let input: ReactNode;
  if (schema.type === "boolean") {
    input = <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  } else if (schema.enum) {
    input = (
      <select {...common} value={String(value)} onChange={(e) => onChange(e.target.value)}>
        {!isRequired(schema) || value === "" ? <option value="">—</option> : null}
        {schema.enum.map((option) => (
          <option key={String(option)} value={String(option)}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  } else if (schema.type === "string") {
    input = (
      <input
        {...common}
        value={String(value)}
        maxLength={schema.maxLength}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else {
    input = (
      <input
        {...common}
        type="number"
        step={schema.type === "integer" ? 1 : "any"}
        min={schema.minimum}
        max={schema.maximum}
        value={String(value)}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  return (
    <div className={problem ? "param param-invalid" : "param"}>
      <label htmlFor={id}>
        {name}
        {isRequired(schema) && <span className="muted"> (required)</span>}
      </label>
      {input}
      <span id={hint} className="muted small-note">
        {schema.description ? `${schema.description} · ` : ""}
        {rules(schema)}
      </span>
      {problem && (
        <span className="error small-note" data-testid={`problem-${name}`}>
          {problem}
        </span>
      )}
    </div>
  );
}

export function StartRunForm({ profiles, onStarted }: { profiles: RunProfile[]; onStarted: (run: Run) => void }) {
  const [name, setName] = useState(profiles[0]?.name ?? "");
  const profile = profiles.find((p) => p.name === name);
  const [draft, setDraft] = useState<Draft>(() => initialDraft(profile));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new profile starts from its own defaults
  useEffect(() => {
    setDraft(initialDraft(profile));
    setError(null);
  }, [name]);

  if (profiles.length === 0) {
    return (
      <p className="muted">
        No run profiles are configured: add some under <code>runs.profiles</code> in the config file and restart.
      </p>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!profile) return;
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ run: Run }>("/runs", {
        method: "POST",
        body: { profile: profile.name, params: paramsFromDraft(profile, draft) },
      });
      onStarted(answer.run);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };

  // INVALID_RUN_PARAMS (and schema errors) name the field: "params.goal".
  const field = error instanceof ApiError && typeof error.details.field === "string" ? error.details.field : "";
  const problemOf = (param: string) => (error && field === `params.${param}` ? error.message : null);
  const params = Object.entries(profile?.params ?? {});
  return (
    <form className="start-run" onSubmit={submit} noValidate aria-label="start a run">
      <div className="param">
        <label htmlFor="run-profile">Profile</label>
        <select id="run-profile" value={name} onChange={(e) => setName(e.target.value)}>
          {profiles.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name}
            </option>
          ))}
        </select>
        {profile && (
          <span className="muted small-note">
            {profile.description ? `${profile.description} · ` : ""}
            <code>{[profile.command, ...profile.args].join(" ")}</code> · up to {profile.maxTurns} turns of at most{" "}
            {duration(profile.turnTimeoutMs)} · done when {completionRule(profile)}
          </span>
        )}
      </div>
      {params.length === 0 && <p className="muted">This profile takes no params.</p>}
      {params.map(([param, schema]) => (
        <ParamField
          key={`${name}.${param}`}
          name={param}
          schema={schema}
          value={draft[param] ?? ""}
          problem={problemOf(param)}
          onChange={(value) => setDraft({ ...draft, [param]: value })}
        />
      ))}
      <div className="toolbar">
        <button type="submit" disabled={busy || !profile}>
          Start run
        </button>
        {error && (
          <output className="error" role="alert" aria-label="start result">
            {describeStartError(error)}
          </output>
        )}
      </div>
    </form>
  );
}

function completionRule(profile: RunProfile): string {
  const { stopFile, pattern, exitCode } = profile.completion;
  const rules: string[] = [];
  if (stopFile !== undefined) rules.push(`${stopFile} appears`);
  if (pattern !== undefined) rules.push(`a line matches /${pattern}/`);
  if (exitCode !== undefined) rules.push(`a turn exits ${exitCode}`);
  return rules.join(" or ") || "—";
}

/** The server's answer as a sentence; a 403 says what token would do. */
function describeStartError(error: Error): string {
  if (!(error instanceof ApiError)) return error.message;
  if (error.status === 403) return `${error.describe()} (starting a run needs an admin token)`;
  return error.describe();
}
