import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { api, type LatestValue, type Widget } from '../api';
import { useT } from '../i18n';
import { displayFor, formatFullTs, formatNumber, formatTs, formatValue, signalLabel } from '../format';
import { live } from '../live';
import type { SignalRef } from './SignalPicker';
import { timeTicks } from './timeAxis';

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];

type Values = ReadonlyMap<number, LatestValue>;

/** The content of one dashboard widget, from the live values and (trend) recent history. */
export function WidgetBody({ widget, index, values }: { widget: Widget; index: Map<number, SignalRef>; values: Values }) {
  const t = useT();
  const refs = widget.signals.map((id) => ({ id, ref: index.get(id) })).filter((r) => r.ref) as { id: number; ref: SignalRef }[];
  if (widget.type === 'alarms') {
    return <div className="widget-empty muted">{t('widget.alarmsPlaceholder')}</div>;
  }
  if (refs.length === 0) return <div className="widget-empty muted">{t('widget.noSignals')}</div>;
  switch (widget.type) {
    case 'value':
      return <ValueWidget refs={refs} values={values} />;
    case 'gauge':
      return <GaugeWidget r={refs[0]} values={values} min={num(widget.options.min, 0)} max={num(widget.options.max, NaN)} />;
    case 'trend':
      return <MiniTrend refs={refs} minutes={num(widget.options.minutes, 60)} />;
    case 'bar':
      return <BarWidget refs={refs} values={values} />;
    case 'pie':
      return <PieWidget refs={refs} values={values} />;
    case 'table':
      return <TableWidget refs={refs} values={values} />;
  }
  return null;
}

function num(v: unknown, dflt: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : dflt;
}

function scaled(r: { ref: SignalRef }, values: Values): number | null {
  const v = values.get(r.ref.signal.id);
  if (!v || !Number.isFinite(v.value)) return null;
  return v.value * displayFor(r.ref.signal).factor;
}

function ValueWidget({ refs, values }: { refs: { id: number; ref: SignalRef }[]; values: Values }) {
  return (
    <div className={`value-widget${refs.length > 1 ? ' multi' : ''}`}>
      {refs.map((r) => {
        const d = displayFor(r.ref.signal);
        const v = values.get(r.id);
        return (
          <div key={r.id} className="value-item" data-signal-id={r.id} data-value={v && Number.isFinite(v.value) ? v.value : undefined}>
            <div className="value-big">
              {formatValue(v?.value, d)} <span className="unit">{d.unit}</span>
            </div>
            <div className="muted small">
              {r.ref.meter.name} · {signalLabel(r.ref.signal.name)}
            </div>
            <div className="muted small" title={v ? formatFullTs(v.ts_ms) : undefined}>
              {v ? formatTs(v.ts_ms) : ''}
            </div>
          </div>
        );
      })}
    </div>
  );
}

function GaugeWidget({ r, values, min, max }: { r: { id: number; ref: SignalRef }; values: Values; min: number; max: number }) {
  const d = displayFor(r.ref.signal);
  const v = scaled(r, values);
  const hi = Number.isFinite(max) && max > min ? max : Math.max(min + 1, niceCeil(Math.abs(v ?? 1) * 1.25));
  const frac = v === null ? 0 : Math.max(0, Math.min(1, (v - min) / (hi - min)));
  // A 240° arc: from 150° to 390° (SVG angles, clockwise from +x).
  const arc = (f: number) => {
    const a0 = (150 * Math.PI) / 180;
    const a1 = a0 + f * ((240 * Math.PI) / 180);
    const p = (a: number) => `${50 + 40 * Math.cos(a)} ${55 + 40 * Math.sin(a)}`;
    return `M ${p(a0)} A 40 40 0 ${f * 240 > 180 ? 1 : 0} 1 ${p(a1)}`;
  };
  return (
    <div className="gauge-widget" data-signal-id={r.id} data-value={values.get(r.id)?.value}>
      <svg viewBox="0 0 100 90" className="gauge">
        <path d={arc(1)} className="gauge-track" />
        {frac > 0.001 && <path d={arc(frac)} className="gauge-fill" />}
        <text x="50" y="56" textAnchor="middle" className="gauge-value">
          {v === null ? '—' : formatNumber(v, d.digits)}
        </text>
        <text x="50" y="68" textAnchor="middle" className="gauge-unit">
          {d.unit}
        </text>
        <text x="18" y="88" textAnchor="middle" className="gauge-limit">
          {formatNumber(min, 0)}
        </text>
        <text x="82" y="88" textAnchor="middle" className="gauge-limit">
          {formatNumber(hi, 0)}
        </text>
      </svg>
      <div className="muted small center-text">
        {r.ref.meter.name} · {signalLabel(r.ref.signal.name)}
      </div>
    </div>
  );
}

