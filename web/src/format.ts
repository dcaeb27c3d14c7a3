// Display formatting: unit scaling, number precision, locale timestamps.

import type { Signal } from './api';

export interface Display {
  unit: string;
  factor: number;
  digits: number;
}

const KNOWN_LABELS: Record<string, string> = {
  active_power_total: 'Active power (total)',
  active_power_l1: 'Active power L1',
  active_power_l2: 'Active power L2',
  active_power_l3: 'Active power L3',
  reactive_power_total: 'Reactive power (total)',
  apparent_power_total: 'Apparent power (total)',
  power_factor_total: 'Power factor',
  voltage_l1_n: 'Voltage L1–N',
  voltage_l2_n: 'Voltage L2–N',
  voltage_l3_n: 'Voltage L3–N',
  voltage_l1_l2: 'Voltage L1–L2',
  voltage_l2_l3: 'Voltage L2–L3',
  voltage_l3_l1: 'Voltage L3–L1',
  current_l1: 'Current L1',
  current_l2: 'Current L2',
  current_l3: 'Current L3',
  current_n: 'Current N',
  frequency: 'Frequency',
  active_energy_import: 'Active energy import',
  active_energy_export: 'Active energy export',
  reactive_energy_import: 'Reactive energy import',
  reactive_energy_export: 'Reactive energy export',
};

export function signalLabel(name: string): string {
  if (KNOWN_LABELS[name]) return KNOWN_LABELS[name];
  const s = name.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** How a signal is shown: power in kW, energy in kWh, the rest in its own unit. */
export function displayFor(sig: Pick<Signal, 'name' | 'unit'>): Display {
  const unit = sig.unit || '';
  switch (unit) {
    case 'W':
      return { unit: 'kW', factor: 1e-3, digits: 2 };
    case 'var':
    case 'VAr':
      return { unit: 'kvar', factor: 1e-3, digits: 2 };
    case 'VA':
      return { unit: 'kVA', factor: 1e-3, digits: 2 };
    case 'Wh':
      return { unit: 'kWh', factor: 1e-3, digits: 1 };
    case 'varh':
    case 'VArh':
      return { unit: 'kvarh', factor: 1e-3, digits: 1 };
    case 'kW':
    case 'kvar':
    case 'kVA':
      return { unit, factor: 1, digits: 2 };
    case 'kWh':
    case 'kvarh':
      return { unit, factor: 1, digits: 1 };
    case 'MWh':
      return { unit, factor: 1, digits: 3 };
    case 'V':
      return { unit, factor: 1, digits: 1 };
    case 'A':
      return { unit, factor: 1, digits: 2 };
    case 'Hz':
      return { unit, factor: 1, digits: 2 };
    case '%':
      return { unit, factor: 1, digits: 1 };
    case '':
      return { unit: '', factor: 1, digits: sig.name.startsWith('power_factor') ? 3 : 2 };
    default:
      return { unit, factor: 1, digits: 2 };
  }
}

const nfCache = new Map<number, Intl.NumberFormat>();
export function formatNumber(v: number, digits: number): string {
  let nf = nfCache.get(digits);
  if (!nf) {
    nf = new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    nfCache.set(digits, nf);
  }
  return nf.format(v);
}

export function formatValue(v: number | null | undefined, d: Display): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return formatNumber(v * d.factor, d.digits);
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Time of day for today's timestamps, date and time otherwise. */
export function formatTs(ms: number | null | undefined, now = Date.now()): string {
  if (!ms || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const today = new Date(now);
  const sameDay =
    d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return sameDay ? timeFmt.format(d) : dateTimeFmt.format(d);
}

export function formatFullTs(ms: number | null | undefined): string {
  if (!ms || !Number.isFinite(ms)) return '';
  return dateTimeFmt.format(new Date(ms));
}

/** "12 s ago" style age, for tooltips and staleness. */
export function formatAge(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}
