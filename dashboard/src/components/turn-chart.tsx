/**
 * Tokens per turn in plain SVG, in the house style of minute-chart.tsx: stacked bars (input,
 * output) in a fixed viewBox, so a turn arriving live redraws in place.
 */
import { count } from "./common";
import { niceMax } from "./minute-chart";

export interface TurnTokens {
  turn: number;
  input: number;
  output: number;
}

const W = 600;
const H = 120;
const PAD = { top: 8, right: 8, bottom: 18, left: 48 };

const SERIES = [
  { name: "input", className: "series-in", value: (t: TurnTokens) => t.input },
  { name: "output", className: "series-out", value: (t: TurnTokens) => t.output },
] as const;

export function TurnChart({ label, turns }: { label: string; turns: readonly TurnTokens[] }) {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const n = Math.max(1, turns.length);
  const slot = plotW / n;
  const top = niceMax(Math.max(0, ...turns.map((t) => t.input + t.output)));
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const x = (i: number) => PAD.left + i * slot;
  const total = turns.reduce((sum, t) => sum + t.input + t.output, 0);
  const summary = `${count(total)} tokens over ${turns.length} turns`;
  return (
    <figure className="chart" aria-label={label}>
      <figcaption>
        <span>{label}</span> <span className="muted">{summary}</span>
        <span className="legend">
          {SERIES.map((s) => (
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
          {count(top)}
        </text>
        <text className="tick" x={PAD.left - 4} y={y(0)} textAnchor="end">
          0
        </text>
        <text className="tick" x={PAD.left} y={H - 4}>
          {turns[0] ? `turn ${turns[0].turn}` : ""}
        </text>
        <text className="tick" x={W - PAD.right} y={H - 4} textAnchor="end">
          {turns.length > 1 ? `turn ${turns.at(-1)?.turn}` : ""}
        </text>
        {turns.map((t, i) => {
          let base = 0;
          return SERIES.map((s) => {
            const v = s.value(t);
            if (v === 0) return null;
            const rect = (
              <rect
                key={`${t.turn}-${s.name}`}
                className={s.className}
                data-turn={t.turn}
                x={x(i) + slot * 0.1}
                width={slot * 0.8}
                y={y(base + v)}
                height={y(base) - y(base + v)}
              >
                <title>{`turn ${t.turn} ${s.name}: ${count(v)} tokens`}</title>
              </rect>
            );
            base += v;
            return rect;
          });
        })}
      </svg>
    </figure>
  );
}
