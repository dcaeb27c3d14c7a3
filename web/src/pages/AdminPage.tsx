import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, hasRole, ROLES, type AuditEntry, type SecuritySettings, type TenantRow, type User, type UserRow } from '../api';
import { useT, type MessageKey } from '../i18n';
import { formatFullTs } from '../format';


type Tab = 'users' | 'tenants' | 'security' | 'audit';

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

/** Administration: users, tenants (system administrators), security settings, audit log. */
export function AdminPage({ user, tab }: { user: User; tab?: string }) {
  const t = useT();
  const tabs: Tab[] = ['users', ...(user.system ? (['tenants'] as Tab[]) : []), 'security', 'audit'];
  const current: Tab = tabs.includes(tab as Tab) ? (tab as Tab) : 'users';
  if (!hasRole(user, 'administrator')) {
    return (
      <section className="page">
        <div className="alert" role="alert">
          {t('admin.noRight')}
        </div>
      </section>
    );
  }
  return (
    <section className="page" data-testid="admin-page">
      <div className="page-head">
        <h1>{t('admin.title')}</h1>
      </div>
      <div className="tabs" role="tablist">
        {tabs.map((k) => (
          <a
            key={k}
            role="tab"
            aria-selected={k === current}
            className={k === current ? 'active' : undefined}
            href={`#/admin/${k}`}
            data-testid={`admin-tab-${k}`}
          >
            {t(`admin.tab.${k}` as MessageKey)}
          </a>
        ))}
      </div>
      {current === 'users' && <UsersTab user={user} />}
      {current === 'tenants' && <TenantsTab />}
      {current === 'security' && <SecurityTab />}
      {current === 'audit' && <AuditTab />}
    </section>
  );
}

