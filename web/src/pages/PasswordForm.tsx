import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';

/** Change one's own password: the current one, the new one twice. */
export function PasswordForm({ onDone }: { onDone: () => void }) {
  const t = useT();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (next !== repeat) {
      setError(t('password.mismatch'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.changePassword(current, next);
      setDone(true);
      setCurrent('');
      setNext('');
      setRepeat('');
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit} data-testid="password-form">
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      {done && !error && (
        <div className="notice" role="status">
          {t('password.changed')}
        </div>
      )}
      <label className="field">
        <span>{t('password.current')}</span>
        <input name="current-password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
      </label>
      <label className="field">
        <span>{t('password.new')}</span>
        <input name="new-password" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required />
      </label>
      <label className="field">
        <span>{t('password.repeat')}</span>
        <input name="repeat-password" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required />
      </label>
      <button type="submit" className="btn btn-primary" disabled={busy || !current || !next || !repeat} data-testid="password-submit">
        {t('password.submit')}
      </button>
    </form>
  );
}
