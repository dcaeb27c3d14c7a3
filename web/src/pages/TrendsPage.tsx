import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import { api, ApiError, type Meter } from '../api';
import { useI18n, type T } from '../i18n';
import { displayFor, formatFullTs, formatNumber, formatShortTs, signalLabel } from '../format';
import { navigate } from '../router';
import { PHONE, useMedia } from '../useMedia';
import { SignalPicker, useSignalIndex, type SignalRef } from '../components/SignalPicker';
import { PALETTE } from '../components/Widgets';
import { TimeBar } from '../components/TimeBar';
import { timeTicks } from '../components/timeAxis';
import {
  COMPARE_PRESETS,
  compareOffset,
  parseTrend,
  PRESETS,
  trendHash,
  windowOf,
  type SeriesStyle,
  type TrendState,
} from './trendState';

/** One drawn series: a signal over the window, or (compare) over the window shifted back. */
interface Loaded {
  ref: SignalRef;
  style: SeriesStyle;
  color: string;
  offset: number; // ms; 0 for the current period
  unit: string;
  digits: number;
  name: string;
  /** [real ts_ms, value in display unit] in time order */
  points: [number, number | null][];
}

type Status = { kind: 'idle' } | { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string };

const REFRESH_MS = 30_000;

function offsetLabel(t: T, cmp: string): string {
  if (cmp === '1d') return t('trend.cmp.1d');
  if (cmp === '7d') return t('trend.cmp.7d');
  return t('trend.cmp.custom', { n: formatNumber(compareOffset(cmp) / 3_600_000, 0) });
}

