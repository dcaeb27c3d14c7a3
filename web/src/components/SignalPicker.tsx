import { useMemo, useState } from 'react';
import type { Meter, Signal } from '../api';
import { useT } from '../i18n';
import { displayFor, signalLabel } from '../format';

export interface SignalRef {
  signal: Signal;
  meter: Meter;
}

/** signal id -> the signal and its meter, over all meters. */
export function signalIndex(meters: Meter[] | null): Map<number, SignalRef> {
  const m = new Map<number, SignalRef>();
  for (const meter of meters ?? []) for (const s of meter.signals) m.set(s.id, { signal: { ...s, meter_id: meter.id }, meter });
  return m;
}

export function useSignalIndex(meters: Meter[] | null): Map<number, SignalRef> {
  return useMemo(() => signalIndex(meters), [meters]);
}

/** "meter-01 · Active power (total)" */
export function signalTitle(ref: SignalRef | undefined, id: number): string {
  return ref ? `${ref.meter.name} · ${signalLabel(ref.signal.name)}` : `#${id}`;
}

/** Picks signals: a meter, then its signals as checkboxes; the chosen ones are listed as chips. */
export function SignalPicker({
  meters,
  value,
  onChange,
  max,
}: {
  meters: Meter[] | null;
  value: number[];
  onChange: (ids: number[]) => void;
  max?: number;
}) {
  const t = useT();
  const index = useSignalIndex(meters);
  const [meterId, setMeterId] = useState<number | null>(() => (value.length ? (index.get(value[0])?.meter.id ?? null) : (meters?.[0]?.id ?? null)));
  const [filter, setFilter] = useState('');
  const meter = meters?.find((m) => m.id === meterId) ?? meters?.[0];
  const f = filter.trim().toLowerCase();
  const shown = (meter?.signals ?? []).filter((s) => !f || s.name.includes(f) || signalLabel(s.name).toLowerCase().includes(f));
  const toggle = (id: number, on: boolean) => {
    if (on) onChange(max === 1 ? [id] : [...value.filter((v) => v !== id), id].slice(-(max ?? 64)));
    else onChange(value.filter((v) => v !== id));
  };
  return (
    <div className="picker" data-testid="signal-picker">
      {value.length > 0 && (
        <div className="chips">
          {value.map((id) => (
            <span key={id} className="chip" data-chip={id}>
              {signalTitle(index.get(id), id)}
              <button type="button" aria-label={t('common.remove')} onClick={() => toggle(id, false)}>
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      <div className="picker-row">
        <select
          className="select"
          aria-label={t('picker.meter')}
          data-testid="picker-meter"
          value={meter?.id ?? ''}
          onChange={(e) => setMeterId(Number(e.target.value))}
        >
          {(meters ?? []).map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
        <input className="search" type="search" placeholder={t('picker.filter')} value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      <div className="picker-list">
        {meters === null && <div className="muted small">{t('common.loading')}</div>}
        {meters?.length === 0 && <div className="muted small">{t('meters.none')}</div>}
        {shown.map((s) => {
          const d = displayFor(s);
          return (
            <label key={s.id} className="check">
              <input
                type={max === 1 ? 'radio' : 'checkbox'}
                checked={value.includes(s.id)}
                onChange={(e) => toggle(s.id, e.target.checked)}
                data-signal-id={s.id}
                data-signal-name={s.name}
                data-unit={d.unit}
              />
              {signalLabel(s.name)} {d.unit && <span className="muted">({d.unit})</span>}
            </label>
          );
        })}
      </div>
    </div>
  );
}
