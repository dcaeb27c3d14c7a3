// Thin client for the Wattline REST API (docs/api.md). Same origin, relative URLs.
import { createClient } from './http';

export interface Tenant {
  id: number;
  name: string;
}

export interface User {
  username: string;
  role: string;
  tenant: Tenant;
}

export type SignalKind = 'instant' | 'counter';

export interface Signal {
  id: number;
  name: string;
  unit: string;
  kind: SignalKind;
  meter_id?: number;
}

export interface Meter {
  id: number;
  name: string;
  model: string;
  site?: { id: number; name: string } | null;
  connector: string;
  last_seen_ms?: number | null;
  signals: Signal[];
}

export interface LatestValue {
  signal_id: number;
  meter_id?: number;
  ts_ms: number;
  value: number;
  quality: string;
}

export interface History {
  signal: Signal;
  points: [number, number][];
}

export { ApiError } from './http';

/** The API lives at /api/v1 on the origin that serves the app. */
const API_ROOT = '/api/v1';

const client = createClient({ root: API_ROOT, unreachable: 'Cannot reach the Wattline server.', csrfOnReads: false });

/** Called whenever any request answers 401 (session missing or expired). */
export function onUnauthorized(fn: (() => void) | null): void {
  client.onUnauthorized(fn);
}

function request<T>(method: string, path: string, body?: unknown, opts?: { quiet401?: boolean }): Promise<T> {
  return client.request<T>(method, path, body, opts?.quiet401 ?? false);
}

export function apiRoot(): string {
  return API_ROOT;
}

export const api = {
  login: (username: string, password: string) =>
    request<User>('POST', '/login', { username, password }, { quiet401: true }),
  logout: () => request<void>('POST', '/logout', undefined, { quiet401: true }),
  me: () => request<User>('GET', '/me', undefined, { quiet401: true }),
  meters: () => request<Meter[]>('GET', '/meters'),
  latest: () => request<LatestValue[]>('GET', '/latest'),
  /** At most `points` samples that keep every peak (min and max per bucket), from the rollups
   * for long ranges: what a trend of `points / 2` pixels needs. */
  chart: (signalId: number, fromMs: number, toMs: number, points: number) => {
    const q = new URLSearchParams({
      from: String(Math.floor(fromMs)),
      to: String(Math.ceil(toMs)),
      points: String(Math.max(2, Math.round(points))),
    });
    return request<History>('GET', `/signals/${signalId}/chart?${q.toString()}`);
  },
  history: (signalId: number, fromMs: number, toMs: number, maxPoints?: number) => {
    const q = new URLSearchParams({ from: String(Math.floor(fromMs)), to: String(Math.ceil(toMs)) });
    if (maxPoints && maxPoints > 0) q.set('max_points', String(Math.round(maxPoints)));
    return request<History>('GET', `/signals/${signalId}/history?${q.toString()}`);
  },
};

export function liveUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${apiRoot()}/live`;
}