/** The trend viewer: any number of signals, one axis per unit, compare periods, zoom, export. */
export function TrendsPage({ meters, params }: { meters: Meter[] | null; params: URLSearchParams }) {
  const { t, locale } = useI18n();
  const phone = useMedia(PHONE);
  const qs = params.toString();
  const state = useMemo(() => parseTrend(new URLSearchParams(qs)), [qs]);
  const index = useSignalIndex(meters);
  const [picking, setPicking] = useState(state.series.length === 0);
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const [loaded, setLoaded] = useState<Loaded[]>([]);
  const [tick, setTick] = useState(0);
  const [width, setWidth] = useState(0);
  const [customCmp, setCustomCmp] = useState('');
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const plotBox = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);

  const set = useCallback((next: Partial<TrendState>) => navigate(trendHash({ ...state, ...next }), true), [state]);
  const explicit = state.from !== undefined;
  const win = useMemo(() => windowOf(state), [state, tick]);
  const offset = compareOffset(state.compare);

  // Presets follow "now".
  useEffect(() => {
    if (explicit) return;
    const timer = window.setInterval(() => setTick((n) => n + 1), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [explicit]);

  useEffect(() => {
    const el = plotBox.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.round(el.clientWidth / 50) * 50));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Fetch: two points per pixel for each series and, with compare, the shifted period.
  const seriesKey = state.series.map((s) => `${s.id}:${s.style}`).join(',');
  useEffect(() => {
    if (!width || state.series.length === 0 || index.size === 0) {
      setLoaded([]);
      return;
    }
    let cancelled = false;
    setStatus({ kind: 'loading' });
    const points = Math.max(100, Math.min(20_000, 2 * width));
    const jobs: Promise<Loaded | null>[] = [];
    state.series.forEach((s, i) => {
      const ref = index.get(s.id);
      if (!ref) return;
      const d = displayFor(ref.signal);
      const base = `${ref.meter.name} · ${signalLabel(ref.signal.name)}`;
      const periods = offset > 0 ? [0, offset] : [0];
      for (const off of periods) {
        jobs.push(
          api.chart(s.id, win.from - off, win.to - off, points).then((h) => ({
            ref,
            style: s.style,
            color: PALETTE[i % PALETTE.length],
            offset: off,
            unit: d.unit,
            digits: d.digits,
            name: off ? `${base} (${offsetLabel(t, state.compare)})` : base,
            points: (h.points ?? []).map(([ts, v]) => [ts, v == null || !Number.isFinite(v) ? null : v * d.factor] as [number, number | null]),
          })),
        );
      }
    });
    Promise.all(jobs).then(
      (ls) => {
        if (cancelled) return;
        setLoaded(ls.filter((l): l is Loaded => l !== null));
        setStatus({ kind: 'ready' });
      },
      (err) => {
        if (cancelled) return;
        setStatus({ kind: 'error', message: err instanceof ApiError ? err.message : String(err) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [seriesKey, win.from, win.to, offset, width, index]);

  const onRange = useCallback(
    (from: number, to: number) => {
      if (!(to > from)) return;
      set({ from: Math.round(from), to: Math.round(to) });
    },
    [set],
  );

  const [ruler, setRuler] = useState<{ idxs: (number | null)[]; idx: number | null } | null>(null);

  // The plot: rebuilt when the data changes (cheap at a few thousand points).
  useEffect(() => {
    const el = plotBox.current;
    if (!el || loaded.length === 0) return;
    const units: string[] = [];
    for (const l of loaded) if (!units.includes(l.unit)) units.push(l.unit);
    const scaleOf = (u: string) => `y:${u}`;
    // One x array for all: the union of every series' (shifted) time stamps.
    const xsSet = new Set<number>();
    for (const l of loaded) for (const [ts] of l.points) xsSet.add((ts + l.offset) / 1000);
    const xs = [...xsSet].sort((a, b) => a - b);
    const pos = new Map(xs.map((x, i) => [x, i]));
    const data: (number | null)[][] = [xs];
    for (const l of loaded) {
      const col: (number | null)[] = new Array(xs.length).fill(null);
      for (const [ts, v] of l.points) col[pos.get((ts + l.offset) / 1000)!] = v;
      data.push(col);
    }
    const font = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    const height = phone ? 300 : 420;
    const series: uPlot.Series[] = [
      { label: t('trend.time') },
      ...loaded.map((l) => ({
        label: l.name,
        scale: scaleOf(l.unit),
        stroke: l.color,
        width: l.style === 'bar' ? 1 : 1.5,
        dash: l.offset ? [6, 4] : undefined,
        fill: l.style === 'bar' ? `${l.color}66` : undefined,
        spanGaps: true,
        points: { show: false },
        paths:
          l.style === 'step'
            ? uPlot.paths.stepped!({ align: 1 })
            : l.style === 'bar'
              ? uPlot.paths.bars!({ size: [0.6, 60] })
              : undefined,
      })),
    ];
    const axes: uPlot.Axis[] = [
      {
        stroke: '#5b6472',
        font,
        grid: { stroke: '#eef0f3', width: 1 },
        ticks: { stroke: '#e3e6ea', width: 1 },
        values: timeTicks(0),
        size: 44,
        space: 70,
      },
    ];
    if (offset) {
      axes.push({
        scale: 'x',
        side: 0,
        stroke: '#9a3412',
        font,
        grid: { show: false },
        ticks: { stroke: '#e3e6ea', width: 1 },
        values: timeTicks(-offset),
        size: 44,
        space: 70,
        label: t('trend.comparedAxis', { from: formatShortTs(win.from - offset), to: formatShortTs(win.to - offset) }),
        labelSize: 18,
        labelFont: font,
      });
    }
    units.forEach((u, i) => {
      const first = loaded.find((l) => l.unit === u)!;
      axes.push({
        scale: scaleOf(u),
        side: i % 2 === 0 ? 3 : 1,
        stroke: first.color,
        font,
        size: phone ? 46 : 62,
        label: u || t('trend.noUnit'),
        labelSize: 18,
        labelFont: font,
        grid: { show: i === 0, stroke: '#eef0f3', width: 1 },
        ticks: { stroke: '#e3e6ea', width: 1 },
        values: (_u, splits, _a, _s, incr) => {
          const digits = Math.max(0, Math.min(4, -Math.floor(Math.log10(incr || 1))));
          return splits.map((v) => (v == null ? '' : formatNumber(v, digits)));
        },
      });
    });
    const scales: uPlot.Scales = { x: { time: true, min: win.from / 1000, max: win.to / 1000 } };
    for (const u of units) scales[scaleOf(u)] = { auto: true };

    let zoomTimer: number | undefined;
    const commitLater = (u: uPlot) => {
      window.clearTimeout(zoomTimer);
      zoomTimer = window.setTimeout(() => onRange(u.scales.x.min! * 1000, u.scales.x.max! * 1000), 400);
    };
    let raf = 0;
    const plot = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height,
        legend: { show: false },
        series,
        axes,
        scales,
        cursor: {
          drag: { x: true, y: false, setScale: false },
          points: { size: 7 },
          // The ruler snaps each series to its nearest sample.
          dataIdx: (u, sidx, closest, xValue) => {
            const ys = u.data[sidx];
            if (ys[closest] != null) return closest;
            const xsd = u.data[0];
            let l = closest - 1;
            let r = closest + 1;
            for (let n = 0; n < 4000 && (l >= 0 || r < xsd.length); n++) {
              const lok = l >= 0 && ys[l] != null;
              const rok = r < xsd.length && ys[r] != null;
              if (lok && rok) return xValue - xsd[l] <= xsd[r] - xValue ? l : r;
              if (lok) return l;
              if (rok) return r;
              l--;
              r++;
            }
            return closest;
          },
        },
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width > 4) {
                const a = u.posToVal(u.select.left, 'x');
                const b = u.posToVal(u.select.left + u.select.width, 'x');
                u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
                onRange(a * 1000, b * 1000);
              }
            },
          ],
          setCursor: [
            (u) => {
              cancelAnimationFrame(raf);
              raf = requestAnimationFrame(() => {
                const idx = u.cursor.idx ?? null;
                setRuler(idx == null || (u.cursor.left ?? -1) < 0 ? null : { idx, idxs: [...(u.cursor.idxs ?? [])] });
                drawTooltip(u, tip, loaded, offset, t);
              });
            },
          ],
        },
      },
      data as uPlot.AlignedData,
      el,
    );
    plotRef.current = plot;
    const tip = document.createElement('div');
    tip.className = 'trend-tip';
    tip.dataset.testid = 'trend-tooltip';
    plot.over.appendChild(tip);

    // Zoom by mouse wheel around the pointer (time axis only).
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const min = plot.scales.x.min!;
      const max = plot.scales.x.max!;
      const at = plot.posToVal(e.offsetX, 'x');
      const f = e.deltaY > 0 ? 1.25 : 0.8;
      const nmin = at - (at - min) * f;
      const nmax = at + (max - at) * f;
      if (nmax - nmin < 10) return;
      plot.setScale('x', { min: nmin, max: nmax });
      commitLater(plot);
    };
    // Pinch on touch screens.
    let pinch: { d: number; min: number; max: number; at: number } | null = null;
    const dist = (e: TouchEvent) => Math.abs(e.touches[0].clientX - e.touches[1].clientX) || 1;
    const onTouchStart = (e: TouchEvent) => {
      if (e.touches.length !== 2) return;
      const rect = plot.over.getBoundingClientRect();
      const cx = (e.touches[0].clientX + e.touches[1].clientX) / 2 - rect.left;
      pinch = { d: dist(e), min: plot.scales.x.min!, max: plot.scales.x.max!, at: plot.posToVal(cx, 'x') };
    };
    const onTouchMove = (e: TouchEvent) => {
      if (!pinch || e.touches.length !== 2) return;
      e.preventDefault();
      const f = pinch.d / dist(e);
      plot.setScale('x', { min: pinch.at - (pinch.at - pinch.min) * f, max: pinch.at + (pinch.max - pinch.at) * f });
    };
    const onTouchEnd = () => {
      if (!pinch) return;
      pinch = null;
      commitLater(plot);
    };
    plot.over.addEventListener('wheel', onWheel, { passive: false });
    plot.over.addEventListener('touchstart', onTouchStart, { passive: true });
    plot.over.addEventListener('touchmove', onTouchMove, { passive: false });
    plot.over.addEventListener('touchend', onTouchEnd);
    el.dataset.series = String(loaded.length);
    el.dataset.axes = String(units.length);
    el.dataset.units = units.join('|');
    el.dataset.points = String(loaded.reduce((n, l) => n + l.points.length, 0));
    el.dataset.from = String(Math.round(win.from));
    el.dataset.to = String(Math.round(win.to));
    el.dataset.compare = String(offset);

    const ro = new ResizeObserver(() => {
      const w = Math.max(240, el.clientWidth);
      if (w !== plot.width) plot.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      window.clearTimeout(zoomTimer);
      cancelAnimationFrame(raf);
      ro.disconnect();
      plot.destroy();
      plotRef.current = null;
      setRuler(null);
    };
  }, [loaded, phone, locale]);

  /** Exactly the points inside the shown x range, per series, with their real time stamps. */
  function shownSeries() {
    const p = plotRef.current;
    const min = p?.scales.x.min != null ? p.scales.x.min * 1000 : win.from;
    const max = p?.scales.x.max != null ? p.scales.x.max * 1000 : win.to;
    return loaded.map((l) => ({
      name: l.name,
      unit: l.unit,
      points: l.points.filter(([ts]) => ts + l.offset >= min && ts + l.offset <= max),
    }));
  }

  async function exportAs(format: 'csv' | 'xlsx' | 'pdf') {
    setExporting(format);
    setExportError(null);
    try {
      const { blob, filename } = await api.exportFile({
        format,
        locale,
        zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        title: `${t('trend.title')} ${formatFullTs(win.from)} – ${formatFullTs(win.to)}`,
        series: shownSeries(),
      });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename ?? `wattline-trend.${format}`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setExportError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setExporting(null);
    }
  }

  const ctxTo = Math.max(Date.now(), win.to);
  const ctxFrom = Math.min(win.from, ctxTo - Math.max(PRESETS[state.range], 3 * (win.to - win.from)));
  const custom = state.compare && !COMPARE_PRESETS.includes(state.compare);

  return (
    <section className="page trends" data-testid="trends-page">
      <div className="page-head">
        <div>
          <h1>{t('trend.title')}</h1>
          <p className="muted small" data-testid="trend-range">
            {formatFullTs(win.from)} – {formatFullTs(win.to)}
          </p>
        </div>
        <div className="row-gap wrap no-print">
          <button type="button" className="btn" onClick={() => setPicking((p) => !p)} data-testid="trend-add" aria-expanded={picking}>
            {picking ? t('trend.closePicker') : t('trend.addSignals')}
          </button>
          <button type="button" className="btn" onClick={() => window.print()} data-testid="trend-print">
            {t('trend.print')}
          </button>
        </div>
      </div>

      {picking && (
        <div className="card pad no-print">
          <SignalPicker
            meters={meters}
            value={state.series.map((s) => s.id)}
            onChange={(ids) => set({ series: ids.map((id) => state.series.find((s) => s.id === id) ?? { id, style: 'line' }) })}
          />
        </div>
      )}

      <div className="card trend-card">
        <div className="trend-toolbar no-print">
          <div className="seg" role="group" aria-label={t('trend.range')}>
            {Object.keys(PRESETS).map((k) => (
              <button
                key={k}
                type="button"
                className={!explicit && state.range === k ? 'active' : undefined}
                aria-pressed={!explicit && state.range === k}
                data-range={k}
                onClick={() => set({ range: k, from: undefined, to: undefined })}
              >
                {t(`trend.preset.${k}` as 'trend.preset.1h')}
              </button>
            ))}
          </div>
          <CustomRange from={win.from} to={win.to} onRange={onRange} />
          <label className="field inline">
            <span>{t('trend.compare')}</span>
            <select
              className="select"
              data-testid="compare"
              value={custom ? 'custom' : state.compare}
              onChange={(e) => {
                const v = e.target.value;
                if (v === 'custom') set({ compare: `${Number(customCmp) || 48}h` });
                else set({ compare: v });
              }}
            >
              <option value="">{t('trend.compareNone')}</option>
              <option value="1d">{t('trend.cmp.1d')}</option>
              <option value="7d">{t('trend.cmp.7d')}</option>
              <option value="custom">{t('trend.compareCustom')}</option>
            </select>
          </label>
          {custom && (
            <label className="field inline">
              <span>{t('trend.offsetHours')}</span>
              <input
                type="number"
                min={1}
                className="num-input"
                value={customCmp || String(compareOffset(state.compare) / 3_600_000)}
                onChange={(e) => setCustomCmp(e.target.value)}
                onBlur={() => Number(customCmp) > 0 && set({ compare: `${Number(customCmp)}h` })}
              />
            </label>
          )}
          {explicit && (
            <button type="button" className="btn btn-small" onClick={() => set({ from: undefined, to: undefined })} data-testid="zoom-reset">
              {t('trend.resetZoom')}
            </button>
          )}
        </div>

        <div className="trend-plot-wrap">
          <div ref={plotBox} className="trend-main" data-testid="trend-chart" />
          {state.series.length === 0 && <div className="trend-overlay muted">{t('trend.empty')}</div>}
          {status.kind === 'loading' && loaded.length === 0 && <div className="trend-overlay muted">{t('trend.loading')}</div>}
          {status.kind === 'error' && (
            <div className="trend-overlay">
              <div className="alert" role="alert">
                {t('trend.loadError', { message: status.message })}
              </div>
            </div>
          )}
        </div>
        {state.series.length > 0 && (
          <TimeBar ctxFrom={ctxFrom} ctxTo={ctxTo} from={win.from} to={win.to} signal={index.get(state.series[0].id)} onRange={onRange} />
        )}
        <p className="muted small hint no-print">{t('trend.help')}</p>
      </div>

      {loaded.length > 0 && (
        <div className="card table-wrap">
          <table className="table legend" data-testid="trend-legend">
            <thead>
              <tr>
                <th>{t('trend.series')}</th>
                <th className="num">{t('trend.ruler')}</th>
                <th className="num hide-sm">{t('trend.min')}</th>
                <th className="num hide-sm">{t('trend.max')}</th>
                <th className="no-print">{t('trend.style')}</th>
                <th className="no-print" />
              </tr>
            </thead>
            <tbody>
              {loaded.map((l, i) => {
                const vals = l.points.map((p) => p[1]).filter((v): v is number => v !== null);
                const idx = ruler?.idxs[i + 1];
                const plot = plotRef.current;
                const rv = idx != null && plot ? (plot.data[i + 1][idx] as number | null) : null;
                const rts = idx != null && plot ? plot.data[0][idx] * 1000 - l.offset : null;
                const last = vals.length ? vals[vals.length - 1] : null;
                const shownV = ruler ? rv : last;
                const sIdx = state.series.findIndex((s) => s.id === l.ref.signal.id);
                return (
                  <tr key={`${l.ref.signal.id}/${l.offset}`} data-testid="legend-row" data-signal-id={l.ref.signal.id} data-offset={l.offset}>
                    <td>
                      <span className={`swatch${l.offset ? ' dashed' : ''}`} style={{ borderColor: l.color, background: l.offset ? 'transparent' : l.color }} />
                      {l.name} <span className="muted">({l.unit || '–'})</span>
                    </td>
                    <td className="num" data-testid="ruler-value" title={rts ? formatFullTs(rts) : undefined}>
                      {shownV == null ? '—' : `${formatNumber(shownV, l.digits)} ${l.unit}`}
                      {ruler && rts ? <div className="sub">{formatFullTs(rts)}</div> : null}
                    </td>
                    <td className="num hide-sm">{vals.length ? `${formatNumber(Math.min(...vals), l.digits)} ${l.unit}` : '—'}</td>
                    <td className="num hide-sm">{vals.length ? `${formatNumber(Math.max(...vals), l.digits)} ${l.unit}` : '—'}</td>
                    <td className="no-print">
                      {!l.offset && (
                        <select
                          className="select select-small"
                          aria-label={t('trend.style')}
                          value={l.style}
                          data-testid="series-style"
                          onChange={(e) =>
                            set({ series: state.series.map((s, j) => (j === sIdx ? { ...s, style: e.target.value as SeriesStyle } : s)) })
                          }
                        >
                          <option value="line">{t('trend.style.line')}</option>
                          <option value="step">{t('trend.style.step')}</option>
                          <option value="bar">{t('trend.style.bar')}</option>
                        </select>
                      )}
                    </td>
                    <td className="no-print">
                      {!l.offset && (
                        <button
                          type="button"
                          className="icon-btn"
                          aria-label={t('common.remove')}
                          onClick={() => set({ series: state.series.filter((s) => s.id !== l.ref.signal.id) })}
                        >
                          ×
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {state.series.length > 0 && (
        <div className="row-gap wrap no-print export-bar">
          <span className="muted">{t('trend.export')}</span>
          {(['csv', 'xlsx', 'pdf'] as const).map((f) => (
            <button
              key={f}
              type="button"
              className="btn"
              disabled={exporting !== null || loaded.length === 0}
              onClick={() => void exportAs(f)}
              data-testid={`export-${f}`}
            >
              {f.toUpperCase()}
            </button>
          ))}
          {exporting && <span className="muted small">{t('trend.exporting')}</span>}
          {exportError && (
            <div className="alert" role="alert">
              {exportError}
            </div>
          )}
        </div>
      )}
    </section>
  );
}

function CustomRange({ from, to, onRange }: { from: number; to: number; onRange: (from: number, to: number) => void }) {
  const { t } = useI18n();
  // datetime-local wants local time without zone.
  const local = (ms: number) => {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
    return d.toISOString().slice(0, 16);
  };
  const [a, setA] = useState(local(from));
  const [b, setB] = useState(local(to));
  useEffect(() => {
    setA(local(from));
    setB(local(to));
  }, [from, to]);
  return (
    <form
      className="custom-range"
      onSubmit={(e) => {
        e.preventDefault();
        const fa = new Date(a).getTime();
        const fb = new Date(b).getTime();
        if (Number.isFinite(fa) && Number.isFinite(fb) && fb > fa) onRange(fa, fb);
      }}
    >
      <input type="datetime-local" aria-label={t('trend.from')} value={a} onChange={(e) => setA(e.target.value)} data-testid="range-from" />
      <span>–</span>
      <input type="datetime-local" aria-label={t('trend.to')} value={b} onChange={(e) => setB(e.target.value)} data-testid="range-to" />
      <button type="submit" className="btn btn-small" data-testid="range-apply">
        {t('common.apply')}
      </button>
    </form>
  );
}

/** The ruler's tooltip: time (and compared time) and each series' value at its snapped sample. */
function drawTooltip(u: uPlot, tip: HTMLDivElement, loaded: Loaded[], offset: number, t: T) {
  const idx = u.cursor.idx;
  const left = u.cursor.left ?? -1;
  if (idx == null || left < 0) {
    tip.style.display = 'none';
    return;
  }
  tip.replaceChildren();
  const head = document.createElement('div');
  head.className = 'tip-time';
  const x = u.data[0][idx] * 1000;
  head.textContent = formatFullTs(x);
  tip.appendChild(head);
  if (offset) {
    const h2 = document.createElement('div');
    h2.className = 'tip-time muted';
    h2.textContent = t('trend.comparedAt', { time: formatFullTs(x - offset) });
    tip.appendChild(h2);
  }
  loaded.forEach((l, i) => {
    const si = u.cursor.idxs?.[i + 1];
    const v = si != null ? (u.data[i + 1][si] as number | null) : null;
    const row = document.createElement('div');
    row.className = 'tip-row';
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = l.color;
    row.appendChild(sw);
    row.appendChild(document.createTextNode(`${l.name}: ${v == null ? '—' : `${formatNumber(v, l.digits)} ${l.unit}`}`));
    tip.appendChild(row);
  });
  tip.style.display = 'block';
  const w = u.over.clientWidth;
  const tw = tip.offsetWidth;
  tip.style.left = `${left + 14 + tw > w ? Math.max(0, left - tw - 14) : left + 14}px`;
  tip.style.top = `${Math.max(0, (u.cursor.top ?? 0) - 10)}px`;
}
