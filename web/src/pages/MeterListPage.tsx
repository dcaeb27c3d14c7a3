import { useEffect, useMemo, useState } from 'react';
import type { LatestValue, Meter, Signal } from '../api';
import { displayFor, formatAge, formatFullTs, formatTs, formatValue, formatNumber } from '../format';
import { useLive, useLiveWant } from '../live';
import { useT, type MessageKey } from '../i18n';
import { meterHref, navigate } from '../router';

interface Column {
  signal: string;
  label: MessageKey;
  unit: string;
}

const COLUMNS: Column[] = [
  { signal: 'active_power_total', label: 'meters.col.power', unit: 'kW' },
  { signal: 'voltage_l1_n', label: 'meters.col.voltage', unit: 'V' },
  { signal: 'current_l1', label: 'meters.col.current', unit: 'A' },
  { signal: 'frequency', label: 'meters.col.frequency', unit: 'Hz' },
  { signal: 'active_energy_import', label: 'meters.col.energy', unit: 'kWh' },
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
  const t = useT();
  const { values } = useLive();
  useLiveWant('all');
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
          <h1>{t('meters.title')}</h1>
          <p className="muted small" data-testid="meter-summary">
            {meters === null
              ? t('meters.loading')
              : t(meters.length === 1 ? 'meters.countOne' : 'meters.count', { n: meters.length }) +
                (totalKnown > 0 ? t('meters.totalPower', { value: formatNumber(totalW, 2) }) : '')}
          </p>
        </div>
        <input
          className="search"
          type="search"
          placeholder={t('meters.filterPlaceholder')}
          aria-label={t('meters.filterLabel')}
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      </div>

      {error && (
        <div className="alert" role="alert">
          {t('meters.loadError', { message: error })}{' '}
          <button type="button" className="btn btn-small" onClick={onRetry}>
            {t('common.retry')}
          </button>
        </div>
      )}

      <div className="card table-wrap">
        <table className="table meters" data-testid="meters">
          <thead>
            <tr>
              <th>{t('meters.name')}</th>
              <th className="hide-md">{t('meters.model')}</th>
              <th className="hide-sm">{t('meters.connector')}</th>
              {COLUMNS.map((c) => (
                <th key={c.signal} className={`num${c.signal === 'active_energy_import' ? ' hide-sm' : ''}`}>
                  {t(c.label)}
                  <span className="th-unit">{c.unit}</span>
                </th>
              ))}
              <th className="num">{t('meters.lastUpdate')}</th>
            </tr>
          </thead>
          <tbody>
            {meters !== null && shown.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length + 4} className="center muted">
                  {meters.length === 0 ? t('meters.none') : t('meters.noMatch')}
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
                        data-signal-id={s?.id}
                        data-value={v && Number.isFinite(v.value) ? v.value : undefined}
                        title={bad ? t('meters.quality', { quality: v!.quality }) : undefined}
                      >
                        {s && v && cellDisplay ? formatValue(v.value, { ...cellDisplay, unit: c.unit }) : '—'}
                        {s && cellDisplay && cellDisplay.unit !== c.unit ? <span className="unit"> {cellDisplay.unit}</span> : null}
                      </td>
                    );
                  })}
                  <td className="num ts" data-testid="last-update" title={last ? `${formatFullTs(last)} (${formatAge(last, now)})` : t('meters.noData')}>
                    {stale && last ? <span className="stale-dot" aria-label={t('meters.stale')} /> : null}
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
