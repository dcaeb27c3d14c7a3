import { useState, type FormEvent } from 'react';
import { api, ApiError, type TotpEnrolment } from '../api';
import { useT } from '../i18n';

/**
 * Two-factor enrolment: a new secret as QR code and as text, confirmed with a code from the
 * authenticator app; then the recovery codes, shown once.
 */
export function TotpEnrol({ onDone, onCancel }: { onDone: () => void; onCancel?: () => void }) {
  const t = useT();
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function start() {
    setBusy(true);
    setError(null);
    try {
      setEnrolment(await api.totpEnrol());
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  async function confirm(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.totpConfirm(code.replace(/\s/g, ''));
      setCodes(r.recovery_codes);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setCode('');
    } finally {
      setBusy(false);
    }
  }

  if (codes) {
    return (
      <div className="totp" data-testid="recovery-codes">
        <div className="notice" role="status">
          {t('totp.enabled')}
        </div>
        <p>{t('totp.recoveryText')}</p>
        <ol className="recovery-codes mono">
          {codes.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ol>
        <button type="button" className="btn btn-primary" onClick={onDone} data-testid="recovery-done">
          {t('totp.recoveryDone')}
        </button>
      </div>
    );
  }

  if (!enrolment) {
    return (
      <div className="totp">
        {error && (
          <div className="alert" role="alert">
            {error}
          </div>
        )}
        <p>{t('totp.intro')}</p>
        <div className="row-gap">
          <button type="button" className="btn btn-primary" onClick={start} disabled={busy} data-testid="totp-start">
            {t('totp.start')}
          </button>
          {onCancel && (
            <button type="button" className="btn" onClick={onCancel}>
              {t('common.cancel')}
            </button>
          )}
        </div>
      </div>
    );
  }

  return (
    <form className="totp form" onSubmit={confirm}>
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      <p>{t('totp.scan')}</p>
      <div className="qr" aria-label={t('totp.qr')} dangerouslySetInnerHTML={{ __html: enrolment.qr_svg }} />
      <p className="small">
        {t('totp.secretText')}{' '}
        <code className="secret" data-testid="totp-secret">
          {enrolment.secret}
        </code>
      </p>
      <label className="field">
        <span>{t('totp.code')}</span>
        <input
          name="totp-code"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={6}
          value={code}
          onChange={(e) => setCode(e.target.value)}
          data-testid="totp-code"
        />
      </label>
      <div className="row-gap">
        <button type="submit" className="btn btn-primary" disabled={busy || code.replace(/\s/g, '').length !== 6} data-testid="totp-confirm">
          {t('totp.confirm')}
        </button>
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        )}
      </div>
    </form>
  );
}