function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function BarWidget({ refs, values }: { refs: { id: number; ref: SignalRef }[]; values: Values }) {
  const vals = refs.map((r) => scaled(r, values));
  const maxAbs = Math.max(1e-9, ...vals.map((v) => Math.abs(v ?? 0)));
  return (
    <div className="bar-widget">
      {refs.map((r, i) => {
        const d = displayFor(r.ref.signal);
        const v = vals[i];
        return (
          <div key={r.id} className="bar-row" data-signal-id={r.id}>
            <div className="bar-label small" title={`${r.ref.meter.name} · ${signalLabel(r.ref.signal.name)}`}>
              {r.ref.meter.name} · {signalLabel(r.ref.signal.name)}
            </div>
            <div className="bar-track">
              <div className="bar-fill" style={{ width: `${(100 * Math.abs(v ?? 0)) / maxAbs}%`, background: PALETTE[i % PALETTE.length] }} />
            </div>
            <div className="bar-value small">
              {v === null ? '—' : formatNumber(v, d.digits)} {d.unit}
            </div>
          </div>
        );
      })}
    </div>
  );
}

function PieWidget({ refs, values }: { refs: { id: number; ref: SignalRef }[]; values: Values }) {
  const vals = refs.map((r) => Math.abs(scaled(r, values) ?? 0));
  const total = vals.reduce((a, b) => a + b, 0);
  let acc = 0;
  const slices = vals.map((v, i) => {
    const a0 = (acc / (total || 1)) * 2 * Math.PI - Math.PI / 2;
    acc += v;
    const a1 = (acc / (total || 1)) * 2 * Math.PI - Math.PI / 2;
    const large = a1 - a0 > Math.PI ? 1 : 0;
    const p = (a: number) => `${50 + 45 * Math.cos(a)} ${50 + 45 * Math.sin(a)}`;
    const d =
      vals.length === 1 || v === total
        ? 'M 50 5 A 45 45 0 1 1 49.99 5 Z'
        : `M 50 50 L ${p(a0)} A 45 45 0 ${large} 1 ${p(a1)} Z`;
    return { d, color: PALETTE[i % PALETTE.length], v };
  });
  return (
    <div className="pie-widget">
      <svg viewBox="0 0 100 100" className="pie">
        {total > 0 && slices.map((s, i) => (s.v > 0 ? <path key={i} d={s.d} fill={s.color} /> : null))}
        {total === 0 && <circle cx="50" cy="50" r="45" className="gauge-track" />}
      </svg>
      <ul className="pie-legend small">
        {refs.map((r, i) => {
          const d = displayFor(r.ref.signal);
          return (
            <li key={r.id} data-signal-id={r.id}>
              <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
              {r.ref.meter.name} · {signalLabel(r.ref.signal.name)}: {formatNumber(vals[i], d.digits)} {d.unit}
              {total > 0 ? ` (${formatNumber((100 * vals[i]) / total, 1)} %)` : ''}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function TableWidget({ refs, values }: { refs: { id: number; ref: SignalRef }[]; values: Values }) {
  const t = useT();
  return (
    <table className="table compact">
      <thead>
        <tr>
          <th>{t('meters.signal')}</th>
          <th className="num">{t('meters.value')}</th>
          <th className="num hide-sm">{t('meters.updated')}</th>
        </tr>
      </thead>
      <tbody>
        {refs.map((r) => {
          const d = displayFor(r.ref.signal);
          const v = values.get(r.id);
          return (
            <tr key={r.id} data-signal-id={r.id}>
              <td>
                {r.ref.meter.name} · {signalLabel(r.ref.signal.name)}
              </td>
              <td className="num" data-value={v?.value}>
                {formatValue(v?.value, d)} {d.unit}
              </td>
              <td className="num hide-sm">{v ? formatTs(v.ts_ms) : '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Recent history of a few signals (chart endpoint, two points per pixel), live values appended. */
export function MiniTrend({ refs, minutes }: { refs: { id: number; ref: SignalRef }[]; minutes: number }) {
  const box = useRef<HTMLDivElement>(null);
  const key = refs.map((r) => r.id).join(',');
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const span = minutes * 60_000;
    const width = Math.max(160, el.clientWidth);
    const height = Math.max(80, el.clientHeight - 4);
    const units = [...new Set(refs.map((r) => displayFor(r.ref.signal).unit))];
    const series: uPlot.Series[] = [
      {},
      ...refs.map((r, i) => ({
        label: `${r.ref.meter.name} · ${signalLabel(r.ref.signal.name)}`,
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        scale: displayFor(r.ref.signal).unit || '_',
        spanGaps: true,
        points: { show: false },
      })),
    ];
    const axes: uPlot.Axis[] = [
      { stroke: '#5b6472', font: '10px system-ui', grid: { stroke: '#eef0f3' }, ticks: { show: false }, values: timeTicks(0), space: 60, size: 36 },
      ...units.slice(0, 2).map((u, i) => ({
        scale: u || '_',
        side: i === 0 ? 3 : 1,
        stroke: '#5b6472',
        font: '10px system-ui',
        size: 48,
        grid: { show: i === 0, stroke: '#eef0f3' },
        ticks: { show: false },
        label: u,
        labelSize: 14,
        labelFont: '10px system-ui',
        values: (_u: uPlot, s: number[], _a: number, _sp: number, incr: number) =>
          s.map((v) => formatNumber(v, Math.max(0, Math.min(3, -Math.floor(Math.log10(incr || 1)))))),
      })),
    ];
    const plot = new uPlot(
      { width, height, legend: { show: false }, cursor: { show: true, points: { size: 5 } }, series, axes, scales: { x: { time: true } } },
      [[], ...refs.map(() => [])] as uPlot.AlignedData,
      el,
    );
    const cols: Map<number, number | null>[] = refs.map(() => new Map());
    let disposed = false;
    const redraw = () => {
      const cutoff = (Date.now() - span) / 1000;
      const xsSet = new Set<number>();
      for (const c of cols) for (const x of c.keys()) if (x >= cutoff) xsSet.add(x);
      const xs = [...xsSet].sort((a, b) => a - b);
      const data = [xs, ...cols.map((c) => xs.map((x) => (c.has(x) ? c.get(x)! : null)))];
      plot.setData(data as uPlot.AlignedData);
      el.dataset.points = String(xs.length);
    };
    const now = Date.now();
    Promise.all(
      refs.map((r) => api.chart(r.id, now - span, now + 1000, Math.min(2000, 2 * width)).catch(() => ({ points: [] as [number, number][] }))),
    ).then((hs) => {
      if (disposed) return;
      hs.forEach((h, i) => {
        const f = displayFor(refs[i].ref.signal).factor;
        for (const [ts, v] of h.points ?? []) cols[i].set(ts / 1000, v == null ? null : v * f);
      });
      redraw();
    });
    const unsub = live.onValues((vals) => {
      let changed = false;
      for (const v of vals) {
        const i = refs.findIndex((r) => r.id === v.signal_id);
        if (i < 0) continue;
        cols[i].set(v.ts_ms / 1000, Number.isFinite(v.value) ? v.value * displayFor(refs[i].ref.signal).factor : null);
        changed = true;
      }
      if (changed) redraw();
    });
    const ro = new ResizeObserver(() => {
      const w = Math.max(160, el.clientWidth);
      const h = Math.max(80, el.clientHeight - 4);
      if (w !== plot.width || h !== plot.height) plot.setSize({ width: w, height: h });
    });
    ro.observe(el);
    return () => {
      disposed = true;
      unsub();
      ro.disconnect();
      plot.destroy();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, minutes]);
  return <div ref={box} className="mini-trend" data-testid="mini-trend" />;
}
