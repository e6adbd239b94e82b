/**
 * Small per-minute charts in plain SVG: stacked bars for counts, lines for latencies, in the
 * shared frame of chart-frame.tsx.
 */
import type { MinuteBucket } from "../../../src/http/contract";
import { ChartFrame, type LegendEntry, niceMax, StackedBars, scales } from "./chart-frame";

export interface Series extends LegendEntry {
  value: (b: MinuteBucket) => number | null;
}

const time = (iso: string | undefined) => (iso ? iso.slice(11, 16) : "");

/** An axis label: "20", "500 ms", "2 s". */
function tick(value: number, unit: string): string {
  if (unit !== "ms") return String(value);
  return value >= 1000 ? `${value / 1000} s` : `${value} ms`;
}

export function MinuteChart({
  label,
  buckets,
  series,
  kind,
  unit,
}: {
  label: string;
  buckets: readonly MinuteBucket[];
  series: readonly Series[];
  kind: "bars" | "lines";
  unit: string;
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
    kind === "bars" ? `${sum} in the last ${buckets.length} minutes` : `peak ${Math.max(0, ...totals)} ${unit}`;

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
