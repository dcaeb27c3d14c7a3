// Time-axis labels through Intl in the current locale (uPlot's own are English only).
import type uPlot from 'uplot';
import { currentLocale } from '../i18n';

const cache = new Map<string, Intl.DateTimeFormat>();
function fmt(kind: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${currentLocale()}/${kind}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(currentLocale(), opts);
    cache.set(key, f);
  }
  return f;
}

/**
 * Tick labels for a time axis whose values are seconds; `shiftMs` is added before formatting (a
 * compare axis shows the compared period's time for the same position).
 */
export function timeTicks(shiftMs = 0): uPlot.Axis['values'] {
  return (_u: uPlot, splits: number[], _ax: number, _space: number, incr: number) => {
    let prevDay = '';
    return splits.map((s) => {
      if (s == null) return '';
      const d = new Date(s * 1000 + shiftMs);
      if (incr >= 28 * 86400) return fmt('my', { month: 'short', year: 'numeric' }).format(d);
      const day = fmt('dm', { day: 'numeric', month: 'short' }).format(d);
      if (incr >= 86400) return day;
      const time =
        incr < 60
          ? fmt('hms', { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(d)
          : fmt('hm', { hour: '2-digit', minute: '2-digit' }).format(d);
      const label = day !== prevDay ? `${time}\n${day}` : time;
      prevDay = day;
      return label;
    });
  };
}
