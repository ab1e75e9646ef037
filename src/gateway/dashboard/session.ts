// The dashboard's session: signing in with the admin token gives a cookie, and the admin API
// takes that cookie in place of the token (admin/access.ts). The cookie is signed, not stored:
// `<expiresAt>.<id>.<signature>`, with an HMAC key derived from the admin token. So every instance
// behind a load balancer accepts it without shared state, and changing the admin token ends every
// session at once. Sign-out clears the cookie; one copied before then lasts until it expires, so
// sessions are short (admin.sessionTtlMinutes).
//
// CSRF: the cookie is SameSite=Strict, and a change (any method but GET/HEAD) must also carry
// `X-CSRF-Token`, an HMAC of the session id that only a page of the gateway's own origin can read
// (GET /dashboard/session; there is no CORS). A forged cross-site form can send the cookie at
// most, never the header.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'lxg_dashboard';
export const CSRF_HEADER = 'x-csrf-token';

export interface Session {
  id: string;
  expiresAt: number;
  /** The value a change must carry in X-CSRF-Token. */
  csrf: string;
}

export interface SessionOptions {
  adminToken: string;
  ttlMs: number;
  now: () => number;
}

export interface Sessions {
  /** A new session and the Set-Cookie header value that carries it. */
  issue(secure: boolean): { session: Session; setCookie: string };
  /** The session a request's cookie carries, if it is genuine and not expired. */
  fromHeaders(headers: IncomingHttpHeaders): Session | undefined;
  /** Whether a request carries this session's CSRF proof (compared in constant time). */
  csrfMatches(session: Session, headers: IncomingHttpHeaders): boolean;
  /** The Set-Cookie header value that removes the cookie. */
  clearCookie(secure: boolean): string;
  /** Whether `token` is the admin token (constant time, whatever its length). */
  isAdminToken(token: unknown): boolean;
}

/** Fixed-length digests, so the token comparison takes the same time whatever the lengths. */
const tokenDigest = (text: string) => createHmac('sha256', 'liangxin-gateway admin token').update(text).digest();

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The value of one cookie in a Cookie header (the first of that name). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function cookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  // Path=/: the same cookie signs the dashboard's own calls and the admin API's.
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function createSessions(options: SessionOptions): Sessions {
  // Derived, never the token itself: a leaked signature says nothing about the token.
  const key = createHmac('sha256', 'liangxin-gateway dashboard session').update(options.adminToken).digest();
  const mac = (text: string) => createHmac('sha256', key).update(text).digest('base64url');
  const tokenHash = tokenDigest(options.adminToken);

  const sessionOf = (id: string, expiresAt: number): Session => ({ id, expiresAt, csrf: mac(`csrf.${id}`) });

  return {
    issue(secure) {
      const id = randomBytes(18).toString('base64url');
      const expiresAt = options.now() + options.ttlMs;
      const value = `${expiresAt}.${id}.${mac(`session.${expiresAt}.${id}`)}`;
      return { session: sessionOf(id, expiresAt), setCookie: cookie(value, Math.floor(options.ttlMs / 1000), secure) };
    },
    fromHeaders(headers) {
      const value = cookieValue(headers.cookie, SESSION_COOKIE);
      const match = /^(\d{1,16})\.([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
      if (!match) return undefined;
      const [, expires, id, signature] = match as unknown as [string, string, string, string];
      if (!sameText(signature, mac(`session.${expires}.${id}`))) return undefined;
      const expiresAt = Number(expires);
      return expiresAt > options.now() ? sessionOf(id, expiresAt) : undefined;
    },
    csrfMatches(session, headers) {
      const given = headers[CSRF_HEADER];
      return typeof given === 'string' && sameText(given, session.csrf);
    },
    clearCookie(secure) {
      return cookie('', 0, secure);
    },
    isAdminToken(token) {
      return typeof token === 'string' && timingSafeEqual(tokenDigest(token), tokenHash);
    },
  };
}
