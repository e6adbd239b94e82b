/**
 * Small per-minute charts in plain SVG: stacked bars for counts, lines for latencies, in the
 * shared frame of chart-frame.tsx.
 */
import type { MinuteBucket } from "../../../src/http/contract";
import { ChartFrame, type LegendEntry, niceMax, StackedBars, scales } from "./chart-frame";

/** A bucket: a minute of /stats, or a longer bucket of /stats/series; `start` is ISO. */
interface Bucket {
  start: string;
}

export interface Series<B extends Bucket = MinuteBucket> extends LegendEntry {
  value: (b: B) => number | null;
}

const hourMinute = (iso: string | undefined) => (iso ? iso.slice(11, 16) : "");

/** An axis label: "20", "500 ms", "2 s". */
function tick(value: number, unit: string): string {
  if (unit !== "ms") return String(value);
  return value >= 1000 ? `${value / 1000} s` : `${value} ms`;
}

export function MinuteChart<B extends Bucket = MinuteBucket>({
  label,
  buckets,
  series,
  kind,
  unit,
  span,
  time = hourMinute,
}: {
  label: string;
  buckets: readonly B[];
  series: readonly Series<B>[];
  kind: "bars" | "lines";
  unit: string;
  /** What the buckets cover, for the summary: "the last 60 minutes" unless given. */
  span?: string;
  /** A bucket's start as an axis and tooltip label: "14:05" unless given. */
  time?: (iso: string | undefined) => string;
}) {
  const totals = buckets.map((b) =>
    kind === "bars"
      ? series.reduce((sum, s) => sum + (s.value(b) ?? 0), 0)
      : Math.max(0, ...series.map((s) => s.value(b) ?? 0)),
  );
  const top = niceMax(Math.max(0, ...totals));
  const { slot, x, y } = scales(buckets.length, top);
  const sum = buckets.reduce((acc, b) => acc + series.reduce((s2, s) => s2 + (s.value(b) ?? 0), 0), 0);
  const summary =
    kind === "bars"
      ? `${sum} in ${span ?? `the last ${buckets.length} minutes`}`
      : `peak ${Math.max(0, ...totals)} ${unit}`;

  return (
    <ChartFrame
      label={label}
      summary={summary}
      legend={series}
      top={top}
      topText={tick(top, unit)}
      first={time(buckets[0]?.start)}
      last="now"
    >
      {kind === "bars" && (
        <StackedBars
          points={buckets}
          series={series}
          top={top}
          keyOf={(b) => b.start}
          title={(b, name, v) => `${time(b.start)} ${name}: ${v}`}
        />
      )}
      {kind === "lines" &&
        series.map((s) => {
          // A gap where a minute had no value, rather than a line through zero.
          let d = "";
          let pen = false;
          buckets.forEach((b, i) => {
            const v = s.value(b);
            if (v === null) {
              pen = false;
              return;
            }
            d += `${pen ? "L" : "M"}${(x(i) + slot / 2).toFixed(1)} ${y(v).toFixed(1)} `;
            pen = true;
          });
          return (
            <g key={s.name} className={s.className}>
              <path d={d.trim()} fill="none" />
              {buckets.map((b, i) => {
                const v = s.value(b);
                return v === null ? null : (
                  <circle key={b.start} cx={x(i) + slot / 2} cy={y(v)} r={2}>
                    <title>{`${time(b.start)} ${s.name}: ${v} ms`}</title>
                  </circle>
                );
              })}
            </g>
          );
        })}
    </ChartFrame>
  );
}
