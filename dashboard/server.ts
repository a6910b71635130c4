/**
 * The dashboard's fastify app: the page and its assets (uPlot served from node_modules: no CDN,
 * no network at view time), the JSON API behind it, the live stream (server-sent events fed by
 * polling ClickHouse, so any number of dashboard processes see the same), the HTML drift reports
 * and the actions. `buildDashboard` makes the app without listening (tests use `inject()`).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { listAlerts, openAlertVersions } from '../consumers/alert/store.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { MODEL_NAME_PATTERN } from '../core/feature-spec.ts';
import { withDeadline } from '../core/kafka/client.ts';
import type { Logger } from '../core/logger.ts';
import type { Storage } from '../core/storage/index.ts';
import type { ModelRegistry } from '../model/registry.ts';
import type { DashboardActions } from './actions.ts';
import { registerAccess } from './auth.ts';
import { type DashboardMetrics, dashboardMetrics } from './metrics.ts';
import {
  BadInput,
  type ChangeStamp,
  changedKinds,
  monitoredModelsSql,
  parseSince,
  placeDeployments,
  readChangeStamp,
  readColumnDistribution,
  readCurrentState,
  readEventsPerMinute,
  readPredictionSeries,
  readRetrainRuns,
  readWindows,
} from './queries.ts';

export interface DashboardOptions {
  storage: Storage;
  /** The model registry (versions, champions, reference profiles, deployments). */
  registry: ModelRegistry;
  actions: DashboardActions;
  /** DASHBOARD_TOKEN: required for everything when set. */
  token: string | undefined;
  /** Panes of a drift window (DRIFT_WINDOW_PANES): what the column distributions show. */
  windowPanes: number;
  /** Where the drift consumer writes its HTML reports (DRIFT_REPORTS_DIR). */
  reportsDir: string;
  logger: Logger;
  /** How often the live stream polls ClickHouse for changes (default 2 s). */
  pollMs?: number;
  now?: () => number;
}

const here = new URL('.', import.meta.url).pathname;
const require = createRequire(import.meta.url);

