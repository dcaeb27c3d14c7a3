import { useState, type FormEvent } from 'react';
import { api, ApiError, type User } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import { formatFullTs } from '../format';
import { PasswordForm } from './PasswordForm';
import { TotpEnrol } from './TotpEnrol';

/** One's own account: language, password, two-factor login. */
export function AccountPage({ user, onUser }: { user: User; onUser: (u: User) => void }) {
  const { t } = useI18n();
  const [enrolling, setEnrolling] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function setLocale(locale: '' | 'en' | 'de') {
    setError(null);
    try {
      onUser(await api.setPreferences(locale));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }

  const refresh = async () => {
    try {
      onUser(await api.me());
    } catch {
      /* 401 handled globally */
    }
  };

  return (
    <section className="page narrow" data-testid="account-page">
      <div className="page-head">
        <div>
          <h1>{t('account.title')}</h1>
          <p className="muted small">
            {user.username} · {t(`role.${user.role}` as MessageKey)}
            {user.tenant?.name ? ` · ${user.tenant.name}` : ''}
          </p>
        </div>
      </div>
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}

      <div className="card pad section">
        <h2>{t('account.language')}</h2>
        <label className="field inline">
          <span>{t('account.languageLabel')}</span>
          <select
            className="select"
            value={user.locale ?? ''}
            onChange={(e) => void setLocale(e.target.value as '' | 'en' | 'de')}
            data-testid="locale-select"
          >
            <option value="">{t('account.languageBrowser')}</option>
            <option value="en">English</option>
            <option value="de">Deutsch</option>
          </select>
        </label>
      </div>

      <div className="card pad section">
        <h2>{t('account.password')}</h2>
        {user.password_expires_ms ? (
          <p className="muted small">{t('account.passwordExpires', { date: formatFullTs(user.password_expires_ms) })}</p>
        ) : null}
        <PasswordForm onDone={refresh} />
      </div>

      <div className="card pad section" data-testid="totp-section" data-enabled={user.totp_enabled ? 'true' : 'false'}>
        <h2>{t('account.totp')}</h2>
        {user.totp_enabled && !enrolling ? (
          <TotpDisable onDone={refresh} />
        ) : enrolling ? (
          <TotpEnrol
            onDone={() => {
              setEnrolling(false);
              void refresh();
            }}
            onCancel={() => setEnrolling(false)}
          />
        ) : (
          <>
            <p>{t('account.totpOff')}</p>
            <button type="button" className="btn btn-primary" onClick={() => setEnrolling(true)} data-testid="totp-enrol">
              {t('account.totpEnrol')}
            </button>
          </>
        )}
      </div>
    </section>
  );
}

function TotpDisable({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.totpDisable(password);
      setPassword('');
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="form" onSubmit={submit}>
      <p>{t('account.totpOn')}</p>
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      <label className="field">
        <span>{t('account.totpDisablePassword')}</span>
        <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-danger" disabled={busy || !password} data-testid="totp-disable">
        {t('account.totpDisable')}
      </button>
    </form>
  );
}
