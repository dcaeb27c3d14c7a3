import { useCallback, useEffect, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { ApiError, call, formatTime, setUnauthorizedHandler } from './api';
import type { Diagnostics, Driver, FieldErrorDetail, FoundDevice, Me, Meter, Overview, ScanState, Settings } from './api';

type Page = 'overview' | 'scan' | 'meters' | 'drivers' | 'settings' | 'diagnostics';
const PAGES: [Page, string][] = [
  ['overview', 'Overview'],
  ['scan', 'Scan'],
  ['meters', 'Meters'],
  ['drivers', 'Drivers'],
  ['settings', 'Settings'],
  ['diagnostics', 'Diagnostics'],
];

function pageFromHash(): Page {
  const h = location.hash.replace(/^#\/?/, '');
  return (PAGES.find(([p]) => p === h)?.[0] ?? 'overview') as Page;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function Alert({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p className="alert" role="alert">
      {error}
    </p>
  );
}

/** Loads `path` and reloads it every `refreshMs` (0: once). */
function useData<T>(path: string, refreshMs = 0): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    call<T>('GET', path)
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((e) => setError(message(e)));
  }, [path]);
  useEffect(() => {
    reload();
    if (!refreshMs) return undefined;
    const t = setInterval(reload, refreshMs);
    return () => clearInterval(t);
  }, [reload, refreshMs]);
  return { data, error, reload };
}

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checked, setChecked] = useState(false);
  const [page, setPage] = useState<Page>(pageFromHash());

  useEffect(() => {
    setUnauthorizedHandler(() => setMe(null));
    call<Me>('GET', '/me', undefined, true)
      .then(setMe)
      .catch(() => setMe(null))
      .finally(() => setChecked(true));
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // The guided initial scan comes first until it was finished or skipped.
  useEffect(() => {
    if (!me || me.must_change_password) return;
    call<ScanState>('GET', '/scan')
      .then((s) => {
        if (s.available && !s.initial_scan_done) location.hash = '#/scan';
      })
      .catch(() => undefined);
  }, [me]);

  if (!checked) return null;
  if (!me) return <LoginPage onLogin={setMe} />;
  if (me.must_change_password) return <PasswordPage forced onDone={setMe} />;
  const logout = () => {
    call('POST', '/logout').finally(() => setMe(null));
  };
  return (
    <div className="shell">
      <header>
        <strong>Wattline connector</strong>
        <nav>
          {PAGES.map(([p, label]) => (
            <a key={p} href={`#/${p}`} data-page={p} className={p === page ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <button className="link" onClick={logout}>
          Log out
        </button>
      </header>
      <main>
        {page === 'overview' && <OverviewPage />}
        {page === 'scan' && <ScanPage />}
        {page === 'meters' && <MetersPage />}
        {page === 'drivers' && <DriversPage />}
        {page === 'settings' && <SettingsPage onPasswordChanged={setMe} />}
        {page === 'diagnostics' && <DiagnosticsPage />}
      </main>
    </div>
  );
}

function LoginPage({ onLogin }: { onLogin: (m: Me) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    call<Me>('POST', '/login', { username: f.get('username'), password: f.get('password') }, true)
      .then(onLogin)
      .catch((err) => setError(message(err)))
      .finally(() => setBusy(false));
  };
  return (
    <form className="card narrow" onSubmit={submit}>
      <h1>Wattline connector</h1>
      <p className="muted">Log in to set up this connector.</p>
      <label>
        User
        <input name="username" autoComplete="username" defaultValue="admin" required />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <Alert error={error} />
      <button type="submit" disabled={busy}>
        Log in
      </button>
    </form>
  );
}

function PasswordPage({ forced, onDone }: { forced: boolean; onDone: (m: Me) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    if (f.get('new_password') !== f.get('confirm_password')) {
      setError('The two new passwords differ.');
      return;
    }
    call<Me>('POST', '/password', { current_password: f.get('current_password'), new_password: f.get('new_password') })
      .then((m) => {
        setDone(true);
        setError(null);
        onDone(m);
      })
      .catch((err) => setError(message(err)));
  };
  return (
    <form className={forced ? 'card narrow' : 'card'} onSubmit={submit} data-testid="password-form">
      <h2>{forced ? 'Choose a new password' : 'Change password'}</h2>
      {forced && <p className="muted">The default password must be changed before the connector can be set up.</p>}
      <label>
        Current password
        <input name="current_password" type="password" autoComplete="current-password" required />
      </label>
      <label>
        New password (at least 10 characters)
        <input name="new_password" type="password" autoComplete="new-password" minLength={10} required />
      </label>
      <label>
        New password again
        <input name="confirm_password" type="password" autoComplete="new-password" minLength={10} required />
      </label>
      <Alert error={error} />
      {done && !forced && <p className="ok">Password changed.</p>}
      <button type="submit">Save password</button>
    </form>
  );
}

function OverviewPage() {
  const { data, error } = useData<Overview>('/overview', 3000);
  const scan = useData<ScanState>('/scan');
  return (
    <section>
      <h1>{data?.name ?? 'Connector'}</h1>
      <Alert error={error} />
      {data && (
        <dl className="card grid" data-testid="overview">
          <dt>Server connection</dt>
          <dd data-field="server-state" className={data.server.state === 'connected' ? 'ok' : data.server.state === 'error' ? 'bad' : ''}>
            {data.server.state}
            {data.server.last_error ? ` (${data.server.last_error})` : ''}
          </dd>
          <dt>Server</dt>
          <dd>{data.server.url || '-'}</dd>
          <dt>Last meter read</dt>
          <dd data-field="last-read">{formatTime(data.last_read_ms)}</dd>
          <dt>Last transmission</dt>
          <dd>{formatTime(data.last_transmission_ms)}</dd>
          <dt>Meters</dt>
          <dd>
            {data.meters.total} ({data.meters.ok} ok, {data.meters.error} with errors)
          </dd>
          <dt>Serial number</dt>
          <dd>{data.serial_number}</dd>
          <dt>Connector id</dt>
          <dd>{data.connector_id}</dd>
          <dt>Software version</dt>
          <dd>{data.version}</dd>
          <dt>Claim</dt>
          <dd data-field="claim">
            {data.claim.available
              ? `${data.claim.phase}${data.claim.claim_code ? `: code ${data.claim.claim_code}` : ''}${data.claim.fingerprint ? ` (server fingerprint ${data.claim.fingerprint})` : ''}`
              : 'not available yet'}
          </dd>
        </dl>
      )}
      <div className="card">
        <h2>Meter discovery</h2>
        <p className="muted" data-testid="scan">
          {!scan.data
            ? ''
            : !scan.data.available
              ? scan.data.message
              : scan.data.continuous
                ? 'Discovery runs continuously: a meter plugged in later appears within a minute.'
                : 'The initial scan has not been finished yet.'}{' '}
          {scan.data?.available && <a href="#/scan">Scan now</a>}
        </p>
      </div>
    </section>
  );
}

const DEVICE_STATES: Record<FoundDevice['state'], string> = {
  new: 'new',
  polled: 'already polled',
  ignored: 'ignored',
  'no-driver': 'no driver matches: add it by hand',
};

function ScanPage() {
  const [scan, setScan] = useState<ScanState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Set<string> | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const running = scan?.phase === 'querying' || scan?.phase === 'scanning';

  const load = useCallback(() => {
    call<ScanState>('GET', '/scan')
      .then((s) => {
        setScan(s);
        setError(null);
      })
      .catch((e) => setError(message(e)));
  }, []);
  useEffect(load, [load]);
  // Progress: poll quickly while a scan runs, slowly otherwise (continuous discovery events).
  useEffect(() => {
    const t = setInterval(load, running ? 500 : 5000);
    return () => clearInterval(t);
  }, [load, running]);
  // New results: tick every new meter that has a driver.
  useEffect(() => {
    if (scan?.phase === 'done' && chosen === null) {
      setChosen(new Set((scan.found ?? []).filter((d) => d.state === 'new').map((d) => d.endpoint)));
    }
  }, [scan, chosen]);

  const start = () => {
    setResult(null);
    setChosen(null);
    call<ScanState>('POST', '/scan', {})
      .then((s) => {
        setScan(s);
        setError(null);
      })
      .catch((e) => setError(message(e)));
  };
  const finish = (skip: boolean) => {
    const body = skip ? { skip: true } : { add: [...(chosen ?? [])] };
    call<{ added: string[]; ignored: string[] }>('POST', '/scan/finish', body)
      .then((r) => {
        setResult(
          skip
            ? 'Skipped. Add meters by hand on the Meters page; discovery keeps looking for new ones.'
            : `${r.added.length} meter(s) added${r.ignored.length ? `, ${r.ignored.length} ignored` : ''}.`,
        );
        setError(null);
        load();
      })
      .catch((e) => setError(message(e)));
  };
  const toggle = (endpoint: string) => {
    const next = new Set(chosen ?? []);
    if (next.has(endpoint)) next.delete(endpoint);
    else next.add(endpoint);
    setChosen(next);
  };

  if (!scan) return <Alert error={error} />;
  if (!scan.available) {
    return (
      <section>
        <h1>Scan for meters</h1>
        <p className="card muted">{scan.message}</p>
      </section>
    );
  }
  // In address order: 127.0.1.2 before 127.0.1.10.
  const ipKey = (d: FoundDevice) => d.host.split('.').reduce((n, o) => n * 256 + Number(o), 0) * 65536 * 256 + d.port * 256 + d.unit_id;
  const found = [...(scan.found ?? [])].sort((a, b) => ipKey(a) - ipKey(b));
  const initial = !scan.initial_scan_done;
  const pct = scan.total ? Math.round((100 * (scan.done ?? 0)) / scan.total) : 0;
  return (
    <section data-testid="scan-page">
      <h1>{initial ? 'First start: find the meters' : 'Scan for meters'}</h1>
      <Alert error={error} />
      {result && (
        <p className="ok" data-testid="scan-result">
          {result}
        </p>
      )}
      {(scan.phase === 'idle' || (scan.phase === 'done' && !initial && !running && chosen === null)) && (
        <div className="card" data-step="start">
          <h2>{initial ? 'Step 1 of 3: scan' : 'Scan now'}</h2>
          <p>The connector asks the network for Wattline devices, then tries every address below, a few per second so that the network is never flooded, and identifies each meter that answers through the installed drivers.</p>
          <ul>
            {(scan.targets ?? []).map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
          <p className="muted small">Meters behind a gateway (RS-485) cannot be found this way: add them by hand on the Meters page.</p>
          <div className="toolbar">
            <button onClick={start} data-action="start-scan">
              Start scan
            </button>
            {initial && (
              <button className="secondary" onClick={() => finish(true)} data-action="skip-scan">
                Skip, add meters by hand
              </button>
            )}
          </div>
        </div>
      )}
      {running && (
        <div className="card" data-step="progress">
          <h2>{initial ? 'Step 2 of 3: scanning' : 'Scanning'}</h2>
          <progress value={scan.done ?? 0} max={scan.total || 1} aria-label="scan progress" />
          <p data-testid="scan-progress">
            {scan.phase === 'querying'
              ? 'Asking the network for Wattline devices...'
              : `${scan.done} of ${scan.total} addresses tried (${pct} %)`}
          </p>
        </div>
      )}
      {scan.phase === 'done' && chosen !== null && !result && (
        <div className="card" data-step="finish">
          <h2>{initial ? 'Step 3 of 3: choose the meters' : 'Found devices'}</h2>
          {scan.error && <Alert error={`The scan stopped early: ${scan.error}`} />}
          <p>
            {found.length} device(s) found. Ticked meters are added and polled at once; meters you leave unticked are
            ignored by later scans (un-ignore them on the Meters page).
          </p>
          <div className="scroll">
            <table>
              <thead>
                <tr>
                  <th />
                  <th>Address</th>
                  <th>Unit</th>
                  <th>Device</th>
                  <th>Serial</th>
                  <th>Driver</th>
                  <th>Name</th>
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {found.map((d) => (
                  <tr key={d.endpoint} data-found={d.endpoint}>
                    <td>
                      {d.state === 'new' && (
                        <input type="checkbox" aria-label={`add ${d.endpoint}`} checked={chosen.has(d.endpoint)} onChange={() => toggle(d.endpoint)} />
                      )}
                    </td>
                    <td>{`${d.host}:${d.port}`}</td>
                    <td>{d.unit_id}</td>
                    <td>{d.identity}</td>
                    <td>{d.serial || '-'}</td>
                    <td>{d.profile ?? '-'}</td>
                    <td>{d.state === 'new' ? d.key : ''}</td>
                    <td className={d.state === 'no-driver' ? 'bad' : 'muted'}>{DEVICE_STATES[d.state]}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="toolbar">
            <button onClick={() => finish(false)} data-action="finish-scan">
              Finish: add {chosen.size} meter(s)
            </button>
            <button className="secondary" onClick={start}>
              Scan again
            </button>
          </div>
        </div>
      )}
      {!initial && (
        <div className="card">
          <h2>Continuous discovery</h2>
          <p className="muted">
            {scan.continuous ? 'On: a meter plugged in later appears within a minute and is polled at once.' : 'Off.'}
          </p>
          {!!scan.events?.length && (
            <ul data-testid="discovery-events">
              {[...scan.events].reverse().map((e) => (
                <li key={`${e.ms}-${e.endpoint}`}>
                  {formatTime(e.ms)}: {e.endpoint} {e.event}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}

const CONNECTION_NAMES: Record<string, string> = { tcp: 'Modbus TCP', gateway: 'Behind a gateway', serial: 'Serial (RS-485)' };

function MetersPage() {
  const { data, error, reload } = useData<{ meters: Meter[]; ignored: string[] }>('/meters', 3000);
  const drivers = useData<Driver[]>('/drivers');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState<Meter | 'new' | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const remove = (ignore: boolean) => {
    const keys = [...selected];
    if (!keys.length) return;
    if (!window.confirm(`Remove ${keys.join(', ')}${ignore ? ' and ignore them in scans' : ''}?`)) return;
    call('POST', '/meters/remove', { keys, ignore })
      .then(() => {
        setSelected(new Set());
        setActionError(null);
        reload();
      })
      .catch((e) => setActionError(message(e)));
  };
  const unignore = (endpoint: string) => {
    call('POST', '/meters/unignore', { endpoints: [endpoint] }).then(reload).catch((e) => setActionError(message(e)));
  };

  const meters = data?.meters ?? [];
  const groups: [string, Meter[]][] = [];
  for (const brand of [true, false]) {
    for (const conn of ['tcp', 'gateway', 'serial']) {
      const list = meters.filter((m) => m.own_brand === brand && m.connection === conn);
      if (list.length) groups.push([`${brand ? 'Wattline' : 'Third-party'} · ${CONNECTION_NAMES[conn]}`, list]);
    }
  }
  const toggle = (key: string) => {
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setSelected(next);
  };

  return (
    <section>
      <h1>Meters</h1>
      <Alert error={error ?? actionError} />
      <div className="toolbar">
        <button onClick={() => setEditing('new')} data-action="add-meter">
          Add meter
        </button>
        <button className="secondary" disabled={!selected.size} onClick={() => remove(false)} data-action="remove">
          Remove selected
        </button>
        <button className="secondary" disabled={!selected.size} onClick={() => remove(true)} data-action="remove-ignore">
          Remove and ignore
        </button>
      </div>
      {editing && (
        <MeterForm
          meter={editing === 'new' ? null : editing}
          drivers={drivers.data ?? []}
          onClose={(changed) => {
            setEditing(null);
            if (changed) reload();
          }}
        />
      )}
      {!meters.length && data && <p className="muted">No meters yet. Add one by hand.</p>}
      {groups.map(([title, list]) => (
        <div key={title} className="card">
          <h2>{title}</h2>
          <div className="scroll">
            <table>
              <thead>
                <tr>
                  <th />
                  <th>Name</th>
                  <th>State</th>
                  <th>Response</th>
                  <th>Type</th>
                  <th>Address</th>
                  <th>Unit</th>
                  <th>Serial</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((m) => (
                  <tr key={m.key} data-meter={m.key}>
                    <td>
                      {!m.read_only && (
                        <input type="checkbox" aria-label={`select ${m.key}`} checked={selected.has(m.key)} onChange={() => toggle(m.key)} />
                      )}
                    </td>
                    <td>{m.key}</td>
                    <td data-col="state" className={m.status.state === 'ok' ? 'ok' : m.status.state === 'error' ? 'bad' : 'muted'}>
                      {m.status.state === 'error' ? `error: ${m.status.error}` : m.status.state}
                    </td>
                    <td data-col="response">
                      {m.status.response_time_ms !== undefined && m.status.response_time_ms >= 0 ? `${m.status.response_time_ms} ms` : '-'}
                    </td>
                    <td title={m.profile}>{m.type}</td>
                    <td>{m.transport === 'serial' ? m.serial_port : `${m.host}:${m.port}`}</td>
                    <td>{m.unit_id}</td>
                    <td data-col="serial">{m.serial ?? '-'}</td>
                    <td>
                      {m.read_only ? (
                        <span className="muted small">from config</span>
                      ) : (
                        <button className="link" onClick={() => setEditing(m)}>
                          Edit
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
      {!!data?.ignored.length && (
        <div className="card">
          <h2>Ignored by scans</h2>
          <ul>
            {data.ignored.map((e) => (
              <li key={e}>
                {e}{' '}
                <button className="link" onClick={() => unignore(e)}>
                  stop ignoring
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function MeterForm({ meter, drivers, onClose }: { meter: Meter | null; drivers: Driver[]; onClose: (changed: boolean) => void }) {
  const [transport, setTransport] = useState<string>(meter?.transport ?? 'tcp');
  const [error, setError] = useState<ApiError | null>(null);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const num = (k: string) => {
      const v = String(f.get(k) ?? '').trim();
      return v === '' ? undefined : Number(v);
    };
    const body: Record<string, unknown> = {
      key: f.get('key'),
      profile: f.get('profile'),
      transport,
      unit_id: num('unit_id'),
      cycle_ms: num('cycle_ms'),
    };
    if (transport === 'serial') body.serial_port = f.get('serial_port');
    else {
      body.host = f.get('host');
      body.port = num('port');
    }
    if (transport !== 'tcp') {
      body.baud = num('baud');
      body.parity = f.get('parity');
      body.stop_bits = num('stop_bits');
    }
    const req = meter ? call('PUT', `/meters/${encodeURIComponent(meter.key)}`, body) : call('POST', '/meters', body);
    req.then(() => onClose(true)).catch((err) => setError(err instanceof ApiError ? err : new ApiError(0, 'unknown', message(err))));
  };
  const bad = (field: string) => (error?.field === field ? 'invalid' : '');
  return (
    <form className="card" onSubmit={submit} data-testid="meter-form">
      <h2>{meter ? `Edit ${meter.key}` : 'Add a meter'}</h2>
      <div className="fields">
        <label>
          Name
          <input name="key" defaultValue={meter?.key ?? ''} required className={bad('key')} />
        </label>
        <label>
          Driver
          <select name="profile" defaultValue={meter?.profile ?? ''} required className={bad('profile')}>
            <option value="">choose…</option>
            {drivers.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({d.id})
              </option>
            ))}
          </select>
        </label>
        <label>
          Connection
          <select name="transport" value={transport} onChange={(e) => setTransport(e.target.value)}>
            <option value="tcp">Modbus TCP (meter or gateway)</option>
            <option value="rtu-over-tcp">RTU over TCP (transparent gateway)</option>
            <option value="serial">Serial RS-485</option>
          </select>
        </label>
        {transport === 'serial' ? (
          <label>
            Serial port
            <input name="serial_port" defaultValue={meter?.serial_port ?? '/dev/ttyUSB0'} className={bad('serial_port')} />
          </label>
        ) : (
          <>
            <label>
              IP address (meter or gateway)
              <input name="host" defaultValue={meter?.host ?? ''} required className={bad('host')} />
            </label>
            <label>
              Port
              <input name="port" inputMode="numeric" defaultValue={meter?.port ?? 502} className={bad('port')} />
            </label>
          </>
        )}
        <label>
          Modbus unit id
          <input name="unit_id" inputMode="numeric" defaultValue={meter?.unit_id ?? 1} className={bad('unit_id')} />
        </label>
        {transport !== 'tcp' && (
          <>
            <label>
              Baud
              <input name="baud" inputMode="numeric" defaultValue={meter?.baud ?? 9600} className={bad('baud')} />
            </label>
            <label>
              Parity
              <select name="parity" defaultValue={meter?.parity ?? 'E'}>
                <option value="N">none</option>
                <option value="E">even</option>
                <option value="O">odd</option>
              </select>
            </label>
            <label>
              Stop bits
              <select name="stop_bits" defaultValue={String(meter?.stop_bits ?? 1)}>
                <option value="1">1</option>
                <option value="2">2</option>
              </select>
            </label>
          </>
        )}
        <label>
          Poll cycle (ms)
          <input name="cycle_ms" inputMode="numeric" defaultValue={meter?.cycle_ms ?? 1000} className={bad('cycle_ms')} />
        </label>
      </div>
      <Alert error={error?.message ?? null} />
      <div className="toolbar">
        <button type="submit">{meter ? 'Save' : 'Add'}</button>
        <button type="button" className="secondary" onClick={() => onClose(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DriversPage() {
  const { data, error, reload } = useData<Driver[]>('/drivers');
  const [uploadError, setUploadError] = useState<string | null>(null);
  const [details, setDetails] = useState<FieldErrorDetail[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const upload = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const file = f.get('xml');
    setNotice(null);
    if (!(file instanceof File) || !file.size) {
      setUploadError('Choose a driver file (.xml).');
      return;
    }
    try {
      const xml = await file.text();
      await call('POST', '/drivers', { type: f.get('type'), xml });
      setUploadError(null);
      setDetails([]);
      setNotice(`Driver ${String(f.get('type'))} added.`);
      form.reset();
      reload();
    } catch (err) {
      setUploadError(message(err));
      setDetails(err instanceof ApiError ? err.details : []);
    }
  };
  const remove = (d: Driver) => {
    if (!window.confirm(`Delete driver ${d.id}?`)) return;
    call('DELETE', `/drivers/${encodeURIComponent(d.id)}`)
      .then(() => {
        setUploadError(null);
        setNotice(`Driver ${d.id} deleted.`);
        reload();
      })
      .catch((err) => setUploadError(message(err)));
  };
  return (
    <section>
      <h1>Drivers</h1>
      <form className="card" onSubmit={upload} data-testid="driver-upload">
        <h2>Upload a driver</h2>
        <div className="fields">
          <label>
            Type name
            <input name="type" placeholder="acme-em100" required />
          </label>
          <label>
            Driver file (XML)
            <input name="xml" type="file" accept=".xml,text/xml,application/xml" />
          </label>
        </div>
        <Alert error={uploadError} />
        {!!details.length && (
          <ul className="errors" data-testid="driver-errors">
            {details.map((d, i) => (
              <li key={i} data-line={d.line ?? ''}>
                {d.line !== null ? `Line ${d.line}: ` : ''}
                {d.message}
              </li>
            ))}
          </ul>
        )}
        {notice && <p className="ok">{notice}</p>}
        <button type="submit">Upload</button>
      </form>
      <Alert error={error} />
      <div className="card scroll">
        <table>
          <thead>
            <tr>
              <th>Type</th>
              <th>Meter model</th>
              <th>Signals</th>
              <th>Origin</th>
              <th>Used by</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(data ?? []).map((d) => (
              <tr key={d.id} data-driver={d.id}>
                <td>{d.id}</td>
                <td>{d.name}</td>
                <td>{d.signals}</td>
                <td>{d.bundled ? 'bundled' : 'uploaded'}</td>
                <td>{d.used_by.join(', ') || '-'}</td>
                <td>
                  {!d.bundled && (
                    <button className="link" onClick={() => remove(d)} data-action="delete-driver">
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function SettingsPage({ onPasswordChanged }: { onPasswordChanged: (m: Me) => void }) {
  const { data, error, reload } = useData<Settings>('/settings');
  const [saveError, setSaveError] = useState<string | null>(null);
  const [netError, setNetError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  if (!data) return <Alert error={error} />;
  const save = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    call('PUT', '/settings', { name: f.get('name'), time_sync: { enabled: f.get('time_sync') === 'on', time: f.get('time') } })
      .then(() => {
        setSaved(true);
        setSaveError(null);
        reload();
      })
      .catch((err) => setSaveError(message(err)));
  };
  const saveNetwork = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    call('PUT', '/settings/network', { mode: f.get('mode'), address: f.get('address'), gateway: f.get('gateway'), dns: f.get('dns') })
      .then(() => {
        setNetError(null);
        reload();
      })
      .catch((err) => setNetError(message(err)));
  };
  const net = data.network;
  return (
    <section>
      <h1>Settings</h1>
      <form className="card" onSubmit={save}>
        <h2>Connector</h2>
        <div className="fields">
          <label>
            Name
            <input name="name" defaultValue={data.name} placeholder={data.connector_id} maxLength={64} />
          </label>
          <label className="check">
            <input name="time_sync" type="checkbox" defaultChecked={data.time_sync.enabled} /> Synchronize meter clocks daily
          </label>
          <label>
            at (UTC)
            <input name="time" defaultValue={data.time_sync.time} pattern="[0-2][0-9]:[0-5][0-9]" />
          </label>
        </div>
        <Alert error={saveError} />
        {saved && <p className="ok">Saved.</p>}
        <button type="submit">Save</button>
      </form>
      <form className="card" onSubmit={saveNetwork} data-testid="network">
        <h2>Network</h2>
        {!net.editable && (
          <p className="muted" data-testid="network-reason">
            Read-only: {net.reason}
          </p>
        )}
        <fieldset disabled={!net.editable}>
          <div className="fields">
            <label>
              Mode
              <select name="mode" defaultValue={net.mode === 'static' ? 'static' : 'dhcp'}>
                <option value="dhcp">DHCP</option>
                <option value="static">Static</option>
              </select>
            </label>
            <label>
              Address/prefix
              <input name="address" defaultValue={net.address ?? ''} placeholder="192.168.1.20/24" />
            </label>
            <label>
              Gateway
              <input name="gateway" defaultValue={net.gateway ?? ''} />
            </label>
            <label>
              DNS
              <input name="dns" defaultValue={net.dns ?? ''} />
            </label>
          </div>
          <Alert error={netError} />
          <button type="submit">Apply network settings</button>
        </fieldset>
      </form>
      <PasswordPage forced={false} onDone={onPasswordChanged} />
    </section>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function DiagnosticsPage() {
  const { data, error } = useData<Diagnostics>('/diagnostics', 3000);
  const u = data?.uplink;
  return (
    <section>
      <h1>Diagnostics</h1>
      <Alert error={error} />
      {u && (
        <dl className="card grid" data-testid="uplink">
          <Row label="Server">{u.server_url || '-'}</Row>
          <Row label="Last error">{u.last_error || 'none'}</Row>
          <Row label="Last transmission">{formatTime(u.last_success_ms)}</Row>
          <Row label="Batches sent / failures">
            {u.batches_sent} / {u.failures}
          </Row>
          <Row label="Queue depth">{u.queue_pending} readings</Row>
          <Row label="Oldest unsent reading">{formatTime(u.oldest_unsent_ms)}</Row>
          <Row label="Queue on disk">{(u.queue_disk_bytes / 1e6).toFixed(1)} MB</Row>
          <Row label="Lost to the disk budget">{u.queue_evicted}</Row>
        </dl>
      )}
      <div className="card scroll">
        <table>
          <thead>
            <tr>
              <th>Meter</th>
              <th>Last error</th>
              <th>Response</th>
              <th>Requests</th>
              <th>Errors</th>
              <th>Last read</th>
              <th>Clock drift</th>
              <th>Last clock sync</th>
            </tr>
          </thead>
          <tbody>
            {(data?.meters ?? []).map((m) => (
              <tr key={m.key} data-diag={m.key}>
                <td>{m.key}</td>
                <td className={m.last_error ? 'bad' : ''}>{m.last_error ?? 'none'}</td>
                <td>{m.response_time_ms >= 0 ? `${m.response_time_ms} ms` : '-'}</td>
                <td>{m.requests}</td>
                <td>{m.errors}</td>
                <td>{formatTime(m.last_read_ms)}</td>
                <td data-col="clock" className={m.clock.error ? 'bad' : ''}>
                  {m.clock.error ?? (m.clock.known && m.clock.drift_ms !== null ? `${(m.clock.drift_ms / 1000).toFixed(1)} s` : '-')}
                </td>
                <td>{formatTime(m.clock.last_sync_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
