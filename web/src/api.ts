// Thin client for the Wattline REST API (docs/api.md). Same origin, relative URLs.

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

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The API lives at /api/v1 on the origin that serves the app. */
const API_ROOT = '/api/v1';

/** Called whenever any request answers 401 (session missing or expired). */
let unauthorizedHandler: (() => void) | null = null;
export function onUnauthorized(fn: (() => void) | null): void {
  unauthorizedHandler = fn;
}

async function request<T>(method: string, path: string, body?: unknown, opts?: { quiet401?: boolean }): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-Requested-With'] = 'wattline';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${apiRoot()}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'unavailable', 'Cannot reach the Wattline server.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    const e = new ApiError(res.status, err?.code ?? 'unknown', err?.message || `${res.status} ${res.statusText || 'request failed'}`);
    if (res.status === 401 && !opts?.quiet401 && unauthorizedHandler) unauthorizedHandler();
    throw e;
  }
  return data as T;
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
