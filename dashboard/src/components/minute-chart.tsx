/**
 * Small per-minute charts in plain SVG: stacked bars for counts, lines for latencies. A fixed
 * viewBox and a fixed box size, so live updates redraw in place without moving the page.
 */
import type { MinuteBucket } from "../api/types";

export interface Series {
  name: string;
  /** A CSS class setting its colour (fill for bars, stroke for lines). */
  className: string;
  value: (b: MinuteBucket) => number | null;
}

const W = 600;
const H = 120;
const PAD = { top: 8, right: 8, bottom: 18, left: 48 };

/** A round-ish axis maximum at or above `max`: 1, 2, 5 × a power of ten. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
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
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const n = Math.max(1, buckets.length);
  const slot = plotW / n;
  const totals = buckets.map((b) =>
    kind === "bars"
      ? series.reduce((sum, s) => sum + (s.value(b) ?? 0), 0)
      : Math.max(0, ...series.map((s) => s.value(b) ?? 0)),
  );
  const top = niceMax(Math.max(0, ...totals));
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const x = (i: number) => PAD.left + i * slot;
  const sum = buckets.reduce((acc, b) => acc + series.reduce((s2, s) => s2 + (s.value(b) ?? 0), 0), 0);
  const summary =
    kind === "bars" ? `${sum} in the last ${buckets.length} minutes` : `peak ${Math.max(0, ...totals)} ${unit}`;

  return (
    <figure className="chart" aria-label={label}>
      <figcaption>
        <span>{label}</span> <span className="muted">{summary}</span>
        <span className="legend">
          {series.map((s) => (
            <span key={s.name} className={`legend-item ${s.className}`}>
              {s.name}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${summary}`}>
        <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} />
        <line className="grid" x1={PAD.left} x2={W - PAD.right} y1={y(top / 2)} y2={y(top / 2)} />
        <text className="tick" x={PAD.left - 4} y={y(top) + 8} textAnchor="end">
          {tick(top, unit)}
        </text>
        <text className="tick" x={PAD.left - 4} y={y(0)} textAnchor="end">
          0
        </text>
        <text className="tick" x={PAD.left} y={H - 4}>
          {time(buckets[0]?.start)}
        </text>
        <text className="tick" x={W - PAD.right} y={H - 4} textAnchor="end">
          now
        </text>
        {kind === "bars" &&
          buckets.map((b, i) => {
            let base = 0;
            return series.map((s) => {
              const v = s.value(b) ?? 0;
              if (v === 0) return null;
              const rect = (
                <rect
                  key={`${b.start}-${s.name}`}
                  className={s.className}
                  x={x(i) + slot * 0.1}
                  width={slot * 0.8}
                  y={y(base + v)}
                  height={y(base) - y(base + v)}
                >
                  <title>{`${time(b.start)} ${s.name}: ${v}`}</title>
                </rect>
              );
              base += v;
              return rect;
            });
          })}
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
      </svg>
    </figure>
  );
}
