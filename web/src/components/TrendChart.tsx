import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import { api, ApiError, type LatestValue, type Signal } from '../api';
import { displayFor, formatFullTs, formatNumber, signalLabel } from '../format';
import { live } from '../live';
import { useT, type MessageKey } from '../i18n';
import { timeTicks } from './timeAxis';

export const RANGES = {
  '1h': { label: 'trend.preset.1h' as MessageKey, ms: 3_600_000 },
  '24h': { label: 'trend.preset.24h' as MessageKey, ms: 86_400_000 },
} as const;
export type RangeKey = keyof typeof RANGES;

type Status = { kind: 'loading' } | { kind: 'ready'; points: number } | { kind: 'error'; message: string };

function chartHeight(width: number): number {
  return Math.round(Math.min(380, Math.max(220, width * 0.38)));
}

/**
 * Trend of one signal: history thinned to about one point per pixel, then live values appended.
 * The container carries data-points (points currently plotted) and data-signal for tests.
 */
export function TrendChart({ signal, range }: { signal: Signal; range: RangeKey }) {
  const t = useT();
  const boxRef = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>({ kind: 'loading' });
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    const disp = displayFor(signal);
    const rangeMs = RANGES[range].ms;
    const xs: number[] = [];
    const ys: (number | null)[] = [];
    let loaded = false;
    let disposed = false;
    const early: LatestValue[] = [];

    const width = Math.max(240, Math.floor(box.clientWidth));
    const axisFont = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    const opts: uPlot.Options = {
      width,
      height: chartHeight(width),
      pxAlign: false,
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      legend: { live: true },
      scales: { x: { time: true } },
      series: [
        { label: t('trend.time'), value: (_u, v) => (v == null ? '—' : formatFullTs(v * 1000)) },
        {
          label: `${signalLabel(signal.name)}${disp.unit ? ` (${disp.unit})` : ''}`,
          stroke: '#2563eb',
          width: 1.5,
          fill: 'rgba(37, 99, 235, 0.08)',
          spanGaps: false,
          points: { show: false },
          value: (_u, v) => (v == null ? '—' : `${formatNumber(v, disp.digits)}${disp.unit ? ` ${disp.unit}` : ''}`),
        },
      ],
      axes: [
        { stroke: '#5b6472', font: axisFont, grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#e3e6ea', width: 1 }, values: timeTicks(0), size: 44 },
        {
          stroke: '#5b6472',
          font: axisFont,
          size: 64,
          grid: { stroke: '#eef0f3', width: 1 },
          ticks: { stroke: '#e3e6ea', width: 1 },
          values: (_u, splits) => splits.map((v) => (v == null ? '' : formatNumber(v, Math.max(0, Math.min(disp.digits, 2))))),
        },
      ],
    };
    const chart = new uPlot(opts, [[], []], box);
    const publish = () => {
      // With the cursor outside the plot, the legend shows the newest point.
      const left = chart.cursor.left;
      if (xs.length && (left == null || left < 0)) chart.setLegend({ idx: xs.length - 1 });
      box.dataset.points = String(xs.length);
      setStatus({ kind: 'ready', points: xs.length });
    };
    box.dataset.points = '0';
    setStatus({ kind: 'loading' });

    const trim = () => {
      const cutoff = (Date.now() - rangeMs) / 1000;
      let n = 0;
      while (n < xs.length && xs[n] < cutoff) n++;
      if (n > 0) {
        xs.splice(0, n);
        ys.splice(0, n);
      }
    };

    const append = (vals: LatestValue[]) => {
      let changed = false;
      for (const v of vals) {
        if (v.signal_id !== signal.id) continue;
        const x = v.ts_ms / 1000;
        if (xs.length && x <= xs[xs.length - 1]) continue;
        xs.push(x);
        ys.push(Number.isFinite(v.value) ? v.value * disp.factor : null);
        changed = true;
      }
      if (!changed) return;
      trim();
      chart.setData([xs, ys]);
      publish();
    };

    const unsub = live.onValues((vals) => {
      if (disposed) return;
      if (!loaded) early.push(...vals.filter((v) => v.signal_id === signal.id));
      else append(vals);
    });

    const now = Date.now();
    // Two points (min and max) per pixel: peaks survive at any range.
    const maxPoints = Math.max(50, Math.min(8000, 2 * Math.round(width)));
    api
      .chart(signal.id, now - rangeMs, now + 1000, maxPoints)
      .then((h) => {
        if (disposed) return;
        for (const [t, v] of h.points ?? []) {
          const x = t / 1000;
          if (xs.length && x < xs[xs.length - 1]) continue;
          xs.push(x);
          ys.push(v == null || !Number.isFinite(v) ? null : v * disp.factor);
        }
        loaded = true;
        chart.setData([xs, ys]);
        publish();
        if (early.length) append(early.splice(0));
      })
      .catch((e: unknown) => {
        if (disposed) return;
        loaded = true;
        setStatus({ kind: 'error', message: e instanceof ApiError ? e.message : String(e) });
      });

    const ro = new ResizeObserver(() => {
      const w = Math.max(240, Math.floor(box.clientWidth));
      if (w !== chart.width) chart.setSize({ width: w, height: chartHeight(w) });
    });
    ro.observe(box);

    return () => {
      disposed = true;
      unsub();
      ro.disconnect();
      chart.destroy();
    };
  }, [signal.id, signal.name, signal.unit, range, reload]);

  return (
    <div className="trend-wrap">
      <div ref={boxRef} className="trend" data-testid="trend" data-signal={signal.name} data-range={range} />
      {status.kind === 'loading' && <div className="trend-overlay muted">{t('trend.loading')}</div>}
      {status.kind === 'ready' && status.points === 0 && <div className="trend-overlay muted">{t('trend.noData')}</div>}
      {status.kind === 'error' && (
        <div className="trend-overlay">
          <div className="alert" role="alert">
            {t('trend.loadError', { message: status.message })}{' '}
            <button type="button" className="btn btn-small" onClick={() => setReload((n) => n + 1)}>
              {t('common.retry')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
