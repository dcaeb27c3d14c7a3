// Live values: a WebSocket to /api/v1/live with reconnect + backoff, and polling of
// /api/v1/latest every 2 s while the socket is down. Exposed as a tiny external store.
//
// Pages say which values they need with want(): a list of signal ids (a dashboard) or 'all' (the
// meter list). While nobody wants 'all' and somebody wants ids, the socket subscribes to exactly
// their union ({"type":"subscribe"}); as long as any page wants 'all' it stays unsubscribed and
// receives every value of the tenant (leaving a subscription takes a reconnect).

import { useEffect, useSyncExternalStore } from 'react';
import { api, liveUrl, type LatestValue } from './api';

export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveSnapshot {
  state: ConnState;
  /** signal_id -> latest value */
  values: ReadonlyMap<number, LatestValue>;
  /** bumped on every change, handy for memo keys */
  version: number;
}

type ValueListener = (values: LatestValue[]) => void;

/**
 * The values of a live frame (docs/api.md): each is [signal_id, value, dt_ms?, quality?], its
 * time `ts_ms + dt_ms`; a missing dt_ms is 0 and a missing quality 'good'. Malformed entries are
 * skipped. A value the server cannot give is null, as in /api/v1/latest.
 */
export function decodeValues(tsMs: number, values: unknown[]): LatestValue[] {
  const out: LatestValue[] = [];
  for (const v of values) {
    if (!Array.isArray(v) || typeof v[0] !== 'number') continue;
    const dt = typeof v[2] === 'number' ? v[2] : 0;
    const quality = typeof v[3] === 'string' ? v[3] : 'good';
    out.push({ signal_id: v[0], ts_ms: tsMs + dt, value: v[1] as number, quality });
  }
  return out;
}

const POLL_MS = 2000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 15000;

class LiveStore {
  private snap: LiveSnapshot = { state: 'offline', values: new Map(), version: 0 };
  private listeners = new Set<() => void>();
  private valueListeners = new Set<ValueListener>();
  private ws: WebSocket | null = null;
  private running = false;
  private backoff = BACKOFF_MIN_MS;
  private reconnectTimer: number | undefined;
  private pollTimer: number | undefined;
  private polling = false;
  private pending: LatestValue[] = [];
  private flushScheduled = false;
  private wants = new Map<number, readonly number[] | 'all'>();
  private nextWant = 1;
  /** What the open socket is subscribed to: null while it receives everything. */
  private subscribed: Set<number> | null = null;

  /** Declares the values a page needs until the returned function is called. */
  want(ids: readonly number[] | 'all'): () => void {
    const key = this.nextWant++;
    this.wants.set(key, ids);
    this.applyWants();
    return () => {
      this.wants.delete(key);
      this.applyWants();
    };
  }

  /** The union of all wanted ids, or null when someone wants everything (or nobody wants ids). */
  private desired(): Set<number> | null {
    const ids = new Set<number>();
    for (const w of this.wants.values()) {
      if (w === 'all') return null;
      for (const id of w) ids.add(id);
    }
    return ids.size ? ids : null;
  }

  private applyWants(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return; // onopen applies them
    const want = this.desired();
    if (want === null) {
      if (this.subscribed !== null) {
        // No way to go back to "everything" but a fresh socket.
        this.ws = null;
        ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
        ws.close();
        this.subscribed = null;
        this.connect();
      }
      return;
    }
    const cur = this.subscribed ?? new Set<number>();
    const add = [...want].filter((id) => !cur.has(id));
    const drop = [...cur].filter((id) => !want.has(id));
    if (add.length) ws.send(JSON.stringify({ type: 'subscribe', signals: add }));
    if (drop.length) ws.send(JSON.stringify({ type: 'unsubscribe', signals: drop }));
    this.subscribed = new Set(want);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.backoff = BACKOFF_MIN_MS;
    this.setState('connecting');
    void this.pollOnce(); // fill the table at once, before the first frame arrives
    this.connect();
  }

