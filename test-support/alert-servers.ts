/**
 * Local servers speaking the real protocols the alert channels talk: an HTTP server standing in
 * for the Slack Web API (`chat.postMessage`, reached through SLACK_API_URL), a real SMTP server
 * (`smtp-server`, with AUTH), and an HTTP webhook receiver that verifies X-Driftline-Signature.
 * Each can be made to fail (`down`: 503 / SMTP 451) or to answer the next requests with given
 * statuses (a 429 with Retry-After).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface SlackCall {
  at: number;
  token: string;
  channel: string;
  text: string;
  blocks: Record<string, unknown>[];
  threadTs: string | undefined;
  /** The ts this message got (only for answered calls). */
  ts: string | undefined;
  status: number;
}

/** A Slack Web API stand-in: chat.postMessage only, as Slack answers it. */
export class FakeSlackApi {
  readonly calls: SlackCall[] = [];
  /** Answer every request with 503 while true. */
  down = false;
  /** Answers for the next requests, in order (then normal service). */
  readonly script: ScriptedResponse[] = [];
  private server: Server | undefined;
  private seq = 0;
  url = '';

  constructor(private readonly expectedToken: string) {}

  /** Messages Slack accepted. */
  get messages(): SlackCall[] {
    return this.calls.filter((c) => c.status === 200 && c.ts !== undefined);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.answer(req, res));
    this.url = `http://127.0.0.1:${await listen(this.server)}/api`;
    return this;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await bodyOf(req);
    const type = String(req.headers['content-type'] ?? '');
    const fields: Record<string, unknown> = type.includes('application/json')
      ? (JSON.parse(raw) as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(raw));
    const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    const blocks = typeof fields.blocks === 'string' ? JSON.parse(fields.blocks) : (fields.blocks ?? []);
    const call: SlackCall = {
      at: Date.now(),
      token,
      channel: String(fields.channel ?? ''),
      text: String(fields.text ?? ''),
      blocks: blocks as Record<string, unknown>[],
      threadTs: fields.thread_ts === undefined ? undefined : String(fields.thread_ts),
      ts: undefined,
      status: 200,
    };
    this.calls.push(call);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.url !== '/api/chat.postMessage') return send(404, { ok: false, error: 'unknown_method' });
    const scripted = this.script.shift();
    if (scripted) return send(scripted.status, scripted.body ?? { ok: false, error: 'ratelimited' }, scripted.headers);
    if (this.down) return send(503, { ok: false, error: 'service_unavailable' });
    if (token !== this.expectedToken) return send(200, { ok: false, error: 'invalid_auth' });
    if (call.channel === '') return send(200, { ok: false, error: 'channel_not_found' });
    this.seq++;
    call.ts = `1700000000.${String(this.seq).padStart(6, '0')}`;
    send(200, { ok: true, channel: call.channel, ts: call.ts, message: { text: call.text } });
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}

export interface WebhookDelivery {
  at: number;
  body: string;
  json: { type: string; alert: Record<string, unknown> };
  signature: string;
  delivery: string;
  /** The signature matched HMAC-SHA256(body, secret). */
  verified: boolean;
  status: number;
}

/** A webhook receiver that checks X-Driftline-Signature and refuses (401) a bad one. */
export class WebhookReceiver {
  readonly deliveries: WebhookDelivery[] = [];
  down = false;
  readonly script: ScriptedResponse[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private readonly secret: string) {}

  get accepted(): WebhookDelivery[] {
    return this.deliveries.filter((d) => d.status === 200);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.answer(req, res));
    this.url = `http://127.0.0.1:${await listen(this.server)}/hooks/driftline`;
    return this;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await bodyOf(req);
    const signature = String(req.headers['x-driftline-signature'] ?? '');
    const expected = `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`;
    const verified =
      signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
    const delivery: WebhookDelivery = {
      at: Date.now(),
      body,
      json: JSON.parse(body) as WebhookDelivery['json'],
      signature,
      delivery: String(req.headers['x-driftline-delivery'] ?? ''),
      verified,
      status: 200,
    };
    this.deliveries.push(delivery);
    const scripted = this.script.shift();
    delivery.status = scripted?.status ?? (this.down ? 503 : verified ? 200 : 401);
    res.writeHead(delivery.status, scripted?.headers ?? {});
    res.end();
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}

export interface ReceivedMail {
  at: number;
  from: string;
  to: string[];
  raw: string;
  headers: Map<string, string>;
  messageId: string;
  inReplyTo: string | undefined;
  subject: string;
}

/** Header fields of a raw message, unfolded, names lower-case (the first of each). */
export function mailHeaders(raw: string): Map<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const name = line.slice(0, at).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(at + 1).trim());
  }
  return headers;
}

/** A real SMTP server (no TLS, AUTH PLAIN/LOGIN required) that keeps what it is sent. */
export class MailSink {
  readonly mails: ReceivedMail[] = [];
  /** Refuse every MAIL FROM with 451 (a transient failure) while true. */
  down = false;
  private server: SMTPServer | undefined;
  port = 0;

  constructor(
    readonly user: string,
    readonly password: string,
  ) {}

  get url(): string {
    return `smtp://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth: (auth, _session, callback) => {
        if (auth.username === this.user && auth.password === this.password) callback(null, { user: auth.username });
        else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onMailFrom: (_address, _session, callback) => {
        if (this.down) callback(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 451 }));
        else callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const headers = mailHeaders(raw);
          this.mails.push({
            at: Date.now(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            headers,
            messageId: headers.get('message-id') ?? '',
            inReplyTo: headers.get('in-reply-to'),
            subject: headers.get('subject') ?? '',
          });
          callback();
        });
      },
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
