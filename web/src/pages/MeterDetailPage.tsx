import type { Meter } from '../api';
import { TrendChart, RANGES, type RangeKey } from '../components/TrendChart';
import { displayFor, formatAge, formatFullTs, formatTs, formatValue, signalLabel } from '../format';
import { useLive, useLiveWant } from '../live';
import { useT } from '../i18n';
import { meterHref, navigate } from '../router';
import { lastUpdate, STALE_MS, useNow } from './MeterListPage';

const DEFAULT_SIGNAL = 'active_power_total';

export function MeterDetailPage({
  meterId,
  meters,
  error,
  params,
  onRetry,
}: {
  meterId: number;
  meters: Meter[] | null;
  error: string | null;
  params: URLSearchParams;
  onRetry: () => void;
}) {
  const t = useT();
  const { values } = useLive();
  useLiveWant('all');
  const now = useNow(5000);
  const meter = meters?.find((m) => m.id === meterId);

  const back = (
    <a className="back" href="#/meters" data-testid="back">
      ← {t('meters.all')}
    </a>
  );

  if (!meter) {
    return (
      <section className="page">
        {back}
        {error ? (
          <div className="alert" role="alert">
            {t('meters.loadError', { message: error })}{' '}
            <button type="button" className="btn btn-small" onClick={onRetry}>
              {t('common.retry')}
            </button>
          </div>
        ) : meters === null ? (
          <p className="muted">{t('common.loading')}</p>
        ) : (
          <div className="card pad">
            <h1>{t('meters.notFound')}</h1>
            <p className="muted">{t('meters.notFoundText', { id: String(meterId) })}</p>
          </div>
        )}
      </section>
    );
  }

  const rangeParam = params.get('range');
  const range: RangeKey = rangeParam && rangeParam in RANGES ? (rangeParam as RangeKey) : '1h';
  const wanted = params.get('signal') ?? DEFAULT_SIGNAL;
  const selected = meter.signals.find((s) => s.name === wanted) ?? meter.signals.find((s) => s.name === DEFAULT_SIGNAL) ?? meter.signals[0];
  const go = (signal: string | undefined, r: RangeKey) =>
    navigate(meterHref(meter.id, { signal: signal === DEFAULT_SIGNAL ? undefined : signal, range: r === '1h' ? undefined : r }), true);

  const last = lastUpdate(meter, values);
  const stale = !last || now - last > STALE_MS;
  const selDisp = selected ? displayFor(selected) : null;
  const selVal = selected ? values.get(selected.id) : undefined;

  return (
    <section className="page" data-testid="meter-detail" data-meter={meter.name}>
      {back}
      <div className="page-head">
        <div>
          <h1>{meter.name}</h1>
          <p className="muted small">
            {[meter.model, meter.site?.name, t('meters.connectorName', { name: meter.connector })].filter(Boolean).join(' · ')}
            {' · '}
            <span className={stale ? 'stale-text' : undefined} title={last ? formatFullTs(last) : undefined}>
              {t('meters.lastUpdateText', { when: last ? `${formatTs(last, now)} (${formatAge(last, now)})` : t('common.never') })}
            </span>
          </p>
        </div>
      </div>

      <div className="detail-grid">
        <div className="card chart-card">
          <div className="chart-head">
            <div>
              <div className="chart-title">{selected ? signalLabel(selected.name) : t('meters.noSignals')}</div>
              {selected && selDisp && (
                <div className="chart-current">
                  {formatValue(selVal?.value, selDisp)} <span className="unit">{selDisp.unit}</span>
                </div>
              )}
            </div>
            <div className="controls">
              {selected && (
                <a className="btn btn-small" href={`#/trends?s=${selected.id}&range=${range}`} data-testid="open-trend">
                  {t('meters.openTrend')}
                </a>
              )}
              {selected && (
                <select
                  aria-label={t('meters.signal')}
                  value={selected.name}
                  onChange={(e) => go(e.target.value, range)}
                  className="select"
                >
                  {meter.signals.map((s) => (
                    <option key={s.id} value={s.name}>
                      {signalLabel(s.name)}
                    </option>
                  ))}
                </select>
              )}
              <div className="seg" role="group" aria-label={t('trend.range')}>
                {(Object.keys(RANGES) as RangeKey[]).map((k) => (
                  <button
                    key={k}
                    type="button"
                    className={k === range ? 'active' : undefined}
                    aria-pressed={k === range}
                    data-range={k}
                    onClick={() => go(selected?.name, k)}
                  >
                    {t(RANGES[k].label)}
                  </button>
                ))}
              </div>
            </div>
          </div>
          {selected ? (
            <TrendChart key={`${selected.id}-${range}`} signal={selected} range={range} />
          ) : (
            <p className="muted pad">{t('meters.noSignalsText')}</p>
          )}
        </div>

        <div className="card table-wrap">
          <table className="table signals" data-testid="signals">
            <thead>
              <tr>
                <th>{t('meters.signal')}</th>
                <th className="num">{t('meters.value')}</th>
                <th>{t('meters.unit')}</th>
                <th className="num">{t('meters.updated')}</th>
              </tr>
            </thead>
            <tbody>
              {meter.signals.map((s) => {
                const d = displayFor(s);
                const v = values.get(s.id);
                const bad = v && v.quality && v.quality !== 'good';
                const isSel = s.id === selected?.id;
                return (
                  <tr
                    key={s.id}
                    className={`clickable${isSel ? ' selected' : ''}`}
                    data-signal-row={s.name}
                    onClick={() => go(s.name, range)}
                    aria-selected={isSel}
                  >
                    <td>
                      <div>{signalLabel(s.name)}</div>
                      <div className="sub mono">
                        {s.name}
                        {s.kind === 'counter' ? ` · ${t('meters.counter')}` : ''}
                      </div>
                    </td>
                    <td
                      className={`num value${bad ? ' bad' : ''}`}
                      data-signal={s.name}
                      data-value={v && Number.isFinite(v.value) ? v.value : undefined}
                      title={bad ? t('meters.quality', { quality: v!.quality }) : undefined}
                    >
                      {formatValue(v?.value, d)}
                    </td>
                    <td className="unit-cell">{d.unit}</td>
                    <td className="num ts" title={v ? formatFullTs(v.ts_ms) : undefined}>
                      {v ? formatTs(v.ts_ms, now) : '—'}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