function UsersTab({ user }: { user: User }) {
  const t = useT();
  const [users, setUsers] = useState<UserRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('viewer');
  const [tenants, setTenants] = useState<TenantRow[]>([]);
  const [tenantId, setTenantId] = useState<number | ''>('');

  const load = useCallback(async () => {
    try {
      setUsers(await api.users());
    } catch (err) {
      setError(message(err));
    }
  }, []);
  useEffect(() => {
    void load();
    if (user.system) api.tenants().then(setTenants, () => setTenants([]));
  }, [load, user.system]);

  const roles = ROLES.filter((r) => r !== 'system' || user.system);

  async function create(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setInfo(null);
    try {
      await api.createUser({ username: username.trim(), password, role, ...(user.system && tenantId !== '' ? { tenant_id: tenantId } : {}) });
      setInfo(t('admin.userCreated', { name: username.trim() }));
      setUsername('');
      setPassword('');
      await load();
    } catch (err) {
      setError(message(err));
    }
  }

  async function act(fn: () => Promise<unknown>, done: string) {
    setError(null);
    setInfo(null);
    try {
      await fn();
      setInfo(done);
      await load();
    } catch (err) {
      setError(message(err));
    }
  }

  return (
    <div className="tab-body">
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      {info && (
        <div className="notice" role="status">
          {info}
        </div>
      )}
      <form className="card pad form inline-form" onSubmit={create} data-testid="user-create">
        <h2>{t('admin.newUser')}</h2>
        <label className="field">
          <span>{t('login.username')}</span>
          <input name="new-username" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
        </label>
        <label className="field">
          <span>{t('admin.initialPassword')}</span>
          <input name="new-user-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
        </label>
        <label className="field">
          <span>{t('admin.role')}</span>
          <select name="new-user-role" className="select" value={role} onChange={(e) => setRole(e.target.value)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        {user.system && (
          <label className="field">
            <span>{t('admin.tenant')}</span>
            <select
              name="new-user-tenant"
              className="select"
              value={tenantId}
              onChange={(e) => setTenantId(e.target.value === '' ? '' : Number(e.target.value))}
            >
              <option value="">{t('admin.currentTenant', { name: user.tenant?.name ?? '' })}</option>
              {tenants.map((tn) => (
                <option key={tn.id} value={tn.id}>
                  {tn.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="submit" className="btn btn-primary" disabled={!username.trim() || !password} data-testid="user-create-submit">
          {t('admin.create')}
        </button>
      </form>

      <div className="card table-wrap">
        <table className="table" data-testid="users">
          <thead>
            <tr>
              <th>{t('login.username')}</th>
              <th>{t('admin.role')}</th>
              <th className="hide-sm">{t('admin.totp')}</th>
              <th className="hide-sm">{t('admin.lastLogin')}</th>
              <th>{t('admin.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {users === null && (
              <tr>
                <td colSpan={5} className="center muted">
                  {t('common.loading')}
                </td>
              </tr>
            )}
            {users?.map((u) => (
              <tr key={u.id} data-user={u.username}>
                <td>
                  {u.username}
                  {u.locked ? <span className="tag tag-bad"> {t('admin.locked')}</span> : null}
                </td>
                <td>
                  <select
                    className="select select-small"
                    aria-label={t('admin.role')}
                    value={u.role}
                    disabled={u.username === user.username}
                    onChange={(e) =>
                      void act(() => api.updateUser(u.id, { role: e.target.value }), t('admin.roleChanged', { name: u.username }))
                    }
                  >
                    {roles.map((r) => (
                      <option key={r} value={r}>
                        {t(`role.${r}` as MessageKey)}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="hide-sm">{u.totp_enabled ? t('common.on') : t('common.off')}</td>
                <td className="hide-sm">{u.last_login_ms ? formatFullTs(u.last_login_ms) : t('common.never')}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => {
                      const p = prompt(t('admin.resetPasswordPrompt', { name: u.username }));
                      if (p) void act(() => api.updateUser(u.id, { password: p }), t('admin.passwordReset', { name: u.username }));
                    }}
                  >
                    {t('admin.resetPassword')}
                  </button>
                  {u.totp_enabled && (
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => {
                        if (confirm(t('admin.resetTotpConfirm', { name: u.username })))
                          void act(() => api.updateUser(u.id, { reset_totp: true }), t('admin.totpReset', { name: u.username }));
                      }}
                    >
                      {t('admin.resetTotp')}
                    </button>
                  )}
                  {u.username !== user.username && (
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      onClick={() => {
                        if (confirm(t('admin.deleteConfirm', { name: u.username })))
                          void act(() => api.deleteUser(u.id), t('admin.userDeleted', { name: u.username }));
                      }}
                    >
                      {t('common.delete')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function TenantsTab() {
  const t = useT();
  const [tenants, setTenants] = useState<TenantRow[] | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setTenants(await api.tenants());
    } catch (err) {
      setError(message(err));
    }
  }, []);
  useEffect(() => void load(), [load]);
  async function create(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      await api.createTenant(name.trim());
      setName('');
      await load();
      window.dispatchEvent(new Event('wattline:tenants'));
    } catch (err) {
      setError(message(err));
    }
  }
  return (
    <div className="tab-body">
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      <form className="card pad form inline-form" onSubmit={create} data-testid="tenant-create">
        <h2>{t('admin.newTenant')}</h2>
        <label className="field">
          <span>{t('admin.tenantName')}</span>
          <input name="tenant-name" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={!name.trim()} data-testid="tenant-create-submit">
          {t('admin.create')}
        </button>
      </form>
      <div className="card table-wrap">
        <table className="table" data-testid="tenants">
          <thead>
            <tr>
              <th>{t('admin.tenantName')}</th>
              <th className="num">{t('admin.users')}</th>
            </tr>
          </thead>
          <tbody>
            {tenants?.map((tn) => (
              <tr key={tn.id} data-tenant={tn.name}>
                <td>{tn.name}</td>
                <td className="num">{tn.users ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function SecurityTab() {
  const t = useT();
  const [s, setS] = useState<SecuritySettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    api.security().then(setS, (err) => setError(message(err)));
  }, []);
  if (!s) return error ? <div className="alert" role="alert">{error}</div> : <p className="muted">{t('common.loading')}</p>;
  const num = (k: keyof SecuritySettings['password'], label: MessageKey, min: number, max: number) => (
    <label className="field">
      <span>{t(label)}</span>
      <input
        type="number"
        min={min}
        max={max}
        name={k}
        value={s.password[k]}
        onChange={(e) => setS({ ...s, password: { ...s.password, [k]: Number(e.target.value) } })}
      />
    </label>
  );
  async function save(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      setS(await api.setSecurity(s!));
      setSaved(true);
    } catch (err) {
      setError(message(err));
    }
  }
  return (
    <form className="card pad form tab-body" onSubmit={save} data-testid="security-form">
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      {saved && (
        <div className="notice" role="status">
          {t('common.saved')}
        </div>
      )}
      <h2>{t('admin.passwordPolicy')}</h2>
      <div className="form-grid">
        {num('min_length', 'admin.minLength', 1, 128)}
        {num('min_classes', 'admin.minClasses', 0, 4)}
        {num('history', 'admin.history', 0, 50)}
        {num('max_age_days', 'admin.maxAge', 0, 3650)}
      </div>
      <h2>{t('admin.totpRequired')}</h2>
      <div className="checks">
        {ROLES.map((r) => (
          <label key={r} className="check">
            <input
              type="checkbox"
              checked={s.totp_required_roles.includes(r)}
              onChange={(e) =>
                setS({
                  ...s,
                  totp_required_roles: e.target.checked ? [...s.totp_required_roles, r] : s.totp_required_roles.filter((x) => x !== r),
                })
              }
            />
            {t(`role.${r}` as MessageKey)}
          </label>
        ))}
      </div>
      <button type="submit" className="btn btn-primary">
        {t('common.save')}
      </button>
    </form>
  );
}

const AUDIT_PAGE = 50;

function AuditTab() {
  const t = useT();
  const [rows, setRows] = useState<AuditEntry[]>([]);
  const [more, setMore] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const load = useCallback(async (before?: number) => {
    setBusy(true);
    try {
      const page = await api.audit(AUDIT_PAGE, before);
      setRows((r) => (before === undefined ? page : [...r, ...page]));
      setMore(page.length === AUDIT_PAGE);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }, []);
  useEffect(() => void load(), [load]);
  const json = (v: unknown) => (v === null || v === undefined || v === '' ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  return (
    <div className="tab-body">
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      <div className="card table-wrap">
        <table className="table audit" data-testid="audit">
          <thead>
            <tr>
              <th>{t('admin.when')}</th>
              <th>{t('admin.who')}</th>
              <th>{t('admin.action')}</th>
              <th>{t('admin.target')}</th>
              <th className="hide-sm">{t('admin.change')}</th>
              <th className="hide-md">{t('admin.remote')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-action={r.action}>
                <td className="ts">{formatFullTs(r.ts_ms)}</td>
                <td>{r.username ?? ''}</td>
                <td>
                  <span className="tag">{r.action}</span>
                </td>
                <td>{r.target ?? ''}</td>
                <td className="hide-sm mono small change">
                  {json(r.before) && <div className="before">− {json(r.before)}</div>}
                  {json(r.after) && <div className="after">+ {json(r.after)}</div>}
                </td>
                <td className="hide-md mono small">{r.remote ?? ''}</td>
              </tr>
            ))}
            {!busy && rows.length === 0 && (
              <tr>
                <td colSpan={6} className="center muted">
                  {t('admin.auditEmpty')}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {more && rows.length > 0 && (
        <button type="button" className="btn" disabled={busy} onClick={() => void load(rows[rows.length - 1].id)} data-testid="audit-more">
          {t('admin.loadMore')}
        </button>
      )}
    </div>
  );
}

