import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, hasRole, onForcedStep, onUnauthorized, type Meter, type User } from './api';
import { I18nProvider, resolveLocale, useT, type MessageKey } from './i18n';
import { live, useLive, type ConnState } from './live';
import { navigate, useRoute } from './router';
import { LoginPage } from './pages/LoginPage';
import { MeterListPage } from './pages/MeterListPage';
import { MeterDetailPage } from './pages/MeterDetailPage';
import { PasswordForm } from './pages/PasswordForm';
import { TotpEnrol } from './pages/TotpEnrol';
import { AccountPage } from './pages/AccountPage';
import { AdminPage } from './pages/AdminPage';
import { ConnectorsPage } from './pages/ConnectorsPage';
import { DashboardsPage } from './pages/DashboardsPage';
import { TrendsPage } from './pages/TrendsPage';
import { SiteTreePage } from './pages/SiteTreePage';

type Auth = { status: 'loading' } | { status: 'anon'; message?: MessageKey | string } | { status: 'user'; user: User };

const METERS_REFRESH_MS = 60_000;
const HOME = '/dashboards';
const TOP_ROUTES = ['dashboards', 'meters', 'tree', 'trends', 'connectors', 'admin', 'account'];

export function App() {
  const [auth, setAuth] = useState<Auth>({ status: 'loading' });
  const locale = resolveLocale(auth.status === 'user' ? auth.user.locale : '');

  useEffect(() => {
    let cancelled = false;
    api
      .me()
      .then((user) => !cancelled && setAuth({ status: 'user', user }))
      .catch((e: unknown) => {
        if (cancelled) return;
        const message = e instanceof ApiError && e.status !== 401 ? e.message : undefined;
        setAuth({ status: 'anon', message });
      });
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(() => {
    onUnauthorized(() => {
      live.stop();
      setAuth((a) => (a.status === 'user' ? { status: 'anon', message: 'login.sessionEnded' } : a));
    });
    return () => onUnauthorized(null);
  }, []);

  const logout = useCallback(async () => {
    live.stop();
    try {
      await api.logout();
    } catch {
      /* the session is gone either way */
    }
    setAuth({ status: 'anon' });
  }, []);

  const onLogin = useCallback((user: User) => {
    setAuth({ status: 'user', user });
    // A bookmarked page opens after the login; anything else goes to the home page.
    const top = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
    if (!TOP_ROUTES.includes(top)) navigate(HOME);
  }, []);

  const setUser = useCallback((user: User) => setAuth({ status: 'user', user }), []);
  const refreshMe = useCallback(async () => {
    try {
      setUser(await api.me());
    } catch {
      /* 401 is handled globally */
    }
  }, [setUser]);

  // A password that expired during the session: /me tells which step comes first.
  useEffect(() => {
    onForcedStep(() => void refreshMe());
    return () => onForcedStep(null);
  }, [refreshMe]);

  return (
    <I18nProvider locale={locale} key={locale}>
      <div className="app">
        <Header user={auth.status === 'user' ? auth.user : null} onLogout={logout} onUser={setUser} />
        <main className="main">
          {auth.status === 'loading' && <Loading />}
          {auth.status === 'anon' && <LoginPage onLogin={onLogin} notice={auth.message} />}
          {auth.status === 'user' && auth.user.must_change_password && (
            <ForcedStep title="forced.passwordTitle" text="forced.passwordText">
              <PasswordForm onDone={refreshMe} />
            </ForcedStep>
          )}
          {auth.status === 'user' && !auth.user.must_change_password && auth.user.must_enrol_totp && (
            <ForcedStep title="forced.totpTitle" text="forced.totpText">
              <TotpEnrol onDone={refreshMe} />
            </ForcedStep>
          )}
          {auth.status === 'user' && !auth.user.must_change_password && !auth.user.must_enrol_totp && (
            <Authed key={auth.user.tenant?.id ?? 0} user={auth.user} onUser={setUser} />
          )}
        </main>
      </div>
    </I18nProvider>
  );
}

function Loading() {
  const t = useT();
  return <div className="center muted">{t('common.loading')}</div>;
}

function ForcedStep({ title, text, children }: { title: MessageKey; text: MessageKey; children: React.ReactNode }) {
  const t = useT();
  return (
    <div className="login-wrap">
      <div className="card login-card wide" data-testid="forced-step">
        <h1>{t(title)}</h1>
        <p className="muted small">{t(text)}</p>
        {children}
      </div>
    </div>
  );
}

interface NavItem {
  route: string;
  label: MessageKey;
}

function navItems(user: User): NavItem[] {
  const items: NavItem[] = [
    { route: 'dashboards', label: 'nav.dashboards' },
    { route: 'meters', label: 'nav.meters' },
    { route: 'tree', label: 'nav.tree' },
    { route: 'trends', label: 'nav.trends' },
    { route: 'connectors', label: 'nav.connectors' },
  ];
  if (hasRole(user, 'administrator')) items.push({ route: 'admin', label: 'nav.admin' });
  items.push({ route: 'account', label: 'nav.account' });
  return items;
}

function Header({ user, onLogout, onUser }: { user: User | null; onLogout: () => void; onUser: (u: User) => void }) {
  const t = useT();
  const route = useRoute();
  const [open, setOpen] = useState(false);
  const ready = user && !user.must_change_password && !user.must_enrol_totp;
  useEffect(() => setOpen(false), [route.path[0]]);
  return (
    <header className={`topbar${open ? ' open' : ''}`}>
      <a className="brand" href={ready ? `#${HOME}` : undefined}>
        <svg className="brand-icon" viewBox="0 0 16 16" aria-hidden="true">
          <path d="M9 1 3 9h4l-1 6 6-8H8z" />
        </svg>
        <span>Wattline</span>
      </a>
      {ready && (
        <>
          <button
            type="button"
            className="nav-toggle"
            aria-label={t('nav.menu')}
            aria-expanded={open}
            data-testid="nav-toggle"
            onClick={() => setOpen((o) => !o)}
          >
            <span />
            <span />
            <span />
          </button>
          <nav className="nav" aria-label={t('nav.main')}>
            {navItems(user).map((n) => (
              <a
                key={n.route}
                href={`#/${n.route}`}
                className={(route.path[0] ?? 'dashboards') === n.route ? 'active' : undefined}
                data-testid={`nav-${n.route}`}
              >
                {t(n.label)}
              </a>
            ))}
          </nav>
        </>
      )}
      {user && (
        <div className="topbar-right">
          {ready && <ConnIndicator />}
          {ready && user.system && <TenantSwitch user={user} onUser={onUser} />}
          <span className="user" title={t('header.role', { role: t(`role.${user.role}` as MessageKey) })} data-testid="whoami">
            {user.username}
            {user.tenant?.name && !user.system ? <span className="tenant"> · {user.tenant.name}</span> : null}
          </span>
          <button type="button" className="btn btn-ghost" onClick={onLogout} data-testid="logout">
            {t('header.logout')}
          </button>
        </div>
      )}
    </header>
  );
}

/** A system administrator acts in one tenant at a time. */
function TenantSwitch({ user, onUser }: { user: User; onUser: (u: User) => void }) {
  const t = useT();
  const [tenants, setTenants] = useState<{ id: number; name: string }[] | null>(null);
  const load = () => {
    api.tenants().then(setTenants, () => setTenants([]));
  };
  useEffect(load, []);
  useEffect(() => {
    const on = () => load();
    window.addEventListener('wattline:tenants', on);
    return () => window.removeEventListener('wattline:tenants', on);
  }, []);
  return (
    <select
      className="select tenant-switch"
      aria-label={t('header.tenant')}
      data-testid="tenant-switch"
      value={user.tenant?.id ?? ''}
      onFocus={load}
      onChange={async (e) => {
        try {
          onUser(await api.switchTenant(Number(e.target.value)));
        } catch (err) {
          alert(err instanceof Error ? err.message : String(err));
        }
      }}
    >
      {(tenants ?? (user.tenant ? [user.tenant] : [])).map((tn) => (
        <option key={tn.id} value={tn.id}>
          {tn.name}
        </option>
      ))}
    </select>
  );
}

const CONN_TEXT: Record<ConnState, MessageKey> = {
  live: 'conn.live',
  connecting: 'conn.connecting',
  reconnecting: 'conn.reconnecting',
  offline: 'conn.offline',
};

function ConnIndicator() {
  const t = useT();
  const { state } = useLive();
  const title = state === 'live' ? t('conn.liveTitle') : state === 'reconnecting' ? t('conn.reconnectingTitle') : t(CONN_TEXT[state]);
  return (
    <span className={`conn conn-${state}`} data-testid="conn" data-state={state} title={title} role="status">
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-text">{t(CONN_TEXT[state])}</span>
    </span>
  );
}

/** Everything behind the login: live data, the meter list, routing. */
function Authed({ user, onUser }: { user: User; onUser: (u: User) => void }) {
  const route = useRoute();
  const [meters, setMeters] = useState<Meter[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadSeq = useRef(0);

  const load = useCallback(async () => {
    const seq = ++loadSeq.current;
    try {
      const m = await api.meters();
      if (seq !== loadSeq.current) return;
      m.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
      setMeters(m);
      setError(null);
    } catch (e) {
      if (seq !== loadSeq.current) return;
      if (e instanceof ApiError && e.status === 401) return;
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    live.start();
    void load();
    const t = window.setInterval(() => void load(), METERS_REFRESH_MS);
    return () => {
      window.clearInterval(t);
      live.stop();
    };
    // A tenant switch starts over with the other tenant's meters and values.
  }, [load, user.tenant?.id]);

  const [p0, p1] = route.path;
  useEffect(() => {
    if (!p0 || !TOP_ROUTES.includes(p0)) navigate(HOME, true);
  }, [p0]);

  switch (p0) {
    case 'meters':
      if (p1 !== undefined) {
        return <MeterDetailPage meterId={Number(p1)} meters={meters} error={error} params={route.params} onRetry={load} />;
      }
      return <MeterListPage meters={meters} error={error} onRetry={load} />;
    case 'tree':
      return <SiteTreePage user={user} meters={meters} />;
    case 'trends':
      return <TrendsPage meters={meters} params={route.params} />;
    case 'connectors':
      return <ConnectorsPage user={user} onClaimed={load} />;
    case 'admin':
      return <AdminPage user={user} tab={p1} />;
    case 'account':
      return <AccountPage user={user} onUser={onUser} />;
    default:
      return <DashboardsPage user={user} meters={meters} dashboardId={p1 !== undefined ? Number(p1) : undefined} params={route.params} />;
  }
}
