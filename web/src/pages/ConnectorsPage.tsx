import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, hasRole, type Connector, type User } from '../api';
import { useT } from '../i18n';
import { formatAge, formatFullTs } from '../format';

/** The tenant's connectors, and the form that claims a new one by its code. */
export function ConnectorsPage({ user, onClaimed }: { user: User; onClaimed: () => void }) {
  const t = useT();
  const [list, setList] = useState<Connector[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [siteId, setSiteId] = useState('');
  const [claimed, setClaimed] = useState<Connector | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setList(await api.connectors());
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }, []);
  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), 10_000);
    return () => window.clearInterval(timer);
  }, [load]);

  const sites = new Map<number, string>();
  for (const c of list ?? []) if (c.site) sites.set(c.site.id, c.site.name);

  async function claim(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setClaimed(null);
    try {
      const c = await api.claim({
        code: code.trim(),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(siteId.trim() ? { site_id: Number(siteId) } : {}),
      });
      setClaimed(c);
      setCode('');
      setName('');
      await load();
      onClaimed();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="page" data-testid="connectors-page">
      <div className="page-head">
        <div>
          <h1>{t('connectors.title')}</h1>
          <p className="muted small">{t('connectors.subtitle')}</p>
        </div>
      </div>
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      {claimed && (
        <div className="notice" role="status" data-testid="claim-result">
          <div>{t('connectors.claimed', { name: claimed.name, site: claimed.site?.name ?? '' })}</div>
          {claimed.server_fingerprint && (
            <div className="small">
              {t('connectors.fingerprint')}{' '}
              <code className="mono fingerprint" data-testid="server-fingerprint">
                {claimed.server_fingerprint}
              </code>
            </div>
          )}
        </div>
      )}
      {hasRole(user, 'engineer') && (
        <form className="card pad form inline-form" onSubmit={claim} data-testid="claim-form">
          <h2>{t('connectors.claim')}</h2>
          <p className="muted small">{t('connectors.claimHelp')}</p>
          <label className="field">
            <span>{t('connectors.code')}</span>
            <input name="claim-code" placeholder="ABCD-EFGH" value={code} onChange={(e) => setCode(e.target.value.toUpperCase())} autoComplete="off" />
          </label>
          <label className="field">
            <span>{t('connectors.name')}</span>
            <input name="claim-name" value={name} onChange={(e) => setName(e.target.value)} placeholder={t('connectors.nameDefault')} />
          </label>
          <label className="field">
            <span>{t('connectors.site')}</span>
            <select name="claim-site" className="select" value={siteId} onChange={(e) => setSiteId(e.target.value)}>
              <option value="">{t('connectors.siteDefault')}</option>
              {[...sites].map(([id, n]) => (
                <option key={id} value={id}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="btn btn-primary" disabled={busy || code.replace(/[^A-Za-z0-9]/g, '').length !== 8} data-testid="claim-submit">
            {t('connectors.claimSubmit')}
          </button>
        </form>
      )}
      <div className="card table-wrap">
        <table className="table" data-testid="connectors">
          <thead>
            <tr>
              <th>{t('connectors.name')}</th>
              <th>{t('connectors.site')}</th>
              <th className="hide-sm">{t('connectors.claimedAt')}</th>
              <th>{t('connectors.lastSeen')}</th>
            </tr>
          </thead>
          <tbody>
            {list?.length === 0 && (
              <tr>
                <td colSpan={4} className="center muted">
                  {t('connectors.none')}
                </td>
              </tr>
            )}
            {list?.map((c) => (
              <tr key={c.id} data-connector={c.name}>
                <td>
                  {c.name}
                  {c.uuid ? <div className="sub mono">{c.uuid}</div> : <div className="sub">{t('connectors.fromConfig')}</div>}
                </td>
                <td>{c.site?.name ?? ''}</td>
                <td className="hide-sm">{c.claimed_at_ms ? formatFullTs(c.claimed_at_ms) : ''}</td>
                <td title={c.last_seen_ms ? formatFullTs(c.last_seen_ms) : undefined}>
                  {c.last_seen_ms ? formatAge(c.last_seen_ms) : t('common.never')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
