/**
 * What every small chart of the dashboard shares: a fixed viewBox (so live updates redraw in
 * place), a caption with a summary and a legend, the axis, a mid grid line, the top and zero
 * ticks, the first and last x labels, and stacked bars. The charts draw their own marks inside.
 */
import type { ReactNode } from "react";

export const W = 600;
export const H = 120;
export const PAD = { top: 8, right: 8, bottom: 18, left: 48 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;

/** A round-ish axis maximum at or above `max`: 1, 2, 5 × a power of ten. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** The scales of `n` slots up to `top`: x of a slot's left edge, y of a value, a slot's width. */
export function scales(n: number, top: number) {
  const slot = PLOT_W / Math.max(1, n);
  return {
    slot,
    x: (i: number) => PAD.left + i * slot,
    y: (v: number) => PAD.top + PLOT_H - (v / top) * PLOT_H,
  };
}

export interface LegendEntry {
  name: string;
  /** A CSS class setting its colour (fill for bars, stroke for lines). */
  className: string;
}

export function ChartFrame({
  label,
  summary,
  legend,
  top,
  topText,
  first,
  last,
  children,
}: {
  label: string;
  summary: string;
  legend: readonly LegendEntry[];
  top: number;
  /** The top tick's text. */
  topText: string;
  /** The x axis's first and last labels. */
  first: string;
  last: string;
  children: ReactNode;
}) {
  const { y } = scales(1, top);
  return (
    <figure className="chart" aria-label={label}>
      <figcaption>
        <span>{label}</span> <span className="muted">{summary}</span>
        <span className="legend">
          {legend.map((s) => (
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
          {topText}
        </text>
        <text className="tick" x={PAD.left - 4} y={y(0)} textAnchor="end">
          0
        </text>
        <text className="tick" x={PAD.left} y={H - 4}>
          {first}
        </text>
        <text className="tick" x={W - PAD.right} y={H - 4} textAnchor="end">
          {last}
        </text>
        {children}
      </svg>
    </figure>
  );
}

/** One stacked bar per point, a segment per series (zero segments left out), each with its title. */
export function StackedBars<P>({
  points,
  series,
  top,
  keyOf,
  title,
  dataTurn,
}: {
  points: readonly P[];
  series: ReadonlyArray<LegendEntry & { value: (p: P) => number | null }>;
  top: number;
  keyOf: (p: P) => string | number;
  title: (p: P, series: string, value: number) => string;
  /** A `data-turn` attribute for each bar's segments (the run page's tests find turns by it). */
  dataTurn?: (p: P) => number;
}) {
  const { slot, x, y } = scales(points.length, top);
  return (
    <>
      {points.map((p, i) => {
        let base = 0;
        return series.map((s) => {
          const v = s.value(p) ?? 0;
          if (v === 0) return null;
          const rect = (
            <rect
              key={`${keyOf(p)}-${s.name}`}
              className={s.className}
              data-turn={dataTurn?.(p)}
              x={x(i) + slot * 0.1}
              width={slot * 0.8}
              y={y(base + v)}
              height={y(base) - y(base + v)}
            >
              <title>{title(p, s.name, v)}</title>
            </rect>
          );
          base += v;
          return rect;
        });
      })}
    </>
  );
}
