// Minimal hash router: #/meters, #/meters/<id>?signal=<name>&range=<1h|24h>

import { useEffect, useState } from 'react';

export interface Route {
  path: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const [p, q = ''] = h.split('?', 2);
  const path = p.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  return { path, params: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(() => location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseHash(hash);
}

export function navigate(to: string, replace = false): void {
  const target = to.startsWith('#') ? to : `#${to}`;
  if (location.hash === target) return;
  if (replace) {
    history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}

export function meterHref(id: number, params?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  if (params) for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const qs = q.toString();
  return `#/meters/${id}${qs ? `?${qs}` : ''}`;
}
