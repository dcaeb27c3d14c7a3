import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, onUnauthorized, type Meter, type User } from './api';
import { live, useLive, type ConnState } from './live';
import { navigate, useRoute } from './router';
import { LoginPage } from './pages/LoginPage';
import { MeterListPage } from './pages/MeterListPage';
import { MeterDetailPage } from './pages/MeterDetailPage';

type Auth = { status: 'loading' } | { status: 'anon'; message?: string } | { status: 'user'; user: User };

const METERS_REFRESH_MS = 60_000;

export function App() {
  const [auth, setAuth] = useState<Auth>({ status: 'loading' });

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
      setAuth((a) => (a.status === 'user' ? { status: 'anon', message: 'Your session has ended. Please sign in again.' } : a));
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
    navigate('/meters');
  }, []);

  return (
    <div className="app">
      <Header user={auth.status === 'user' ? auth.user : null} onLogout={logout} />
      <main className="main">
        {auth.status === 'loading' && <div className="center muted">Loading…</div>}
        {auth.status === 'anon' && <LoginPage onLogin={onLogin} notice={auth.message} />}
        {auth.status === 'user' && <Authed />}
      </main>
    </div>
  );
}

function Header({ user, onLogout }: { user: User | null; onLogout: () => void }) {
  return (
    <header className="topbar">
      <a className="brand" href={user ? '#/meters' : undefined}>
        <svg className="brand-icon" viewBox="0 0 16 16" aria-hidden="true">
          <path d="M9 1 3 9h4l-1 6 6-8H8z" />
        </svg>
        <span>Wattline</span>
      </a>
      {user && (
        <div className="topbar-right">
          <ConnIndicator />
          <span className="user" title={`Role: ${user.role}`}>
            {user.username}
            {user.tenant?.name ? <span className="tenant"> · {user.tenant.name}</span> : null}
          </span>
          <button type="button" className="btn btn-ghost" onClick={onLogout} data-testid="logout">
            Log out
          </button>
        </div>
      )}
    </header>
  );
}

const CONN_TEXT: Record<ConnState, string> = {
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

function ConnIndicator() {
  const { state } = useLive();
  const title =
    state === 'live'
      ? 'Receiving live values over WebSocket'
      : state === 'reconnecting'
        ? 'Live connection lost; polling every 2 s while reconnecting'
        : CONN_TEXT[state];
  return (
    <span className={`conn conn-${state}`} data-testid="conn" data-state={state} title={title} role="status">
      <span className="conn-dot" aria-hidden="true" />
      {CONN_TEXT[state]}
    </span>
  );
}

/** Everything behind the login: live data, the meter list, routing. */
function Authed() {
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
  }, [load]);

  const [p0, p1] = route.path;
  useEffect(() => {
    if (p0 !== 'meters') navigate('/meters', true);
  }, [p0]);

  if (p0 === 'meters' && p1 !== undefined) {
    const id = Number(p1);
    return <MeterDetailPage meterId={id} meters={meters} error={error} params={route.params} onRetry={load} />;
  }
  return <MeterListPage meters={meters} error={error} onRetry={load} />;
}
