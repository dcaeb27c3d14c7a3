import { useState, type FormEvent } from 'react';
import { api, ApiError, type User } from '../api';
import { useT, type MessageKey } from '../i18n';
import { en } from '../i18n/en';

/** The sign-in form; a user with two-factor login is asked for the code in a second step. */
export function LoginPage({ onLogin, notice }: { onLogin: (u: User) => void; notice?: MessageKey | string }) {
  const t = useT();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<'password' | 'code'>('password');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(notice ? (notice in en ? t(notice as MessageKey) : notice) : null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const second = step === 'code' ? (useRecovery ? { recovery_code: code.trim() } : { totp: code.replace(/\s/g, '') }) : undefined;
      const user = await api.login(username.trim(), password, second);
      onLogin(user);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.reason === 'totp_required') {
        setStep('code');
        setCode('');
        return;
      }
      if (err instanceof ApiError && err.reason === 'totp_invalid') {
        setError(t('login.codeInvalid'));
        setCode('');
        return;
      }
      setError(err instanceof ApiError ? err.message : t('login.failed'));
      if (step === 'password') setPassword('');
    }
  }

  const back = () => {
    setStep('password');
    setCode('');
    setPassword('');
    setError(null);
  };

  return (
    <div className="login-wrap">
      <form className="card login-card" onSubmit={submit} noValidate data-testid="login-form" data-step={step}>
        <h1>{step === 'password' ? t('login.title') : t('login.codeTitle')}</h1>
        <p className="muted small">{step === 'password' ? t('login.tagline') : useRecovery ? t('login.recoveryHelp') : t('login.codeHelp')}</p>
        {error && (
          <div className="alert" role="alert" data-testid="login-error">
            {error}
          </div>
        )}
        {step === 'password' ? (
          <>
            <label className="field">
              <span>{t('login.username')}</span>
              <input
                name="username"
                autoComplete="username"
                autoFocus
                required
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            </label>
            <label className="field">
              <span>{t('login.password')}</span>
              <input
                name="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
          </>
        ) : (
          <>
            <label className="field">
              <span>{useRecovery ? t('login.recoveryCode') : t('login.code')}</span>
              <input
                name={useRecovery ? 'recovery_code' : 'totp'}
                autoComplete="one-time-code"
                inputMode={useRecovery ? 'text' : 'numeric'}
                pattern={useRecovery ? undefined : '[0-9]{6}'}
                maxLength={useRecovery ? 64 : 6}
                autoFocus
                required
                value={code}
                onChange={(e) => setCode(e.target.value)}
                data-testid="login-code"
              />
            </label>
            <button type="button" className="btn-link small" onClick={() => { setUseRecovery((r) => !r); setCode(''); }}>
              {useRecovery ? t('login.useTotp') : t('login.useRecovery')}
            </button>
          </>
        )}
        <button
          type="submit"
          className="btn btn-primary btn-block"
          disabled={busy || !username || !password || (step === 'code' && !code.trim())}
        >
          {busy ? t('login.busy') : step === 'password' ? t('login.submit') : t('login.verify')}
        </button>
        {step === 'code' && (
          <button type="button" className="btn btn-ghost-dark btn-block" onClick={back}>
            {t('common.back')}
          </button>
        )}
      </form>
    </div>
  );
}
