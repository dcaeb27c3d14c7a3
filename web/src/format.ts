// Display formatting: unit scaling, number precision, locale timestamps.

import type { Signal } from './api';
import { currentLocale, translate } from './i18n';
import { en, type MessageKey } from './i18n/en';

export interface Display {
  unit: string;
  factor: number;
  digits: number;
}

/** A signal's readable name from the catalog (`sig.<name>`), else its name in words. */
export function signalLabel(name: string): string {
  const key = `sig.${name}`;
  if (key in en) return translate(currentLocale(), key as MessageKey);
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

const nfCache = new Map<string, Intl.NumberFormat>();
/** A number with a fixed count of decimals in the current locale (German: decimal comma). */
export function formatNumber(v: number, digits: number): string {
  const key = `${currentLocale()}/${digits}`;
  let nf = nfCache.get(key);
  if (!nf) {
    nf = new Intl.NumberFormat(currentLocale(), { minimumFractionDigits: digits, maximumFractionDigits: digits });
    nfCache.set(key, nf);
  }
  return nf.format(v);
}

/** A number with as many decimals as it needs, up to `max`. */
export function formatAuto(v: number, max = 3): string {
  if (!Number.isFinite(v)) return '—';
  const key = `${currentLocale()}/auto${max}`;
  let nf = nfCache.get(key);
  if (!nf) {
    nf = new Intl.NumberFormat(currentLocale(), { maximumFractionDigits: max });
    nfCache.set(key, nf);
  }
  return nf.format(v);
}

export function formatValue(v: number | null | undefined, d: Display): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return formatNumber(v * d.factor, d.digits);
}

const dtfCache = new Map<string, Intl.DateTimeFormat>();
function dtf(kind: 'time' | 'datetime' | 'date' | 'short', locale = currentLocale()): Intl.DateTimeFormat {
  const key = `${locale}/${kind}`;
  let f = dtfCache.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions =
      kind === 'time'
        ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
        : kind === 'date'
          ? { year: 'numeric', month: 'short', day: 'numeric' }
          : kind === 'short'
            ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
            : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' };
    f = new Intl.DateTimeFormat(locale, opts);
    dtfCache.set(key, f);
  }
  return f;
}

/** Time of day for today's timestamps, date and time otherwise. */
export function formatTs(ms: number | null | undefined, now = Date.now()): string {
  if (!ms || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const today = new Date(now);
  const sameDay =
    d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return sameDay ? dtf('time').format(d) : dtf('datetime').format(d);
}

export function formatFullTs(ms: number | null | undefined): string {
  if (!ms || !Number.isFinite(ms)) return '';
  return dtf('datetime').format(new Date(ms));
}

export function formatShortTs(ms: number): string {
  return dtf('short').format(new Date(ms));
}

export function formatDate(ms: number): string {
  return dtf('date').format(new Date(ms));
}

/** "12 s ago" style age, for tooltips and staleness. */
export function formatAge(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const l = currentLocale();
  if (s < 60) return translate(l, 'age.s', { n: s });
  const m = Math.round(s / 60);
  if (m < 60) return translate(l, 'age.min', { n: m });
  const h = Math.round(m / 60);
  if (h < 48) return translate(l, 'age.h', { n: h });
  return translate(l, 'age.d', { n: Math.round(h / 24) });
}
