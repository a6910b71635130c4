/**
 * Who may see the dashboard and act through it.
 *
 * - With DASHBOARD_TOKEN set, every page, API call and action needs it: `Authorization: Bearer
 *   <token>` (scripts), or the session cookie the login form sets (HttpOnly, SameSite=Strict; its
 *   value is an HMAC of the token, so the token itself is never in a cookie and every dashboard
 *   process with the same token accepts it).
 * - Actions are POST only. A POST not carrying the bearer token (a browser, whose cookie it sends
 *   by itself) also needs the CSRF token of @fastify/csrf-protection (`GET /api/csrf`, sent back
 *   as `x-csrf-token`, checked against a secret in its own cookie) — with or without
 *   DASHBOARD_TOKEN, since a page on another site can post to a loopback dashboard too.
 * - Without DASHBOARD_TOKEN the dashboard listens on loopback only, unless a host is given
 *   explicitly (`checkListenHost`).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'driftline_session';
export const CSRF_HEADER = 'x-csrf-token';

/** How a request was let in; `open`: no token is configured. */
export type Access = 'open' | 'bearer' | 'cookie';

/** The session cookie's value for a token: an HMAC of it, never the token itself. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('driftline-dashboard-session').digest('hex');
}

/** Constant-time comparison of two secrets of any length. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** How the request is let in, or null when it must be refused. */
export function accessOf(
  headers: { authorization?: string | undefined },
  cookies: Record<string, string | undefined>,
  token: string | undefined,
): Access | null {
  if (token === undefined) return 'open';
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim();
  if (bearer !== undefined && sameSecret(bearer, token)) return 'bearer';
  const session = cookies[SESSION_COOKIE];
  if (session !== undefined && sameSecret(session, sessionValue(token))) return 'cookie';
  return null;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Why the dashboard must not listen on `host`, or undefined when it may: without a token, only
 * loopback, unless the host was given explicitly (`--host`).
 */
export function checkListenHost(
  host: string,
  options: { token: string | undefined; explicit: boolean },
): string | undefined {
  if (isLoopback(host) || options.token !== undefined || options.explicit) return undefined;
  return `the dashboard listens on ${host} only with DASHBOARD_TOKEN set or --host given explicitly; without a token it serves loopback (127.0.0.1)`;
}

/** Paths open without the token: the login form, and the health check (it tells nothing but up or down). */
const PUBLIC = new Set(['/login', '/healthz']);

declare module 'fastify' {
  interface FastifyRequest {
    access: Access | null;
  }
}

/** Registers cookies, CSRF, the login form and the access check on every route. */
export async function registerAccess(app: FastifyInstance, options: { token: string | undefined }): Promise<void> {
  const { token } = options;
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifyCsrf, {
    cookieKey: 'driftline_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto' },
    getToken: (request) => request.headers[CSRF_HEADER] as string | undefined,
  });
  app.decorateRequest('access', null);

  app.addHook('onRequest', async (request, reply) => {
    request.access = accessOf(request.headers, request.cookies, token);
    const path = request.url.split('?')[0] ?? '';
    if (request.access !== null || PUBLIC.has(path)) return;
    // Scripts and scrapers get a 401 to act on; a browser is sent to the login form.
    if (path.startsWith('/api/') || path === '/metrics') {
      return reply.code(401).send({
        error: 'unauthorized',
        field: 'authorization',
        message: 'DASHBOARD_TOKEN is required: Authorization: Bearer <token>, or log in at /login',
      });
    }
    return reply.redirect('/login', 303);
  });

  // Every POST but the login form needs the CSRF token, unless it carries the bearer token.
  app.addHook('preHandler', (request, reply, done) => {
    const path = request.url.split('?')[0] ?? '';
    if (request.method !== 'POST' || PUBLIC.has(path) || request.access === 'bearer') return done();
    app.csrfProtection(request, reply, done);
  });

  app.get('/api/csrf', async (_request, reply) => ({ token: reply.generateCsrf() }));

  app.get('/login', async (_request, reply) => reply.type('text/html; charset=utf-8').send(loginPage('')));
  app.post('/login', async (request: FastifyRequest<{ Body: { token?: unknown } }>, reply: FastifyReply) => {
    const given = typeof request.body?.token === 'string' ? request.body.token : '';
    if (token === undefined) return reply.redirect('/', 303);
    if (!sameSecret(given, token)) {
      return reply.code(401).type('text/html; charset=utf-8').send(loginPage('Wrong token.'));
    }
    // Secure when the request came over HTTPS (a TLS proxy in front: fastify's trustProxy decides).
    reply.setCookie(SESSION_COOKIE, sessionValue(token), {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: 'auto',
    });
    return reply.redirect('/', 303);
  });
  app.post('/api/logout', async (_request, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });
}

function loginPage(problem: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Driftline — log in</title>
<style>body{font:15px system-ui,sans-serif;background:#f5f7fa;display:grid;place-items:center;height:100vh;margin:0}
form{background:#fff;padding:28px;border-radius:8px;box-shadow:0 1px 4px #0002;display:grid;gap:12px;min-width:300px}
input,button{font:inherit;padding:8px}.problem{color:#b42318}</style></head><body>
<form method="post" action="/login"><h1>Driftline dashboard</h1><label>Token <input type="password" name="token" autofocus></label>
${problem ? `<div class="problem">${problem}</div>` : ''}<button type="submit">Log in</button></form></body></html>`;
}
