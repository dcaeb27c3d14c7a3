// The trend page's state as URL hash parameters, so a trend can be bookmarked:
//   #/trends?s=17,18:step,19:bar&range=24h&from=MS&to=MS&cmp=1d
// s: signal ids with an optional style (line is the default); range: a preset ending now; from/to:
// an explicit window (after zooming or a custom range); cmp: the compare offset (1d, 7d, or <n>h).

export type SeriesStyle = 'line' | 'step' | 'bar';

export interface TrendSeries {
  id: number;
  style: SeriesStyle;
}

export interface TrendState {
  series: TrendSeries[];
  range: string;
  from?: number;
  to?: number;
  compare: string;
}

export const PRESETS: Record<string, number> = {
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  '365d': 365 * 86_400_000,
};

export const COMPARE_PRESETS = ['1d', '7d'];

/** The compare offset in ms ("1d", "7d", "36h"; "" is none). */
export function compareOffset(cmp: string): number {
  const m = /^(\d+(?:\.\d+)?)([hdw])$/.exec(cmp);
  if (!m) return 0;
  const n = Number(m[1]);
  return n * (m[2] === 'h' ? 3_600_000 : m[2] === 'd' ? 86_400_000 : 7 * 86_400_000);
}

export function parseTrend(p: URLSearchParams): TrendState {
  const series: TrendSeries[] = [];
  for (const part of (p.get('s') ?? '').split(',')) {
    const [id, style] = part.split(':');
    const n = Number(id);
    if (!id || !Number.isInteger(n) || series.some((s) => s.id === n)) continue;
    series.push({ id: n, style: style === 'step' || style === 'bar' ? style : 'line' });
  }
  const range = p.get('range') ?? '';
  const from = Number(p.get('from'));
  const to = Number(p.get('to'));
  const explicit = Number.isFinite(from) && Number.isFinite(to) && p.get('from') && p.get('to') && to > from;
  return {
    series,
    range: range in PRESETS ? range : '24h',
    from: explicit ? from : undefined,
    to: explicit ? to : undefined,
    compare: compareOffset(p.get('cmp') ?? '') > 0 ? (p.get('cmp') as string) : '',
  };
}

export function trendHash(s: TrendState): string {
  const q = new URLSearchParams();
  if (s.series.length) q.set('s', s.series.map((x) => (x.style === 'line' ? String(x.id) : `${x.id}:${x.style}`)).join(','));
  q.set('range', s.range);
  if (s.from !== undefined && s.to !== undefined) {
    q.set('from', String(Math.round(s.from)));
    q.set('to', String(Math.round(s.to)));
  }
  if (s.compare) q.set('cmp', s.compare);
  // Commas stay readable in a bookmark.
  return `#/trends?${q.toString().replace(/%2C/g, ',').replace(/%3A/g, ':')}`;
}

/** The shown window [from, to) in ms. */
export function windowOf(s: TrendState, now = Date.now()): { from: number; to: number } {
  if (s.from !== undefined && s.to !== undefined) return { from: s.from, to: s.to };
  return { from: now - PRESETS[s.range], to: now };
}
