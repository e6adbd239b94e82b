/**
 * Reads the Prometheus text exposition format (what /metrics answers) into its metric families,
 * and checks it against the format's rules and Prometheus's naming conventions: what `promtool
 * check metrics` refuses, checked in-process, so that the checks run where promtool is not
 * installed too.
 */

export interface MetricFamily {
  name: string;
  type: string | null;
  help: string | null;
  /** Sample lines (`name{labels} value`) of this family, including a histogram's _bucket, _sum, _count. */
  samples: string[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
/** The series a histogram or summary family adds to its name. */
const SERIES_SUFFIXES: Record<string, readonly string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["_sum", "_count"],
};
const RESERVED_SUFFIXES = ["_bucket", "_sum", "_count"];
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|NaN|[+-]Inf)$/;

/** A sample line's value: what follows its name and labels (label values may hold spaces and braces). */
function sampleValue(line: string): string | null {
  let at = /^[^{\s]+/.exec(line)?.[0].length ?? 0;
  if (line[at] === "{") {
    let quoted = false;
    for (at += 1; at < line.length; at++) {
      const c = line[at];
      if (quoted && c === "\\") at++;
      else if (c === '"') quoted = !quoted;
      else if (!quoted && c === "}") break;
    }
    at++;
  }
  const rest = line.slice(at).trim().split(/\s+/);
  // A value, and optionally a timestamp in ms.
  if (rest.length > 2 || (rest.length === 2 && !/^-?\d+$/.test(rest[1] as string))) return null;
  return rest[0] || null;
}

/** The families in a scrape, by name, in the order they appear. */
export function parseFamilies(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: null, help: null, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const line of text.split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const f = family(meta[2] as string);
      if (meta[1] === "HELP") f.help = meta[3] ?? "";
      else f.type = meta[3] ?? "";
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const name = /^[^{\s]+/.exec(line)?.[0] ?? line;
    family(familyOf(name, families)).samples.push(line);
  }
  return families;
}

/** The family a sample's name belongs to: its own, or the histogram or summary it is a series of. */
function familyOf(sampleName: string, families: Map<string, MetricFamily>): string {
  if (families.has(sampleName)) return sampleName;
  for (const [type, suffixes] of Object.entries(SERIES_SUFFIXES)) {
    for (const suffix of suffixes) {
      if (!sampleName.endsWith(suffix)) continue;
      const base = sampleName.slice(0, -suffix.length);
      if (families.get(base)?.type === type) return base;
    }
  }
  return sampleName;
}

/** What is wrong with a scrape, one sentence per problem; none for a clean one. */
export function expositionProblems(text: string): string[] {
  const problems: string[] = [];
  const seen = { help: new Set<string>(), type: new Set<string>() };
  for (const line of text.split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
    if (!meta) continue;
    const kind = meta[1] === "HELP" ? seen.help : seen.type;
    if (kind.has(meta[2] as string)) problems.push(`${meta[2]}: a second # ${meta[1]} line`);
    kind.add(meta[2] as string);
  }
  for (const f of parseFamilies(text).values()) {
    if (!NAME.test(f.name)) problems.push(`${f.name}: not a valid metric name`);
    if (f.help === null) problems.push(`${f.name}: no # HELP line`);
    else if (f.help.trim() === "") problems.push(`${f.name}: an empty # HELP text`);
    if (f.type === null) {
      problems.push(`${f.name}: no # TYPE line`);
      continue;
    }
    if (!TYPES.has(f.type)) problems.push(`${f.name}: unknown type ${f.type}`);
    if (f.type === "counter" && !f.name.endsWith("_total")) {
      problems.push(`${f.name}: a counter whose name does not end in _total`);
    }
    if (f.type !== "counter" && f.name.endsWith("_total")) {
      problems.push(`${f.name}: a ${f.type} whose name ends in _total, which is for counters`);
    }
    if (!(f.type in SERIES_SUFFIXES) && RESERVED_SUFFIXES.some((s) => f.name.endsWith(s))) {
      problems.push(`${f.name}: a ${f.type} whose name ends in a histogram or summary series' suffix`);
    }
    for (const sample of f.samples) {
      const value = sampleValue(sample);
      if (value === null || !VALUE.test(value)) problems.push(`${f.name}: a sample without a number: ${sample}`);
    }
    if (f.type === "histogram" && f.samples.length > 0 && !f.samples.some((s) => s.includes('le="+Inf"'))) {
      problems.push(`${f.name}: a histogram without its le="+Inf" bucket`);
    }
  }
  return problems;
}

/** The value of one series of a scrape, e.g. `overseer_jobs{queue="default",state="queued"}`; null when absent. */
export function seriesValue(text: string, series: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}
