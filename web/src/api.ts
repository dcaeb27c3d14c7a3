// Thin client for the Wattline REST API (docs/api.md). Same origin, relative URLs.
import { createClient } from './http';

export interface Tenant {
  id: number;
  name: string;
}

export type Role = 'viewer' | 'operator' | 'engineer' | 'administrator' | 'system';
export const ROLES: Role[] = ['viewer', 'operator', 'engineer', 'administrator', 'system'];

/** The body of GET /me. */
export interface User {
  id?: number;
  username: string;
  role: Role | string;
  system?: boolean;
  tenant: Tenant;
  locale?: '' | 'en' | 'de';
  totp_enabled?: boolean;
  must_change_password?: boolean;
  must_enrol_totp?: boolean;
  password_expires_ms?: number | null;
}

/** True when `user` has at least the rights of `role`. */
export function hasRole(user: Pick<User, 'role' | 'system'>, role: Role): boolean {
  if (user.system || user.role === 'system') return true;
  const have = ROLES.indexOf(user.role as Role);
  return have >= 0 && have >= ROLES.indexOf(role);
}

export interface TenantRow extends Tenant {
  users?: number;
}

export interface UserRow {
  id: number;
  username: string;
  role: Role | string;
  tenant_id: number;
  totp_enabled: boolean;
  locked: boolean;
  created_ms: number | null;
  last_login_ms: number | null;
}

export interface SecuritySettings {
  password: { min_length: number; min_classes: number; history: number; max_age_days: number };
  totp_required_roles: string[];
}

export interface AuditEntry {
  id: number;
  ts_ms: number;
  tenant_id: number | null;
  username: string | null;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  remote: string | null;
}

export interface TotpEnrolment {
  secret: string;
  uri: string;
  qr_svg: string;
}

export type WidgetType = 'value' | 'gauge' | 'trend' | 'bar' | 'pie' | 'table' | 'alarms';

export interface Widget {
  id: string;
  type: WidgetType;
  x: number;
  y: number;
  w: number;
  h: number;
  title: string;
  signals: number[];
  options: Record<string, unknown>;
}

export interface Layout {
  widgets: Widget[];
}

export interface DashboardInfo {
  id: number;
  name: string;
  owner: string;
  shared: boolean;
  mine: boolean;
}

export interface Dashboard extends DashboardInfo {
  layout: Layout;
}

export interface Connector {
  id: number;
  name: string;
  uuid: string | null;
  site: { id: number; name: string } | null;
  claimed_at_ms: number | null;
  last_seen_ms: number | null;
  acked_seq?: number;
  version?: string;
  server_fingerprint?: string;
  tenant?: Tenant;
}

export interface ExportSeries {
  name: string;
  unit: string;
  points: [number, number | null][];
}

export interface ExportRequest {
  format: 'csv' | 'xlsx' | 'pdf';
  locale: 'en' | 'de';
  zone: string;
  title: string;
  series: ExportSeries[];
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
  /** The points whose quality is not good. */
  qualities?: [number, 'manual' | 'invalid'][];
}

export type NodeKind = 'site' | 'building' | 'distribution_board' | 'cost_centre' | 'meter' | 'virtual_meter';
export const NODE_KINDS: NodeKind[] = ['site', 'building', 'distribution_board', 'cost_centre', 'meter', 'virtual_meter'];

export interface VirtualTerm {
  node_id: number;
  sign: 1 | -1;
}

/** A node of GET /tree (docs/api.md "Site tree"). */
export interface TreeNode {
  id: number;
  parent_id: number | null;
  kind: NodeKind;
  name: string;
  position: number;
  device_id: number | null;
  manual: boolean;
  terms: VirtualTerm[];
  meter: { id: number; name: string; model: string; connector: string } | null;
  energy_signal: Signal | null;
  signals: Signal[];
  children: TreeNode[];
}

export interface NodeInput {
  parent_id: number | null;
  kind: NodeKind;
  name: string;
  device_id?: number;
  manual?: boolean;
  terms?: VirtualTerm[];
}

export interface NodeChange {
  name?: string;
  parent_id?: number | null;
  device_id?: number;
  terms?: VirtualTerm[];
}

export interface Consumption {
  node_id: number;
  unit: 'kWh';
  interval: string;
  signal: Signal | null;
  points: [number, number][];
  total: number;
  members: { node_id: number; name: string; kind: NodeKind; sign: number; total: number }[];
}

export interface Reading {
  ts_ms: number;
  value: number;
  quality: 'good' | 'invalid' | 'manual';
}

import { ApiError } from './http';
export { ApiError };

/** The API lives at /api/v1 on the origin that serves the app. */
const API_ROOT = '/api/v1';

