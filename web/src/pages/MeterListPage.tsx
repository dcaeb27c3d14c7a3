import { useEffect, useMemo, useState } from 'react';
import type { LatestValue, Meter, Signal } from '../api';
import { displayFor, formatAge, formatFullTs, formatTs, formatValue, formatNumber } from '../format';
import { useLive } from '../live';
import { meterHref, navigate } from '../router';

interface Column {
  signal: string;
  label: string;
  unit: string;
}

const COLUMNS: Column[] = [
  { signal: 'active_power_total', label: 'Power', unit: 'kW' },
  { signal: 'voltage_l1_n', label: 'Voltage L1–N', unit: 'V' },
  { signal: 'current_l1', label: 'Current L1', unit: 'A' },
  { signal: 'frequency', label: 'Frequency', unit: 'Hz' },
  { signal: 'active_energy_import', label: 'Energy import', unit: 'kWh' },
];

/** A meter is shown as stale when nothing arrived for this long. */
export const STALE_MS = 60_000;

export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(t);
  }, [intervalMs]);
  return now;
}

export function lastUpdate(meter: Meter, values: ReadonlyMap<number, LatestValue>): number | null {
  let last = meter.last_seen_ms ?? 0;
  for (const s of meter.signals) {
    const v = values.get(s.id);
    if (v && v.ts_ms > last) last = v.ts_ms;
  }
  return last || null;
}

export function MeterListPage({ meters, error, onRetry }: { meters: Meter[] | null; error: string | null; onRetry: () => void }) {
  const { values } = useLive();
  const now = useNow(5000);
  const [filter, setFilter] = useState('');

  const bySignal = useMemo(() => {
    const m = new Map<number, Map<string, Signal>>();
    for (const meter of meters ?? []) m.set(meter.id, new Map(meter.signals.map((s) => [s.name, s])));
    return m;
  }, [meters]);

  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    if (!meters) return [];
    if (!f) return meters;
    return meters.filter((m) =>
      [m.name, m.model, m.connector, m.site?.name ?? ''].some((s) => (s ?? '').toLowerCase().includes(f)),
    );
  }, [meters, filter]);

  let totalW = 0;
  let totalKnown = 0;
  for (const m of shown) {
    const s = bySignal.get(m.id)?.get('active_power_total');
    const v = s ? values.get(s.id) : undefined;
    if (s && v && Number.isFinite(v.value)) {
      totalW += v.value * displayFor(s).factor;
      totalKnown++;
    }
  }

  return (
    <section className="page">
      <div className="page-head">
        <div>
          <h1>Meters</h1>
          <p className="muted small" data-testid="meter-summary">
            {meters === null
              ? 'Loading meters…'
              : `${meters.length} meter${meters.length === 1 ? '' : 's'}` +
                (totalKnown > 0 ? ` · total active power ${formatNumber(totalW, 2)} kW` : '')}
          </p>
        </div>
        <input
          className="search"
          type="search"
          placeholder="Filter by name, model, connector…"
          aria-label="Filter meters"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      </div>

      {error && (
        <div className="alert" role="alert">
          Could not load meters: {error}{' '}
          <button type="button" className="btn btn-small" onClick={onRetry}>
            Retry
          </button>
        </div>
      )}

      <div className="card table-wrap">
        <table className="table meters" data-testid="meters">
          <thead>
            <tr>
              <th>Name</th>
              <th className="hide-md">Model</th>
              <th className="hide-sm">Connector</th>
              {COLUMNS.map((c) => (
                <th key={c.signal} className={`num${c.signal === 'active_energy_import' ? ' hide-sm' : ''}`}>
                  {c.label}
                  <span className="th-unit">{c.unit}</span>
                </th>
              ))}
              <th className="num">Last update</th>
            </tr>
          </thead>
          <tbody>
            {meters !== null && shown.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length + 4} className="center muted">
                  {meters.length === 0 ? 'No meters yet.' : 'No meter matches the filter.'}
                </td>
              </tr>
            )}
            {shown.map((m) => {
              const sigs = bySignal.get(m.id);
              const last = lastUpdate(m, values);
              const stale = !last || now - last > STALE_MS;
              const href = meterHref(m.id);
              return (
                <tr
                  key={m.id}
                  data-meter={m.name}
                  data-meter-id={m.id}
                  className={`clickable${stale ? ' stale' : ''}`}
                  onClick={(e) => {
                    if ((e.target as HTMLElement).closest('a')) return;
                    navigate(href);
                  }}
                >
                  <td className="name">
                    <a href={href}>{m.name}</a>
                    {m.site?.name ? <div className="sub">{m.site.name}</div> : null}
                  </td>
                  <td className="hide-md">{m.model}</td>
                  <td className="hide-sm">
                    <span className="tag">{m.connector}</span>
                  </td>
                  {COLUMNS.map((c) => {
                    const s = sigs?.get(c.signal);
                    const v = s ? values.get(s.id) : undefined;
                    const bad = v && v.quality && v.quality !== 'good';
                    const cellDisplay = s ? displayFor(s) : null;
                    return (
                      <td
                        key={c.signal}
                        className={`num value${bad ? ' bad' : ''}${c.signal === 'active_energy_import' ? ' hide-sm' : ''}`}
                        data-signal={c.signal}
                        data-value={v && Number.isFinite(v.value) ? v.value : undefined}
                        title={bad ? `Quality: ${v!.quality}` : undefined}
                      >
                        {s && v && cellDisplay ? formatValue(v.value, { ...cellDisplay, unit: c.unit }) : '—'}
                        {s && cellDisplay && cellDisplay.unit !== c.unit ? <span className="unit"> {cellDisplay.unit}</span> : null}
                      </td>
                    );
                  })}
                  <td className="num ts" data-testid="last-update" title={last ? `${formatFullTs(last)} (${formatAge(last, now)})` : 'No data yet'}>
                    {stale && last ? <span className="stale-dot" aria-label="stale" /> : null}
                    {formatTs(last, now)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
