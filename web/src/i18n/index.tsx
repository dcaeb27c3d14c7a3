// Message catalogs and locale: t(key, params) from the chosen catalog, and the locale that
// number and date formatting follow (format.ts). The locale is the user's preference from /me,
// else the browser's language (de* -> German, anything else -> English).

import { createContext, useContext, type ReactNode } from 'react';
import { en, type MessageKey } from './en';
import { de } from './de';

export type Locale = 'en' | 'de';
export type { MessageKey };

const CATALOGS: Record<Locale, Record<MessageKey, string>> = { en, de };

export function browserLocale(): Locale {
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  return (langs[0] ?? 'en').toLowerCase().startsWith('de') ? 'de' : 'en';
}

/** The preference "" (follow the browser), "en" or "de" resolved to a locale. */
export function resolveLocale(pref: string | null | undefined): Locale {
  return pref === 'de' || pref === 'en' ? pref : browserLocale();
}

let current: Locale = browserLocale();

/** The locale formatting follows; set by the provider before its children render. */
export function currentLocale(): Locale {
  return current;
}

export type Params = Record<string, string | number>;
export type T = (key: MessageKey, params?: Params) => string;

export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  const text = CATALOGS[locale][key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

interface I18n {
  locale: Locale;
  t: T;
}

const Ctx = createContext<I18n>({ locale: current, t: (k, p) => translate(current, k, p) });

/** Everything below renders in `locale`; re-keyed by the caller so a switch re-renders all. */
export function I18nProvider({ locale, children }: { locale: Locale; children: ReactNode }) {
  current = locale;
  document.documentElement.lang = locale;
  return <Ctx.Provider value={{ locale, t: (k, p) => translate(locale, k, p) }}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  return useContext(Ctx);
}

export function useT(): T {
  return useContext(Ctx).t;
}