/** The page's files, read once at start-up. */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const uplot = join(require.resolve('uplot'), '..');
  const file = (path: string, type: string) => ({ type, body: readFileSync(path) });
  return new Map([
    ['app.js', file(join(here, 'public', 'app.js'), 'text/javascript; charset=utf-8')],
    ['style.css', file(join(here, 'public', 'style.css'), 'text/css; charset=utf-8')],
    ['uplot.js', file(join(uplot, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8')],
    ['uplot.css', file(join(uplot, 'uPlot.min.css'), 'text/css; charset=utf-8')],
  ]);
}

type ModelParams = { model: string };

/** `/healthz` answers 503 when ClickHouse has not answered a ping within this. */
const HEALTH_TIMEOUT_MS = 2_000;

type Query = { since?: string; model?: string; version?: string };

export async function buildDashboard(options: DashboardOptions): Promise<FastifyInstance> {
  const { storage, registry, actions, logger } = options;
  const now = options.now ?? Date.now;
  const app = Fastify({
    loggerInstance: logger.child({ component: 'dashboard' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Live streams stay open: closing the app ends them instead of waiting for the browsers.
    forceCloseConnections: true,
  });
  const assets = loadAssets();
  const index = readFileSync(join(here, 'public', 'index.html'));

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof BadInput) {
      return reply.code(error.status).send({ error: 'bad_input', field: error.field, message: error.message });
    }
    if (error instanceof DriftlineError && error.code === ErrorCode.MODEL_NOT_FOUND) {
      return reply.code(409).send({ error: 'not_possible', field: 'model', message: error.message });
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('FST_CSRF')) {
      return reply.code(403).send({ error: 'csrf', field: 'x-csrf-token', message: (error as Error).message });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'bad_request', message: (error as Error).message });
    }
    request.log.error({ err: error }, 'dashboard request failed');
    return reply.code(500).send({ error: 'internal', message: 'the dashboard could not answer; see its log' });
  });

  await registerAccess(app, { token: options.token });

  const metrics = dashboardMetrics();
  app.addHook('onResponse', async (request, reply) => {
    // The pattern, not the URL: one series per route, whatever models and files are asked for.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.request(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.get('/healthz', async (_request, reply) => {
    try {
      await withDeadline(storage.ping(), HEALTH_TIMEOUT_MS, () => new Error('ClickHouse did not answer in time'));
      return { status: 'ok' };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', storage: (error as Error).message });
    }
  });

  const send = (reply: FastifyReply, type: string, body: Buffer | string) =>
    reply.header('cache-control', 'no-cache').type(type).send(body);
  app.get('/', async (_request, reply) => send(reply, 'text/html; charset=utf-8', index));
  app.get('/assets/:file', async (request: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) return reply.code(404).send({ error: 'not_found', field: 'file' });
    return send(reply, asset.type, asset.body);
  });
  app.get('/reports/:file', async (request: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const name = request.params.file;
    if (!/^[\w.-]+\.html$/.test(name) || basename(name) !== name) {
      return reply.code(400).send({ error: 'bad_input', field: 'file', message: 'a report file name' });
    }
    try {
      return send(reply, 'text/html; charset=utf-8', await readFile(join(options.reportsDir, name)));
    } catch {
      return reply.code(404).send({ error: 'not_found', field: 'file', message: `no report ${name}` });
    }
  });

  /** Models the registry holds and models with drift events, sorted. */
  async function modelNames(): Promise<string[]> {
    const registered = (await registry.listModels()).map((m) => m.model);
    const monitored = await storage
      .query<{ model_name: string }>(monitoredModelsSql())
      .then((rows) => rows.map((r) => r.model_name))
      .catch(() => [] as string[]);
    return [...new Set([...registered, ...monitored])].sort();
  }

  async function knownModel(model: string): Promise<string> {
    if (!MODEL_NAME_PATTERN.test(model)) {
      throw new BadInput('model', `${JSON.stringify(model)} is not a model name (${MODEL_NAME_PATTERN})`);
    }
    if (!(await modelNames()).includes(model)) throw new BadInput('model', `no model ${model}`, 404);
    return model;
  }

  async function champion(model: string): Promise<number | null> {
    return registry.champion(model).catch(() => null);
  }

  app.get('/api/models', async () => {
    const models = await modelNames();
    return Promise.all(
      models.map(async (model) => {
        const [state, eventsPerMinute, open, champ] = await Promise.all([
          readCurrentState(storage, model),
          readEventsPerMinute(storage, model),
          openAlertVersions(storage, model).catch(() => [] as number[]),
          champion(model),
        ]);
        return { model, champion: champ, ...state, eventsPerMinute, openAlerts: open.length };
      }),
    );
  });

  app.get('/api/models/:model', async (request: FastifyRequest<{ Params: ModelParams }>) => {
    const model = await knownModel(request.params.model);
    const registered = (await registry.listModels()).some((m) => m.model === model);
    const versions = registered ? await registry.listVersions(model) : [];
    const pointer = registered ? await registry.pointer(model) : undefined;
    return {
      model,
      champion: pointer?.champion ?? null,
      versions: versions.map((v) => ({
        version: v.version,
        champion: v.champion,
        status: v.status,
        rmse: v.metrics.rmse,
        mae: v.metrics.mae,
        r2: v.metrics.r2,
        trainedAt: v.metrics.trainedAt,
        trigger: v.origin?.trigger ?? 'train',
        reason: v.origin?.reason ?? null,
      })),
      deployments: await placeDeployments(storage, model, pointer?.history ?? []),
    };
  });

  app.get(
    '/api/models/:model/windows',
    async (request: FastifyRequest<{ Params: ModelParams; Querystring: Query }>) => {
      const model = await knownModel(request.params.model);
      return readWindows(storage, model, parseSince(request.query.since, now()));
    },
  );

  app.get(
    '/api/models/:model/predictions',
    async (request: FastifyRequest<{ Params: ModelParams; Querystring: Query }>) => {
      const model = await knownModel(request.params.model);
      return readPredictionSeries(storage, model, parseSince(request.query.since, now()));
    },
  );

  app.get(
    '/api/models/:model/columns/:column',
    async (request: FastifyRequest<{ Params: ModelParams & { column: string }; Querystring: Query }>) => {
      const model = await knownModel(request.params.model);
      const raw = request.query.version;
      let version: number | null;
      if (raw === undefined || raw === '') {
        version = (await readCurrentState(storage, model)).version ?? (await champion(model));
      } else if (/^[1-9]\d{0,8}$/.test(raw)) version = Number(raw);
      else throw new BadInput('version', `version must be a positive integer; got ${JSON.stringify(raw)}`);
      if (version === null) throw new BadInput('version', `model ${model} has no version to show`, 404);
      const { profile } = await registry.readVersion(model, version).catch(() => {
        throw new BadInput('version', `model ${model} has no version ${version} in the registry`, 404);
      });
      const distribution = await readColumnDistribution(storage, profile, {
        model,
        version,
        column: request.params.column,
        windowPanes: options.windowPanes,
      });
      return { model, version, column: request.params.column, ...distribution };
    },
  );

  app.get('/api/alerts', async (request: FastifyRequest<{ Querystring: Query }>) => {
    const since = parseSince(request.query.since, now());
    const model = request.query.model === undefined ? undefined : await knownModel(request.query.model);
    const alerts = await listAlerts(storage, { ...(model === undefined ? {} : { model }), limit: 100 });
    return alerts.filter((a) => a.messages.some((m) => Date.parse(m.decided_at) >= since));
  });

  app.get('/api/retrain-runs', async (request: FastifyRequest<{ Querystring: Query }>) => {
    const since = parseSince(request.query.since, now());
    const model = request.query.model === undefined ? undefined : await knownModel(request.query.model);
    return readRetrainRuns(storage, model, since);
  });

  app.post(
    '/api/models/:model/retrain',
    async (request: FastifyRequest<{ Params: ModelParams; Body: { reason?: unknown } | undefined }>, reply) => {
      const model = await knownModel(request.params.model);
      const reason = request.body?.reason;
      if (reason !== undefined && (typeof reason !== 'string' || reason.length > 500)) {
        throw new BadInput('reason', 'reason must be a string of at most 500 characters');
      }
      const started = await actions.retrain(model, reason ?? 'manual (dashboard)');
      return reply.code(202).send(started);
    },
  );

  app.post('/api/models/:model/rollback', async (request: FastifyRequest<{ Params: ModelParams }>) => {
    const model = await knownModel(request.params.model);
    return actions.rollback(model);
  });

  app.post('/api/alerts/test', async () => ({ results: await actions.testAlert() }));

  registerLiveStream(app, { storage, registry, pollMs: options.pollMs ?? 2_000, logger, metrics });
  return app;
}