  stop(): void {
    this.running = false;
    window.clearTimeout(this.reconnectTimer);
    this.stopPolling();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
      try {
        ws.close();
      } catch {
        /* ignore */
      }
    }
    this.pending = [];
    this.snap = { state: 'offline', values: new Map(), version: this.snap.version + 1 };
    this.emit();
  }

  getSnapshot = (): LiveSnapshot => this.snap;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** Raw stream of every value received (socket or poll), for charts. */
  onValues(fn: ValueListener): () => void {
    this.valueListeners.add(fn);
    return () => this.valueListeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  private setState(state: ConnState): void {
    if (this.snap.state === state) return;
    this.snap = { ...this.snap, state, version: this.snap.version + 1 };
    this.emit();
  }

  private connect(): void {
    if (!this.running) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(liveUrl());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    // A socket stuck in CONNECTING (e.g. a half-open network) is given up after 10 s.
    const connectTimer = window.setTimeout(() => {
      if (this.ws === ws && ws.readyState === WebSocket.CONNECTING) ws.close();
    }, 10000);
    ws.onopen = () => {
      window.clearTimeout(connectTimer);
      if (this.ws !== ws) return;
      this.backoff = BACKOFF_MIN_MS;
      this.stopPolling();
      this.setState('live');
      this.subscribed = null;
      this.applyWants();
      // Catch up on anything missed while the socket was down.
      void this.pollOnce();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      let msg: unknown;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      const m = msg as { type?: string; ts_ms?: unknown; values?: unknown };
      if (m && m.type === 'values' && typeof m.ts_ms === 'number' && Array.isArray(m.values)) {
        this.ingest(decodeValues(m.ts_ms, m.values));
      }
    };
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = () => {
      window.clearTimeout(connectTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    this.setState('reconnecting');
    this.startPolling();
    const delay = this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    window.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = window.setTimeout(() => this.connect(), delay);
  }

  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    const tick = async () => {
      if (!this.polling) return;
      await this.pollOnce();
      if (this.polling) this.pollTimer = window.setTimeout(tick, POLL_MS);
    };
    this.pollTimer = window.setTimeout(tick, 0);
  }

  private stopPolling(): void {
    this.polling = false;
    window.clearTimeout(this.pollTimer);
  }

  private async pollOnce(): Promise<void> {
    try {
      const vals = await api.latest();
      if (this.running && Array.isArray(vals)) this.ingest(vals);
    } catch {
      /* 401 is handled globally; other errors: try again next tick */
    }
  }

  private ingest(vals: LatestValue[]): void {
    for (const v of vals) {
      if (v && typeof v.signal_id === 'number' && typeof v.ts_ms === 'number') this.pending.push(v);
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Coalesce bursts of frames into one render.
    const flush = () => {
      this.flushScheduled = false;
      const batch = this.pending;
      this.pending = [];
      if (!this.running || batch.length === 0) return;
      const values = new Map(this.snap.values);
      const fresh: LatestValue[] = [];
      for (const v of batch) {
        const cur = values.get(v.signal_id);
        if (cur && cur.ts_ms > v.ts_ms) continue;
        if (cur && cur.ts_ms === v.ts_ms && cur.value === v.value && cur.quality === v.quality) continue;
        values.set(v.signal_id, v);
        fresh.push(v);
      }
      if (fresh.length === 0) return;
      this.snap = { ...this.snap, values, version: this.snap.version + 1 };
      this.emit();
      for (const fn of this.valueListeners) fn(fresh);
    };
    if (document.hidden) window.setTimeout(flush, 0);
    else window.requestAnimationFrame(flush);
  }
}

export const live = new LiveStore();

export function useLive(): LiveSnapshot {
  return useSyncExternalStore(live.subscribe, live.getSnapshot);
}

/** Keeps the live values of `ids` (or of everything) flowing while the calling component lives. */
export function useLiveWant(ids: readonly number[] | 'all'): void {
  const key = ids === 'all' ? 'all' : [...ids].sort((a, b) => a - b).join(',');
  useEffect(() => {
    const list = key === 'all' ? 'all' : key ? key.split(',').map(Number) : [];
    if (list !== 'all' && list.length === 0) return;
    return live.want(list);
  }, [key]);
}
