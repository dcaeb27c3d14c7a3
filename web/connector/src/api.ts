// Client of the connector's own API (docs/connector-api.md). Same origin, relative URLs.

import { createClient } from '../../src/http';

export { ApiError } from '../../src/http';
export type { FieldErrorDetail } from '../../src/http';

const client = createClient({ root: '/api/v1', unreachable: 'Cannot reach the connector.', csrfOnReads: true });

export function setUnauthorizedHandler(fn: (() => void) | null): void {
  client.onUnauthorized(fn);
}

export function call<T>(method: string, path: string, body?: unknown, quiet401 = false): Promise<T> {
  return client.request<T>(method, path, body, quiet401);
}

export interface Me {
  username: string;
  must_change_password: boolean;
}

export interface MeterStatus {
  state: 'ok' | 'error' | 'waiting';
  error: string | null;
  response_time_ms?: number;
  requests?: number;
  errors?: number;
  last_read_ms?: number;
}

export interface Meter {
  key: string;
  profile: string;
  type: string;
  vendor: string;
  own_brand: boolean;
  serial: string | null;
  transport: 'tcp' | 'rtu-over-tcp' | 'serial';
  connection: 'tcp' | 'gateway' | 'serial';
  host?: string;
  port?: number;
  serial_port?: string;
  baud?: number;
  parity?: string;
  stop_bits?: number;
  unit_id: number;
  cycle_ms: number;
  read_only: boolean;
  endpoint: string;
  status: MeterStatus;
}

export interface Driver {
  id: string;
  name: string;
  vendor: string;
  model: string;
  signals: number;
  bundled: boolean;
  used_by: string[];
}

export interface Overview {
  name: string;
  connector_id: string;
  serial_number: string;
  version: string;
  server: { state: string; url?: string; last_error?: string };
  last_read_ms: number;
  last_transmission_ms: number;
  meters: { total: number; ok: number; error: number };
  claim: { available: boolean; phase?: string; claim_code?: string; server_url?: string; fingerprint?: string; last_error?: string };
}

export interface Network {
  editable: boolean;
  mode: string;
  reason?: string;
  connection?: string;
  address?: string;
  gateway?: string;
  dns?: string;
}

export interface Settings {
  name: string;
  connector_id: string;
  time_sync: { enabled: boolean; time: string };
  network: Network;
}

export interface Diagnostics {
  meters: {
    key: string;
    last_error: string | null;
    response_time_ms: number;
    requests: number;
    errors: number;
    last_read_ms: number;
    identity: Record<string, string>;
    history_records: number;
    contact_error: string | null;
    clock: { known: boolean; drift_ms: number | null; last_sync_ms: number; error: string | null };
  }[];
  uplink: {
    server_url: string;
    last_error: string;
    last_success_ms: number;
    batches_sent: number;
    failures: number;
    queue_pending: number;
    queue_disk_bytes: number;
    queue_evicted: number;
    oldest_unsent_ms: number;
  } | null;
}

export interface FoundDevice {
  endpoint: string;
  host: string;
  port: number;
  unit_id: number;
  profile: string | null;
  matched_by: string;
  identity: string;
  serial: string;
  name: string;
  key: string;
  state: 'new' | 'polled' | 'ignored' | 'no-driver';
}

export interface ScanState {
  available: boolean;
  message?: string;
  initial_scan_done: boolean;
  phase?: 'idle' | 'querying' | 'scanning' | 'done';
  done?: number;
  total?: number;
  started_ms?: number;
  finished_ms?: number;
  error?: string | null;
  targets?: string[];
  found?: FoundDevice[];
  continuous?: boolean;
  events?: { ms: number; endpoint: string; event: string }[];
}

export function formatTime(ms: number | undefined | null): string {
  if (!ms) return 'never';
  return new Date(ms).toLocaleString();
}
