/**
 * The alert consumer against real Kafka, schema registry and ClickHouse (18.16 server), with
 * local servers speaking the real protocols for each channel: an HTTP server standing in for the
 * Slack Web API (through SLACK_API_URL), a real SMTP server, and a webhook receiver that verifies
 * the HMAC signature. Each test produces DriftEvents (Avro, through the registry) to a fresh
 * drift-events topic of its own, for a fresh model, read by a fresh consumer group.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { AvroCodec } from '../../core/kafka/avro.ts';
import { connectAdmin, createKafka, createProducer, ensureTopics } from '../../core/kafka/client.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { migrate } from '../../core/migrations.ts';
import { type DriftEvent, driftEventSchema, type ModelDeployment, modelDeploymentSchema } from '../../core/schemas.ts';
import { openStorage, type Storage, sql } from '../../core/storage/index.ts';
import { TOPICS, valueSubject } from '../../core/topics.ts';
import { FakeSlackApi, MailSink, WebhookReceiver } from '../../test-support/alert-servers.ts';
import { readTopic } from '../../test-support/read-topic.ts';
import { until } from '../../test-support/until.ts';
import { alertingSecrets, channelsFromConfig } from './channels/index.ts';
import { type AlertConsumer, startAlertConsumer } from './consumer.ts';
import { listAlerts } from './store.ts';

const services = inject('services');
const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000, partitions: 1 };
const DATABASE = 'driftline_alert_test';
const TOKEN = `xoxb-test-${randomBytes(8).toString('hex')}`;
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;
const SMTP_PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const MINUTE = 60_000;
const BASE = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;

const COLUMNS = ['MedInc', 'HouseAge', 'AveRooms', 'AveBedrms', 'Population', 'AveOccup', 'Latitude', 'Longitude'];

/** Window n of `model` v1 (1-minute panes, 5-pane windows), evaluated a second after it ends. */
function driftEvent(model: string, n: number, drifted: string[] = [], patch: Partial<DriftEvent> = {}): DriftEvent {
  const end = BASE + n * MINUTE;
  const state = drifted.length > 0 ? 'drift' : 'ok';
  return {
    event_id: randomUUID(),
    model_name: model,
    model_version: 1,
    window_start: new Date(end - 5 * MINUTE),
    window_end: new Date(end),
    pane_ms: MINUTE,
    window_panes: 5,
    pane_count: 5,
    row_count: 6_000,
    source_partitions: [`predictions.${model}:0`],
    completion: 'all_sources',
    columns: COLUMNS.map((column) => ({
      column,
      is_prediction: false,
      kind: 'numerical' as const,
      method: 'wasserstein' as const,
      statistic: drifted.includes(column) ? 0.41 : 0.02,
      threshold: 0.1,
      p_value: null,
      drifted: drifted.includes(column),
      verdict: drifted.includes(column) ? ('drift' as const) : ('ok' as const),
      reference_count: 16_000,
      current_count: 6_000,
      reference_mean: 3.8,
      current_mean: 4.2,
      reference_std: 1.9,
      current_std: 1.9,
      ks: null,
      ks_p_value: null,
      wasserstein: null,
      wasserstein_norm: null,
      psi: null,
      js: null,
      chi2: null,
      chi2_p_value: null,
    })),
    drifted_columns: drifted,
    drifted_features: drifted,
    prediction_drifted: false,
    evaluated_count: COLUMNS.length,
    drifted_count: drifted.length,
    share_of_drifted_columns: drifted.length / COLUMNS.length,
    drift_share: 0.25,
    state,
    previous_state: null,
    transition: false,
    consecutive_drift: state === 'drift' ? 1 : 0,
    retrain_after: 3,
    retrain_recommended: false,
    performance: {
      labelled_count: 5_000,
      rmse: 0.61,
      mae: 0.44,
      holdout_rmse: 0.53,
      holdout_mae: 0.38,
      tolerance: 1.2,
      min_labels: 100,
      verdict: 'ok',
    },
    report_path: state === 'drift' ? `reports/${model}-v1.html` : null,
    evaluated_at: new Date(end + 1_000),
    sources_expected: 1,
    partial: false,
    revision: 0,
    sketch_count: 40,
    ...patch,
  };
}