const client = createClient({ root: API_ROOT, unreachable: 'Cannot reach the Wattline server.', csrfOnReads: false });

/** Called whenever any request answers 401 (session missing or expired). */
export function onUnauthorized(fn: (() => void) | null): void {
  client.onUnauthorized(fn);
}

let forcedStep: (() => void) | null = null;

/** Called when a request is refused because the user must first change the password or enrol
 * two-factor login (403 with reason password_change_required / totp_enrolment_required). */
export function onForcedStep(fn: (() => void) | null): void {
  forcedStep = fn;
}

async function request<T>(method: string, path: string, body?: unknown, opts?: { quiet401?: boolean }): Promise<T> {
  try {
    return await client.request<T>(method, path, body, opts?.quiet401 ?? false);
  } catch (e) {
    if (e instanceof ApiError && e.status === 403 && (e.reason === 'password_change_required' || e.reason === 'totp_enrolment_required'))
      forcedStep?.();
    throw e;
  }
}

export function apiRoot(): string {
  return API_ROOT;
}

export const api = {
  login: (username: string, password: string, second?: { totp?: string; recovery_code?: string }) =>
    request<User>('POST', '/login', { username, password, ...second }, { quiet401: true }),
  setPreferences: (locale: '' | 'en' | 'de') => request<User>('PUT', '/me/preferences', { locale }),
  changePassword: (current: string, next: string) => request<void>('POST', '/me/password', { current, new: next }),
  totpEnrol: () => request<TotpEnrolment>('POST', '/me/totp/enrol'),
  totpConfirm: (code: string) => request<{ recovery_codes: string[] }>('POST', '/me/totp/confirm', { code }),
  totpDisable: (password: string) => request<void>('POST', '/me/totp/disable', { password }),
  switchTenant: (tenant_id: number) => request<User>('POST', '/me/tenant', { tenant_id }),
  tenants: () => request<TenantRow[]>('GET', '/tenants'),
  createTenant: (name: string) => request<Tenant>('POST', '/tenants', { name }),
  users: () => request<UserRow[]>('GET', '/users'),
  createUser: (u: { username: string; password: string; role: string; tenant_id?: number }) =>
    request<UserRow>('POST', '/users', u),
  updateUser: (id: number, change: { role?: string; password?: string; reset_totp?: boolean }) =>
    request<UserRow>('PUT', `/users/${id}`, change),
  deleteUser: (id: number) => request<void>('DELETE', `/users/${id}`),
  security: () => request<SecuritySettings>('GET', '/settings/security'),
  setSecurity: (s: SecuritySettings) => request<SecuritySettings>('PUT', '/settings/security', s),
  audit: (limit: number, beforeId?: number) =>
    request<AuditEntry[]>('GET', `/audit?limit=${limit}${beforeId !== undefined ? `&before_id=${beforeId}` : ''}`),
  connectors: () => request<Connector[]>('GET', '/connectors'),
  claim: (c: { code: string; name?: string; site_id?: number }) => request<Connector>('POST', '/connectors/claim', c),
  dashboards: () => request<DashboardInfo[]>('GET', '/dashboards'),
  dashboard: (id: number) => request<Dashboard>('GET', `/dashboards/${id}`),
  createDashboard: (d: { name: string; shared: boolean; layout: Layout }) => request<Dashboard>('POST', '/dashboards', d),
  updateDashboard: (id: number, d: { name: string; shared: boolean; layout: Layout }) =>
    request<Dashboard>('PUT', `/dashboards/${id}`, d),
  deleteDashboard: (id: number) => request<void>('DELETE', `/dashboards/${id}`),
  tree: () => request<{ nodes: TreeNode[] }>('GET', '/tree'),
  createNode: (n: NodeInput) => request<TreeNode>('POST', '/tree/nodes', n),
  updateNode: (id: number, c: NodeChange) => request<TreeNode>('PUT', `/tree/nodes/${id}`, c),
  deleteNode: (id: number, recursive: boolean) => request<void>('DELETE', `/tree/nodes/${id}${recursive ? '?recursive=1' : ''}`),
  consumption: (id: number, fromMs: number, toMs: number, interval: string) => {
    const q = new URLSearchParams({ from: String(Math.floor(fromMs)), to: String(Math.ceil(toMs)), interval });
    return request<Consumption>('GET', `/tree/nodes/${id}/consumption?${q.toString()}`);
  },
  readings: (id: number) => request<Reading[]>('GET', `/tree/nodes/${id}/readings`),
  addReading: (id: number, ts_ms: number, value: number) => request<Reading>('POST', `/tree/nodes/${id}/readings`, { ts_ms, value }),
  exportFile: (req: ExportRequest) => client.download('/export', req),
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