/**
 * `GET /api/events`: server-sent events, `event: change` with the kinds that moved (`drift`,
 * `alerts`, `runs`, `deployments`). One poll of ClickHouse (and the registry's pointers) per
 * process while anyone listens; the page re-reads the panels a change concerns.
 */
function registerLiveStream(
  app: FastifyInstance,
  options: { storage: Storage; registry: ModelRegistry; pollMs: number; logger: Logger; metrics: DashboardMetrics },
): void {
  const { metrics } = options;
  const listeners = new Set<FastifyReply>();
  let timer: NodeJS.Timeout | undefined;
  let last: ChangeStamp | undefined;
  let polling = false;

  async function deploymentStamp(): Promise<string> {
    const models = await options.registry.listModels();
    const pointers = await Promise.all(models.map((m) => options.registry.pointer(m.model)));
    return pointers.map((p) => `${p.model}:${p.history.length}:${p.champion}`).join(',');
  }

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    metrics.polls.inc();
    try {
      const stamp = await readChangeStamp(options.storage, await deploymentStamp());
      const kinds = changedKinds(last, stamp);
      last = stamp;
      if (kinds.length > 0) {
        const message = `event: change\ndata: ${JSON.stringify({ kinds })}\n\n`;
        for (const reply of listeners) reply.raw.write(message);
      }
    } catch (error) {
      metrics.pollFailures.inc();
      options.logger.warn({ err: error }, 'dashboard live poll failed; trying again');
    } finally {
      polling = false;
    }
  }

  app.get('/api/events', (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    reply.raw.write(': connected\n\n');
    listeners.add(reply);
    metrics.liveClients.set(listeners.size);
    if (!timer) {
      last = undefined;
      void poll();
      timer = setInterval(() => void poll(), options.pollMs);
    }
    request.raw.on('close', () => {
      listeners.delete(reply);
      metrics.liveClients.set(listeners.size);
      if (listeners.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    });
  });

  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    for (const reply of listeners) reply.raw.end();
    listeners.clear();
    metrics.liveClients.set(0);
  });
}