/** Log lines in memory, to prove no secret reaches them. */
class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, callback: () => void) {
    this.text += chunk.toString();
    callback();
  }
}

describe('alert consumer: Slack, email and webhook', () => {
  let kafka: Kafka;
  let codec: AvroCodec;
  let storage: Storage;
  let producer: Producer;
  let slack: FakeSlackApi;
  let mail: MailSink;
  let hook: WebhookReceiver;
  const logs = new Captured();
  let logger: Logger;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    logger = createLogger('debug', logs);
    kafka = createKafka({ brokers: services.kafkaBrokers, clientId: 'alert-test', connectTimeoutMs: 10_000, logger });
    codec = new AvroCodec({ url: services.schemaRegistryUrl });
    producer = createProducer(kafka);
    await producer.connect();
    storage = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: DATABASE }), logger, {
      clickhouseUrl: services.clickhouseUrl,
    });
    await migrate(storage);
    slack = await new FakeSlackApi(TOKEN).start();
    mail = await new MailSink('alerts@example.com', SMTP_PASSWORD).start();
    hook = await new WebhookReceiver(SECRET).start();
  });

  afterAll(async () => {
    for (const close of cleanup.reverse()) await close().catch(() => {});
    await producer?.disconnect();
    await storage?.close();
    await slack?.stop();
    await mail?.stop();
    await hook?.stop();
  });

  beforeEach(() => {
    slack.down = false;
    mail.down = false;
    hook.down = false;
  });

  interface Harness {
    model: string;
    topic: string;
    deploymentsTopic: string;
    groupId: string;
    start(
      env?: Record<string, string>,
      groupId?: string,
      options?: Partial<Parameters<typeof startAlertConsumer>[0]>,
    ): Promise<AlertConsumer>;
    send(...events: DriftEvent[]): Promise<bigint[]>;
    deploy(deployment: ModelDeployment): Promise<bigint>;
    committed(topic?: string): Promise<bigint | undefined>;
    slackOf(): typeof slack.messages;
    mailOf(): typeof mail.mails;
    hookOf(): typeof hook.deliveries;
  }

  async function harness(): Promise<Harness> {
    const model = `al-${randomBytes(4).toString('hex')}`;
    const topic = `drift-events-test-${randomBytes(4).toString('hex')}`;
    const deploymentsTopic = `model-deployments-test-${randomBytes(4).toString('hex')}`;
    const groupId = `alert-test-${randomUUID()}`;
    const admin = await connectAdmin(kafka, connect);
    await ensureTopics(admin, [{ topic }, { topic: deploymentsTopic }, { topic: TOPICS.deadLetter }], 1);
    await admin.disconnect();
    const schemaId = await codec.register(valueSubject(topic), driftEventSchema());
    const deploymentSchemaId = await codec.register(valueSubject(deploymentsTopic), modelDeploymentSchema());
    const env = {
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_CHANNEL: `#${model}`,
      SLACK_API_URL: slack.url,
      SMTP_URL: mail.url,
      ALERT_EMAIL_FROM: 'driftline@example.com',
      ALERT_EMAIL_TO: `ml-team+${model}@example.com,oncall@example.com`,
      ALERT_WEBHOOK_URL: `${hook.url}?model=${model}`,
      ALERT_WEBHOOK_SECRET: SECRET,
      DASHBOARD_URL: 'http://127.0.0.1:3000/models',
    };
    return {
      model,
      topic,
      deploymentsTopic,
      groupId,
      async start(extra = {}, group = groupId, more = {}) {
        const config = parseConfig({ ...env, ...extra });
        const alert = await startAlertConsumer({
          kafka,
          codec,
          storage,
          logger,
          connect,
          channels: channelsFromConfig(config.alerting, { logger, out: null }),
          secrets: alertingSecrets(config.alerting),
          settings: {
            updateIntervalMs: config.alerting.updateIntervalSeconds * 1000,
            retryBudgetMs: config.alerting.retryBudgetSeconds * 1000,
            dashboardUrl: config.alerting.dashboardUrl,
          },
          groupId: group,
          topic,
          deploymentsTopic,
          retry: { initialMs: 200, maxMs: 1_000 },
          tickMs: 50,
          ...more,
        });
        cleanup.push(() => alert.stop());
        return alert;
      },
      async send(...events) {
        const offsets: bigint[] = [];
        for (const event of events) {
          const [meta] = await producer.send({
            topic,
            acks: -1,
            messages: [{ key: event.model_name, value: await codec.encode(schemaId, event) }],
          });
          offsets.push(BigInt(meta?.baseOffset ?? '0'));
        }
        return offsets;
      },
      async deploy(deployment) {
        const [meta] = await producer.send({
          topic: deploymentsTopic,
          acks: -1,
          messages: [{ key: deployment.model_name, value: await codec.encode(deploymentSchemaId, deployment) }],
        });
        return BigInt(meta?.baseOffset ?? '0');
      },
      async committed(from = topic) {
        const a = await connectAdmin(kafka, connect);
        try {
          const [t] = await a.fetchOffsets({ groupId, topics: [from] });
          const offset = t?.partitions[0]?.offset;
          return offset === undefined || offset === '-1' ? undefined : BigInt(offset);
        } finally {
          await a.disconnect();
        }
      },
      slackOf: () => slack.messages.filter((m) => m.channel === `#${model}`),
      mailOf: () => mail.mails.filter((m) => m.to.includes(`ml-team+${model}@example.com`)),
      hookOf: () => hook.deliveries.filter((d) => d.json.alert.model === model),
    };
  }

  it('a drift episode (ok → drift → drift ×3, a feature added, retraining → ok): per channel one opening, the updates in its thread, one resolution', async () => {
    const h = await harness();
    const consumer = await h.start();
    const offsets = await h.send(
      driftEvent(h.model, 1),
      driftEvent(h.model, 2, ['MedInc', 'AveRooms'], { transition: true, previous_state: 'ok' }),
      driftEvent(h.model, 3, ['MedInc', 'AveRooms'], { consecutive_drift: 2 }),
      driftEvent(h.model, 4, ['MedInc', 'AveRooms', 'HouseAge'], { consecutive_drift: 3, retrain_recommended: true }),
      driftEvent(h.model, 5, ['MedInc', 'AveRooms', 'HouseAge'], { consecutive_drift: 4, retrain_recommended: true }),
      driftEvent(h.model, 6, [], { transition: true, previous_state: 'drift' }),
    );
    const last = offsets.at(-1) as bigint;
    await until(async () => (await h.committed()) === last + 1n, 'the episode to be committed', 60_000);

    // Slack: an opening message, then replies in its thread.
    const posts = h.slackOf();
    expect(posts.map((p) => p.text.split('\n')[0])).toEqual([
      `[WARNING] Drift alert opened: ${h.model} v1`,
      `[CRITICAL] Drift alert update: ${h.model} v1`,
      `[RESOLVED] Drift alert resolved: ${h.model} v1`,
    ]);
    const [open, ...replies] = posts;
    expect(open?.threadTs).toBeUndefined();
    for (const reply of replies) expect(reply.threadTs).toBe(open?.ts);
    expect(posts.every((p) => p.token === TOKEN)).toBe(true);
    const blocksText = JSON.stringify(open?.blocks);
    expect(blocksText).toContain('MedInc: wasserstein 0.410 ≥ 0.100');
    expect(blocksText).toContain('realized RMSE 0.610 vs holdout 0.530');
    expect(blocksText).toContain('http://127.0.0.1:3000/models');
    expect(blocksText).toContain(`reports/${h.model}-v1.html`);
    // The update says why: HouseAge joined and retraining is recommended, in one message.
    expect(replies[0]?.text).toContain('why: the drifted features changed, retraining recommended, severity raised');
    expect(replies[0]?.text).toContain('HouseAge');

    // Email: the same three, replies threaded with In-Reply-To, HTML and plain text.
    const mails = h.mailOf();
    expect(mails).toHaveLength(3);
    expect(mails[0]?.inReplyTo).toBeUndefined();
    expect(mails[1]?.inReplyTo).toBe(mails[0]?.messageId);
    expect(mails[2]?.inReplyTo).toBe(mails[0]?.messageId);
    expect(mails[0]?.raw).toContain('text/plain');
    expect(mails[0]?.raw).toContain('text/html');
    expect(mails[0]?.to).toEqual([`ml-team+${h.model}@example.com`, 'oncall@example.com']);

    // Webhook: three signed deliveries, verified by the receiver.
    const hooks = h.hookOf();
    expect(hooks.map((d) => d.json.type)).toEqual([
      'driftline.alert.open',
      'driftline.alert.update',
      'driftline.alert.resolve',
    ]);
    expect(hooks.every((d) => d.verified && d.status === 200)).toBe(true);

    // ClickHouse: one alert, resolved, each message delivered once per channel.
    const [alert, ...others] = await listAlerts(storage, { model: h.model });
    expect(others).toEqual([]);
    expect(alert?.status).toBe('resolved');
    expect(alert?.messages.map((m) => m.kind)).toEqual(['open', 'update', 'resolve']);
    for (const message of alert?.messages ?? []) {
      expect(message.deliveries.map((d) => `${d.channel}:${d.status}`).sort()).toEqual([
        'email:delivered',
        'log:delivered',
        'slack:delivered',
        'webhook:delivered',
      ]);
    }
    expect(consumer.stats()).toMatchObject({ opened: 1, updated: 1, resolved: 1, failed: 0 });
  });

  it('a Slack 429 with Retry-After: 1, then success: delivered exactly once, a second later', async () => {
    const h = await harness();
    await h.start();
    slack.script.push({ status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } });
    const callsBefore = slack.calls.length;
    const [offset] = await h.send(driftEvent(h.model, 1, ['MedInc', 'AveRooms']));
    await until(async () => (await h.committed()) === (offset as bigint) + 1n, 'the event to be committed');
    const calls = slack.calls.slice(callsBefore);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(h.slackOf()).toHaveLength(1);
    const [alert] = await listAlerts(storage, { model: h.model });
    expect(alert?.messages[0]?.deliveries.find((d) => d.channel === 'slack')).toMatchObject({
      status: 'delivered',
      attempts: 2,
    });
  });

  it("one channel down holds back only its own messages: the others deliver at once; back up, it gets each once, in order, in its alert's thread", async () => {
    const h = await harness();
    const consumer = await h.start();
    const [quiet] = await h.send(driftEvent(h.model, 1));
    await until(async () => (await h.committed()) === (quiet as bigint) + 1n, 'the quiet event to be committed');
    mail.down = true;
    const offsets = await h.send(
      driftEvent(h.model, 2, ['MedInc', 'AveRooms'], { transition: true, previous_state: 'ok' }),
      driftEvent(h.model, 3, ['MedInc', 'AveRooms', 'HouseAge'], { consecutive_drift: 2, retrain_recommended: true }),
      driftEvent(h.model, 4, [], { transition: true, previous_state: 'drift' }),
      // A second alert opens while the first one's email is still held back.
      driftEvent(h.model, 5, ['Latitude'], { transition: true, previous_state: 'ok' }),
    );
    // Slack and the webhook do not wait for email: the whole story, in order, while it is down.
    await until(
      () => h.slackOf().length === 4 && h.hookOf().length === 4,
      'Slack and the webhook to get every message',
    );
    const posts = h.slackOf();
    expect(posts.map((p) => p.text.split(':')[0])).toEqual([
      '[WARNING] Drift alert opened',
      '[CRITICAL] Drift alert update',
      '[RESOLVED] Drift alert resolved',
      '[WARNING] Drift alert opened',
    ]);
    expect(posts[1]?.threadTs).toBe(posts[0]?.ts);
    expect(posts[2]?.threadTs).toBe(posts[0]?.ts);
    expect(posts[3]?.threadTs).toBeUndefined();
    expect(h.hookOf().map((d) => d.json.type)).toEqual([
      'driftline.alert.open',
      'driftline.alert.update',
      'driftline.alert.resolve',
      'driftline.alert.open',
    ]);
    // Nothing is committed past the message email still owes; its backlog shows in the stats.
    expect(h.mailOf()).toHaveLength(0);
    expect(consumer.stats().waitingByChannel).toMatchObject({ email: 4, slack: 0, webhook: 0, log: 0 });
    expect(await h.committed()).toBe(offsets[0]);

    mail.down = false;
    const last = offsets.at(-1) as bigint;
    await until(async () => (await h.committed()) === last + 1n, 'every event to be committed', 60_000);
    const mails = h.mailOf();
    expect(mails.map((m) => m.subject)).toEqual([
      expect.stringMatching(/^\[Driftline\] \[WARNING\] Drift alert opened/),
      expect.stringMatching(/^Re: /),
      expect.stringMatching(/^Re: /),
      expect.stringMatching(/^\[Driftline\] \[WARNING\] Drift alert opened/),
    ]);
    expect(mails[1]?.raw).toContain('Drift alert update');
    expect(mails[2]?.raw).toContain('Drift alert resolved');
    // The first alert's replies thread under its own opening, the second alert starts afresh.
    expect(mails[1]?.inReplyTo).toBe(mails[0]?.messageId);
    expect(mails[2]?.inReplyTo).toBe(mails[0]?.messageId);
    expect(mails[3]?.inReplyTo).toBeUndefined();
    // Each message went once to each channel: none was sent again.
    expect(h.slackOf()).toHaveLength(4);
    expect(h.hookOf().filter((d) => d.status === 200)).toHaveLength(4);
  });

  it('every channel down: consumption goes on until maxQueued events wait, then pauses; back up, each is delivered once', async () => {
    const h = await harness();
    slack.down = true;
    mail.down = true;
    hook.down = true;
    const consumer = await h.start({}, undefined, { maxQueued: 3 });
    const offsets = await h.send(
      driftEvent(h.model, 1, ['MedInc', 'AveRooms'], { transition: true, previous_state: 'ok' }),
      driftEvent(h.model, 2, ['MedInc', 'AveRooms', 'HouseAge'], { consecutive_drift: 2 }),
      driftEvent(h.model, 3, [], { transition: true, previous_state: 'drift' }),
      driftEvent(h.model, 4, ['Latitude'], { transition: true, previous_state: 'ok' }),
    );
    await until(() => slack.calls.filter((c) => c.channel === `#${h.model}`).length >= 2, 'Slack retries');
    await until(() => consumer.stats().paused, 'consumption to pause');
    expect(await h.committed()).toBe(offsets[0]);
    // The three that fit were decided while waiting (the log channel has them); the fourth waits in Kafka.
    expect(consumer.stats()).toMatchObject({ opened: 1, updated: 1, resolved: 1 });
    expect(h.slackOf()).toHaveLength(0);

    slack.down = false;
    mail.down = false;
    hook.down = false;
    const last = offsets.at(-1) as bigint;
    await until(async () => (await h.committed()) === last + 1n, 'every event to be committed', 60_000);
    expect(h.slackOf()).toHaveLength(4);
    expect(h.mailOf()).toHaveLength(4);
    expect(h.hookOf().filter((d) => d.status === 200)).toHaveLength(4);
    await until(() => !consumer.stats().paused, 'consumption to resume');
  });

  it('a restart mid-episode sends no second "opened"; events read again are not sent again; the resolution goes to the same thread', async () => {
    const h = await harness();
    const first = await h.start();
    const offsets = await h.send(
      driftEvent(h.model, 1, ['MedInc', 'AveRooms']),
      driftEvent(h.model, 2, ['MedInc', 'AveRooms']),
    );
    await until(async () => (await h.committed()) === (offsets[1] as bigint) + 1n, 'the opening to be committed');
    await first.stop();
    // Worse than a restart: the group is sent back to the start, as if nothing had been committed.
    const admin = await connectAdmin(kafka, connect);
    await admin.setOffsets({ groupId: h.groupId, topic: h.topic, partitions: [{ partition: 0, offset: '0' }] });
    await admin.disconnect();

    const second = await h.start();
    const [last] = await h.send(
      driftEvent(h.model, 3, ['MedInc', 'AveRooms']),
      driftEvent(h.model, 4, [], { transition: true, previous_state: 'drift' }),
    );
    await until(async () => (await h.committed()) === (last as bigint) + 2n, 'the resolution to be committed');
    const posts = h.slackOf();
    expect(posts.map((p) => p.text.split('\n')[0]?.split(':')[0])).toEqual([
      '[WARNING] Drift alert opened',
      '[RESOLVED] Drift alert resolved',
    ]);
    expect(posts[1]?.threadTs).toBe(posts[0]?.ts);
    const mails = h.mailOf();
    expect(mails).toHaveLength(2);
    expect(mails[1]?.inReplyTo).toBe(mails[0]?.messageId);
    expect(h.hookOf()).toHaveLength(2);
    expect(second.stats().resumed).toBeGreaterThanOrEqual(1);
    expect(second.stats().opened).toBe(0);
  });

  it("a retraining deploys v2: v1's open alert resolves in its thread naming v2, once per channel, across restarts; a deployment with nothing open is announced", async () => {
    const h = await harness();
    const deployment = (version: number, minute: number): ModelDeployment => ({
      model_name: h.model,
      model_version: version,
      action: 'promote',
      metrics: { rmse: 0.4987, mae: 0.35, r2: 0.81 },
      location: `models/${h.model}/${version}`,
      deployed_at: new Date(BASE + minute * MINUTE),
    });
    const first = await h.start();
    const offsets = await h.send(
      driftEvent(h.model, 1, ['MedInc', 'AveRooms']),
      driftEvent(h.model, 2, ['MedInc', 'AveRooms'], { consecutive_drift: 2 }),
    );
    await until(async () => (await h.committed()) === (offsets[1] as bigint) + 1n, 'the opening to be committed');
    // A restart between the opening and the deployment: the open alert and its threads are restored.
    await first.stop();
    const deployed = await h.deploy(deployment(2, 10));

    const second = await h.start();
    await until(
      async () => (await h.committed(h.deploymentsTopic)) === deployed + 1n,
      'the deployment to be committed',
      60_000,
    );
    const expectResolved = async () => {
      const posts = h.slackOf();
      expect(posts.map((p) => p.text.split('\n')[0])).toEqual([
        `[WARNING] Drift alert opened: ${h.model} v1`,
        `[RESOLVED] Drift alert resolved: ${h.model} v1 — retrained and deployed v2 (holdout RMSE 0.499)`,
      ]);
      expect(posts[1]?.threadTs).toBe(posts[0]?.ts);
      const mails = h.mailOf();
      expect(mails).toHaveLength(2);
      expect(mails[1]?.inReplyTo).toBe(mails[0]?.messageId);
      expect(mails[1]?.raw).toContain('retrained and deployed v2');
      const hooks = h.hookOf();
      expect(hooks.map((d) => d.json.type)).toEqual(['driftline.alert.open', 'driftline.alert.resolve']);
      expect(hooks[1]?.json.alert).toMatchObject({ version: 1, deployment: { version: 2, action: 'promote' } });
      expect(hooks.every((d) => d.verified && d.status === 200)).toBe(true);
      const [alert, ...others] = await listAlerts(storage, { model: h.model });
      expect(others).toEqual([]);
      expect(alert).toMatchObject({ model_version: 1, status: 'resolved' });
      expect(alert?.messages.map((m) => m.kind)).toEqual(['open', 'resolve']);
      expect(alert?.messages[1]?.deliveries.map((d) => `${d.channel}:${d.status}`).sort()).toEqual([
        'email:delivered',
        'log:delivered',
        'slack:delivered',
        'webhook:delivered',
      ]);
    };
    await expectResolved();
    expect(second.stats()).toMatchObject({ deploymentsRead: 1, resolved: 1, deployedNotices: 0, opened: 0 });
    await second.stop();

    // Both topics read again from the start: nothing is sent twice, nothing reopens.
    const admin = await connectAdmin(kafka, connect);
    for (const topic of [h.topic, h.deploymentsTopic]) {
      await admin.setOffsets({ groupId: h.groupId, topic, partitions: [{ partition: 0, offset: '0' }] });
    }
    await admin.disconnect();
    const third = await h.start();
    await until(
      async () =>
        (await h.committed(h.deploymentsTopic)) === deployed + 1n &&
        (await h.committed()) === (offsets[1] as bigint) + 1n &&
        third.stats().deploymentsRead === 1,
      'everything read again to be committed',
      60_000,
    );
    await expectResolved();
    expect(third.stats()).toMatchObject({ opened: 0, resolved: 0, deployedNotices: 0 });
    expect(third.stats().resumed).toBeGreaterThanOrEqual(2);

    // v2 deployed again later with no alert open elsewhere: one `deployed` notice, no thread.
    const again = await h.deploy(deployment(2, 20));
    await until(async () => (await h.committed(h.deploymentsTopic)) === again + 1n, 'the notice to be committed');
    const notice = h.slackOf().at(-1);
    expect(h.slackOf()).toHaveLength(3);
    expect(notice?.text.split('\n')[0]).toBe(`[DEPLOYED] ${h.model} retrained and deployed v2 (holdout RMSE 0.499)`);
    expect(notice?.threadTs).toBeUndefined();
    expect(h.mailOf().at(-1)?.inReplyTo).toBeUndefined();
    expect(
      h
        .hookOf()
        .map((d) => d.json.type)
        .at(-1),
    ).toBe('driftline.alert.deployed');
    expect(third.stats()).toMatchObject({ deployedNotices: 1 });
    const listed = await listAlerts(storage, { model: h.model });
    expect(listed.map((a) => `${a.model_version}:${a.status}`).sort()).toEqual(['1:resolved', '2:deployed']);
  });

  it('a channel still failing after ALERT_RETRY_BUDGET_SECONDS: recorded as failed, dead-lettered with the reason, the others delivered, committed; no secret in logs, rows or dead letters', async () => {
    const h = await harness();
    const lettersFrom = new Map(
      (
        await (async () => {
          const a = await connectAdmin(kafka, connect);
          try {
            return await a.fetchTopicOffsets(TOPICS.deadLetter);
          } finally {
            await a.disconnect();
          }
        })()
      ).map((o) => [o.partition, BigInt(o.high)]),
    );
    hook.down = true;
    const consumer = await h.start({ ALERT_RETRY_BUDGET_SECONDS: '2' });
    const [offset] = await h.send(driftEvent(h.model, 1, ['MedInc', 'AveRooms']));
    await until(async () => (await h.committed()) === (offset as bigint) + 1n, 'the event to be committed', 60_000);
    expect(h.slackOf()).toHaveLength(1);
    expect(h.mailOf()).toHaveLength(1);
    // The counts say which channel is failing (the metrics' `channel` label).
    const stats = consumer.stats();
    expect(stats.failedByChannel).toMatchObject({ webhook: 1, slack: 0, email: 0 });
    expect(stats.deliveredByChannel).toMatchObject({ webhook: 0, slack: 1, email: 1 });
    expect(stats.retriesByChannel.webhook).toBeGreaterThanOrEqual(1);
    expect(stats.retriesByChannel.slack).toBe(0);
    const [alert] = await listAlerts(storage, { model: h.model });
    const webhook = alert?.messages[0]?.deliveries.find((d) => d.channel === 'webhook');
    expect(webhook?.status).toBe('failed');
    expect(webhook?.error).toContain('webhook: HTTP 503');
    const letters = await readTopic(kafka, TOPICS.deadLetter, (m) => m.key?.toString() === h.model, lettersFrom);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.headers?.['dl-error-code']?.toString()).toBe('DL_ALERT_DELIVERY_FAILED');
    expect(letters[0]?.headers?.['dl-reason']?.toString()).toContain('ALERT_RETRY_BUDGET_SECONDS');
    expect(letters[0]?.headers?.['dl-topic']?.toString()).toBe(h.topic);

    const rows = JSON.stringify(await storage.query(sql`SELECT * FROM alerts WHERE model_name = ${h.model}`.text));
    for (const secret of [TOKEN, SECRET, SMTP_PASSWORD]) {
      expect(logs.text).not.toContain(secret);
      expect(rows).not.toContain(secret);
      for (const letter of letters) expect(JSON.stringify(letter.headers)).not.toContain(secret);
    }
  });
});
