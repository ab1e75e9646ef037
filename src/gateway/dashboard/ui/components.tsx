// Small pieces the pages share: an answer's problem, a uPlot chart, a live region for results.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** A refusal from the API, with its failing fields; announced to screen readers. */
export function Problem({ message, fields = [] }: { message?: string; fields?: string[] }) {
  if (!message) return null;
  return (
    <div class="problem" role="alert">
      <p>{message}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export interface ChartProps {
  /** For screen readers: what the chart shows (the table beside it has the numbers). */
  label: string;
  /** x values (Unix seconds for time axes, or indexes), then one array per series. */
  data: uPlot.AlignedData;
  series: Array<{ label: string; stroke: string; bars?: boolean }>;
  /** Labels of the x axis when x is an index (categories such as models). */
  categories?: string[];
  height?: number;
}

const bars = uPlot.paths.bars!({ size: [0.6, 60] });

/** A uPlot chart that fits its container's width and follows it when the window is resized. */
export function Chart({ label, data, series, categories, height = 220 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const padded: uPlot.Range.Function = (_u, min, max) => {
      const n = data[0].length;
      const step = n > 1 ? (max - min) / (n - 1) : 43_200;
      return [min - step / 2, max + step / 2];
    };
    const options: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height,
      // Categories (models) sit at 0, 1, 2…: one tick each, half a step of room on either side.
      // Bars over time get half a step of room at each end, so the first and last are whole.
      scales: {
        x: categories ? { time: false, range: [-0.5, categories.length - 0.5] } : { time: true, range: series.some((s) => s.bars) ? padded : undefined },
      },
      axes: [categories ? { splits: () => categories.map((_c, i) => i), values: (_u, ticks) => ticks.map((t) => categories[t] ?? '') } : {}, { size: 60 }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          fill: s.bars ? `${s.stroke}55` : undefined,
          width: 2,
          paths: s.bars ? bars : undefined,
          points: { show: !s.bars },
        })),
      ],
    };
    const plot = new uPlot(options, data, el);
    const resize = () => plot.setSize({ width: Math.max(240, el.clientWidth), height });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [data, series, categories, height]);
  return <div class="chart" role="img" aria-label={label} ref={box} />;
}
