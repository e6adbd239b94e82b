/** Tokens per turn: stacked bars (input, output), drawn like the overview's minute charts. */
import { ChartFrame, niceMax, StackedBars } from "./chart-frame";
import { count } from "./common";

export interface TurnTokens {
  turn: number;
  input: number;
  output: number;
}

const SERIES = [
  { name: "input", className: "series-in", value: (t: TurnTokens) => t.input },
  { name: "output", className: "series-out", value: (t: TurnTokens) => t.output },
] as const;

export function TurnChart({ label, turns }: { label: string; turns: readonly TurnTokens[] }) {
  const top = niceMax(Math.max(0, ...turns.map((t) => t.input + t.output)));
  const total = turns.reduce((sum, t) => sum + t.input + t.output, 0);
  return (
    <ChartFrame
      label={label}
      summary={`${count(total)} tokens over ${turns.length} turns`}
      legend={SERIES}
      top={top}
      topText={count(top)}
      first={turns[0] ? `turn ${turns[0].turn}` : ""}
      last={turns.length > 1 ? `turn ${turns.at(-1)?.turn}` : ""}
    >
      <StackedBars
        points={turns}
        series={SERIES}
        top={top}
        keyOf={(t) => t.turn}
        title={(t, name, v) => `turn ${t.turn} ${name}: ${count(v)} tokens`}
        dataTurn={(t) => t.turn}
      />
    </ChartFrame>
  );
}
