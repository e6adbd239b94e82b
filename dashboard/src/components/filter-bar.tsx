/**
 * The filter bar of a list page, kept in the URL: pickers (selects) and time ranges apply at once,
 * text fields on Enter or Filter. Each page declares its fields; the bar holds the draft of the
 * text fields until they are applied, and follows the URL when it changes (back, a link).
 */
import { type FormEvent, type ReactNode, useEffect, useId, useState } from "react";

export interface FilterOption {
  value: string;
  label: string;
}

export type FilterField =
  /** A picker: "any" (the empty value) first, then the options. */
  | { kind: "select"; name: string; label: string; options: readonly FilterOption[]; anyLabel?: string }
  | { kind: "text"; name: string; label: string; placeholder?: string }
  /** A time range ending now: one of WITHIN (see `withinStart`). */
  | { kind: "within"; name: string; label: string }
  /** The page size: one of `sizes`, the first being the default (kept out of the URL). */
  | { kind: "page-size"; name: string; label: string; sizes: readonly number[] };

/** The time ranges offered, as the URL holds them. */
export const WITHIN: readonly FilterOption[] = [
  { value: "15m", label: "last 15 minutes" },
  { value: "1h", label: "last hour" },
  { value: "24h", label: "last 24 hours" },
  { value: "7d", label: "last 7 days" },
  { value: "30d", label: "last 30 days" },
];

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** When a range such as "24h" starts, as ISO-8601, seen at `now`; undefined for none or an unknown one. */
export function withinStart(value: string, now: number): string | undefined {
  const match = /^(\d{1,4})([mhd])$/.exec(value);
  if (!match) return undefined;
  return new Date(now - Number(match[1]) * (UNIT_MS[match[2] ?? "m"] ?? 0)).toISOString();
}

/** The label of a field's value, for sentences like "state dead, queue mail". */
export function describeFilters(fields: readonly FilterField[], values: Record<string, string>): string {
  const parts: string[] = [];
  for (const f of fields) {
    const v = values[f.name] ?? "";
    if (v === "" || f.kind === "page-size") continue;
    if (f.kind === "within")
      parts.push(`${f.label.toLowerCase()} in the ${WITHIN.find((w) => w.value === v)?.label ?? v}`);
    else if (f.kind === "select")
      parts.push(`${f.label.toLowerCase()} ${f.options.find((o) => o.value === v)?.label ?? v}`);
    else parts.push(`${f.label.toLowerCase()} "${v}"`);
  }
  return parts.length > 0 ? parts.join(", ") : "no filter";
}

export function FilterBar({
  fields,
  values,
  onApply,
  onClear,
}: {
  fields: readonly FilterField[];
  /** What the URL holds now. */
  values: Record<string, string>;
  /** Applies these values (the page puts them in the URL). */
  onApply: (values: Record<string, string>) => void;
  onClear: () => void;
}) {
  const [draft, setDraft] = useState(values);
  const key = JSON.stringify(values);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the URL is the source of truth for the form
  useEffect(() => setDraft(values), [key]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  const now = (name: string, value: string) => {
    const next = { ...draft, [name]: value };
    setDraft(next);
    onApply(next);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="filters">
      {fields.map((f) => {
        const value = draft[f.name] ?? "";
        if (f.kind === "text") {
          return (
            <Field key={f.name} label={f.label}>
              {(id) => (
                <input
                  id={id}
                  value={value}
                  placeholder={f.placeholder}
                  onChange={(e) => setDraft({ ...draft, [f.name]: e.target.value })}
                />
              )}
            </Field>
          );
        }
        if (f.kind === "page-size") {
          return (
            <Field key={f.name} label={f.label}>
              {(id) => (
                <select id={id} value={value || String(f.sizes[0])} onChange={(e) => now(f.name, e.target.value)}>
                  {f.sizes.map((n) => (
                    <option key={n} value={String(n)}>
                      {n}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          );
        }
        const options = f.kind === "within" ? WITHIN : f.options;
        // A value the URL holds but the options lack (a queue gone since) stays choosable.
        const all = value && !options.some((o) => o.value === value) ? [...options, { value, label: value }] : options;
        return (
          <Field key={f.name} label={f.label}>
            {(id) => (
              <select id={id} value={value} onChange={(e) => now(f.name, e.target.value)}>
                <option value="">{f.kind === "within" ? "any time" : (f.anyLabel ?? "any")}</option>
                {all.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
        );
      })}
      <button type="submit">Filter</button>
      <button type="button" onClick={onClear}>
        Clear
      </button>
    </form>
  );
}

/** A field and its label, tied by id, so the field's name is the label's words alone. */
function Field({ label, children }: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <span className="filter-field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </span>
  );
}
