// The fetch wrapper both browser apps use: JSON in and out, same-origin cookies, the CSRF header,
// errors as ApiError (the servers' {"error": {"code", "message", "field", "details"}} bodies), and
// a handler for 401 (session missing or expired).

/** One problem of a refused input (a driver file's line, for instance). */
export interface FieldErrorDetail {
  line: number | null;
  message: string;
  text: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly details: FieldErrorDetail[];
  /** Why, where the server says more than the code (e.g. "totp_required"). */
  readonly reason?: string;
  constructor(status: number, code: string, message: string, field?: string, details: FieldErrorDetail[] = [], reason?: string) {
    super(message);
    this.reason = reason;
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
  }
}

export interface HttpClient {
  request<T>(method: string, path: string, body?: unknown, quiet401?: boolean): Promise<T>;
  /** POST a JSON body and receive a file: its bytes and the name from Content-Disposition. */
  download(path: string, body: unknown): Promise<{ blob: Blob; filename: string | null }>;
  /** Called whenever a request answers 401, unless it asked to be quiet about it. */
  onUnauthorized(fn: (() => void) | null): void;
}

export function createClient(options: {
  root: string;
  /** The message when the server cannot be reached at all. */
  unreachable: string;
  /** Send X-Requested-With on GET too (the connector's API wants it on every request). */
  csrfOnReads: boolean;
}): HttpClient {
  let unauthorized: (() => void) | null = null;
  return {
    onUnauthorized(fn) {
      unauthorized = fn;
    },
    async request<T>(method: string, path: string, body?: unknown, quiet401 = false): Promise<T> {
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (options.csrfOnReads || (method !== 'GET' && method !== 'HEAD')) headers['X-Requested-With'] = 'wattline';
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      let res: Response;
      try {
        res = await fetch(`${options.root}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          credentials: 'same-origin',
          cache: 'no-store',
        });
      } catch {
        throw new ApiError(0, 'unavailable', options.unreachable);
      }
      if (res.status === 204) return undefined as T;
      const text = await res.text();
      if (!res.ok) {
        if (res.status === 401 && !quiet401 && unauthorized) unauthorized();
        throw errorFrom(res, text);
      }

      let data: unknown = undefined;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {
        data = undefined;
      }
      return data as T;
    },
    async download(path: string, body: unknown) {
      let res: Response;
      try {
        res = await fetch(`${options.root}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'wattline' },
          body: JSON.stringify(body),
          credentials: 'same-origin',
          cache: 'no-store',
        });
      } catch {
        throw new ApiError(0, 'unavailable', options.unreachable);
      }
      if (!res.ok) {
        if (res.status === 401 && unauthorized) unauthorized();
        throw errorFrom(res, await res.text());
      }
      return { blob: await res.blob(), filename: filenameOf(res.headers.get('Content-Disposition')) };
    },
  };
}

function errorFrom(res: Response, text: string): ApiError {
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  const e = (
    data as
      | { error?: { code?: string; message?: string; field?: string; details?: FieldErrorDetail[]; reason?: string } }
      | undefined
  )?.error;
  return new ApiError(
    res.status,
    e?.code ?? 'unknown',
    e?.message || `${res.status} ${res.statusText || 'request failed'}`,
    e?.field,
    e?.details ?? [],
    e?.reason,
  );
}

/** The file name of a Content-Disposition header (RFC 6266: filename* wins over filename). */
export function filenameOf(header: string | null): string | null {
  if (!header) return null;
  const star = /filename\*\s*=\s*([^;]+)/i.exec(header);
  if (star) {
    const v = star[1].trim().replace(/^"|"$/g, '');
    const i = v.indexOf("''");
    try {
      return decodeURIComponent(i >= 0 ? v.slice(i + 2) : v);
    } catch {
      /* fall through to filename= */
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(header);
  if (!plain) return null;
  return (plain[2] ?? plain[1]).trim();
}
