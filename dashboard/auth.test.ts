import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { accessOf, checkListenHost, registerAccess, SESSION_COOKIE, sessionValue } from './auth.ts';

const TOKEN = 'correct-horse-battery-staple';

describe('accessOf', () => {
  it('lets everything in when no token is configured', () => {
    expect(accessOf({}, {}, undefined)).toBe('open');
  });
  it('takes the bearer token or the session cookie, and nothing else', () => {
    expect(accessOf({ authorization: `Bearer ${TOKEN}` }, {}, TOKEN)).toBe('bearer');
    expect(accessOf({}, { [SESSION_COOKIE]: sessionValue(TOKEN) }, TOKEN)).toBe('cookie');
    expect(accessOf({ authorization: 'Bearer wrong' }, {}, TOKEN)).toBeNull();
    expect(accessOf({ authorization: TOKEN }, {}, TOKEN)).toBeNull();
    // The cookie holds an HMAC of the token, never the token: the token itself is no session.
    expect(accessOf({}, { [SESSION_COOKIE]: TOKEN }, TOKEN)).toBeNull();
    expect(accessOf({}, {}, TOKEN)).toBeNull();
  });
});

describe('checkListenHost', () => {
  it('allows loopback always, another address only with a token or an explicit --host', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.1.2.3']) {
      expect(checkListenHost(host, { token: undefined, explicit: false })).toBeUndefined();
    }
    expect(checkListenHost('0.0.0.0', { token: undefined, explicit: false })).toMatch(/DASHBOARD_TOKEN/);
    expect(checkListenHost('10.0.0.5', { token: undefined, explicit: false })).toMatch(/loopback/);
    expect(checkListenHost('0.0.0.0', { token: TOKEN, explicit: false })).toBeUndefined();
    expect(checkListenHost('0.0.0.0', { token: undefined, explicit: true })).toBeUndefined();
  });
});

describe('registerAccess on a fastify app', () => {
  let app: FastifyInstance;
  afterEach(async () => app?.close());

  async function build(token: string | undefined): Promise<{ acted: () => number }> {
    app = Fastify();
    let acted = 0;
    await registerAccess(app, { token });
    app.get('/', async () => 'page');
    app.get('/api/things', async () => ({ things: [] }));
    app.get('/metrics', async () => 'driftline_dashboard_requests_total 1');
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.post('/api/act', async () => {
      acted++;
      return { ok: true };
    });
    await app.ready();
    return { acted: () => acted };
  }

  /** `name=value` pairs of the response's Set-Cookie headers, for the next request. */
  function cookiesOf(setCookie: string | string[] | undefined): string {
    return [setCookie ?? []]
      .flat()
      .map((c) => c.split(';')[0])
      .join('; ');
  }

  it('refuses the page (redirect to the login form) and the API (401 naming authorization) without the token', async () => {
    const { acted } = await build(TOKEN);
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login');
    const api = await app.inject({ url: '/api/things' });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toMatchObject({ field: 'authorization' });
    const act = await app.inject({ method: 'POST', url: '/api/act', payload: {} });
    expect(act.statusCode).toBe(401);
    expect(acted()).toBe(0);
    expect((await app.inject({ url: '/login' })).statusCode).toBe(200);
  });

  it('with a token: /metrics answers a scraper without it 401 and one with it 200; /healthz is open', async () => {
    await build(TOKEN);
    const refused = await app.inject({ url: '/metrics' });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ field: 'authorization' });
    const scraped = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scraped.statusCode).toBe(200);
    expect(scraped.body).toContain('driftline_dashboard_requests_total');
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('takes the bearer token for reads and actions (no CSRF token needed: browsers never add it by themselves)', async () => {
    const { acted } = await build(TOKEN);
    const headers = { authorization: `Bearer ${TOKEN}` };
    expect((await app.inject({ url: '/api/things', headers })).statusCode).toBe(200);
    const act = await app.inject({ method: 'POST', url: '/api/act', headers, payload: {} });
    expect(act.statusCode).toBe(200);
    expect(acted()).toBe(1);
  });

  it('logs in with the form: an HttpOnly SameSite cookie; its actions need the CSRF token', async () => {
    const { acted } = await build(TOKEN);
    const wrong = await app.inject({
      method: 'POST',
      url: '/login',
      payload: 'token=nope',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const login = await app.inject({
      method: 'POST',
      url: '/login',
      payload: `token=${TOKEN}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(login.statusCode).toBe(303);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toContain(`${SESSION_COOKIE}=${sessionValue(TOKEN)}`);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(TOKEN);
    const session = cookiesOf(login.headers['set-cookie']);
    expect((await app.inject({ url: '/', headers: { cookie: session } })).statusCode).toBe(200);

    const forged = await app.inject({ method: 'POST', url: '/api/act', headers: { cookie: session }, payload: {} });
    expect(forged.statusCode).toBe(403);
    expect(acted()).toBe(0);

    const csrf = await app.inject({ url: '/api/csrf', headers: { cookie: session } });
    const cookie = `${session}; ${cookiesOf(csrf.headers['set-cookie'])}`;
    const wrongToken = await app.inject({
      method: 'POST',
      url: '/api/act',
      headers: { cookie, 'x-csrf-token': 'not-the-token' },
      payload: {},
    });
    expect(wrongToken.statusCode).toBe(403);
    const act = await app.inject({
      method: 'POST',
      url: '/api/act',
      headers: { cookie, 'x-csrf-token': csrf.json().token },
      payload: {},
    });
    expect(act.statusCode).toBe(200);
    expect(acted()).toBe(1);
  });

  it('without a token the page is open but actions still need the CSRF token', async () => {
    const { acted } = await build(undefined);
    expect((await app.inject({ url: '/api/things' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/act', payload: {} })).statusCode).toBe(403);
    const csrf = await app.inject({ url: '/api/csrf' });
    const act = await app.inject({
      method: 'POST',
      url: '/api/act',
      headers: { cookie: cookiesOf(csrf.headers['set-cookie']), 'x-csrf-token': csrf.json().token },
      payload: {},
    });
    expect(act.statusCode).toBe(200);
    expect(acted()).toBe(1);
  });
});
