/**
 * The alert consumer's Kafka adapter, on the shared consumer lifecycle: each drift event goes
 * through its model version's alert lifecycle (lifecycle.ts), each model deployment through
 * decideDeployment (resolving the other versions' open alerts, or a `deployed` notice), and the
 * decided messages to every channel. The invariant: a decision is inserted into `alerts` before any channel is tried, each
 * delivery is recorded right after it, and an offset is committed only past events whose every
 * delivery is settled (delivered, or failed and dead-lettered after ALERT_RETRY_BUDGET_SECONDS);
 * an event read again reuses its recorded decision and skips delivered channels. Decisions are
 * made in event order; each channel then delivers in that order on a lane of its own, so a channel
 * waiting for a retry holds back only its own later messages. README
 * ("Alert consumer") has the retry rules and the one crash window left.
 */
import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DriftlineError, describeError, ErrorCode } from '../../core/errors.ts';
import type { AvroCodec } from '../../core/kafka/avro.ts';
import {
  connectAdmin,
  createProducer,
  ensureTopics,
  sendInChunks,
  startNewGroupAtEnd,
} from '../../core/kafka/client.ts';
import {
  type CommitEntry,
  ConsumerLifecycle,
  type LifecycleTelemetry,
  type Processor,
} from '../../core/kafka/consumer-lifecycle.ts';
import { type DeadLetter, deadLetterMessage } from '../../core/kafka/dead-letter.ts';
import type { Logger } from '../../core/logger.ts';
import type { DriftEvent, ModelDeployment } from '../../core/schemas.ts';
import type { Storage } from '../../core/storage/index.ts';
import { TOPICS } from '../../core/topics.ts';
import { type AlertChannel, type ChannelName, type Delivered, scrub } from './channels/channel.ts';
import {
  type AlertInput,
  type AlertTrack,
  type DeploymentInput,
  decideAlert,
  decideDeployment,
  deploymentEventIdOf,
} from './lifecycle.ts';
import { type AlertMessage, buildAlertMessage, buildDeploymentMessage } from './message.ts';
import {
  type AlertRow,
  alertThreads,
  DECISION_CHANNEL,
  decisionRow,
  deliveryRow,
  deploymentRows,
  eventRows,
  openAlertVersions,
  restoreVersion,
} from './store.ts';

export interface AlertSettings {
  /** ALERT_UPDATE_INTERVAL_SECONDS in ms. */
  updateIntervalMs: number;
  /** ALERT_RETRY_BUDGET_SECONDS in ms. */
  retryBudgetMs: number;
  dashboardUrl?: string | undefined;
}

export interface AlertConsumerOptions {
  kafka: Kafka;
  codec: AvroCodec;
  storage: Storage;
  logger: Logger;
  connect: { brokers: readonly string[]; connectTimeoutMs: number; partitions: number };
  channels: readonly AlertChannel[];
  settings: AlertSettings;
  /** Secrets scrubbed from any error text recorded or dead-lettered (tokens, passwords, URLs with keys). */
  secrets?: readonly string[];
  groupId?: string;
  /** Topic drift events are read from (default `drift-events`). */
  topic?: string;
  /** Topic model deployments are read from (default `model-deployments`). */
  deploymentsTopic?: string;
  retry?: { initialMs: number; maxMs: number };
  tickMs?: number;
  now?: () => number;
  /**
   * Where a group with no committed offset starts: `end` (default), so a first deployment does
   * not alert on the history of drift-events; `beginning` reads it all.
   */
  startAt?: 'end' | 'beginning';
  /** Events held while a channel waits before consumption pauses (default 500). */
  maxQueued?: number;
}

export interface AlertStats {
  eventsRead: number;
  /** ModelDeployments read (each resolves the other versions' open alerts, or sends a `deployed` notice). */
  deploymentsRead: number;
  /** `deployed` notices sent (a deployment with no alert of another version open). */
  deployedNotices: number;
  /** Events that changed nothing (no alert to open, update or resolve; stale; revisions). */
  eventsQuiet: number;
  opened: number;
  updated: number;
  resolved: number;
  delivered: number;
  failed: number;
  retries: number;
  /** The same three per configured channel (slack, email, webhook): which one is failing. */
  deliveredByChannel: Record<string, number>;
  failedByChannel: Record<string, number>;
  retriesByChannel: Record<string, number>;
  /** Per channel, the messages decided and not yet settled there: its backlog while it waits for a retry. */
  waitingByChannel: Record<string, number>;
  /** Deliveries resumed or skipped because `alerts` already had them (after a restart). */
  resumed: number;
  deadLettered: number;
  commits: number;
  failedFlushes: number;
  paused: boolean;
}

export interface AlertConsumer {
  readonly groupId: string;
  /** Lag, messages read and flush durations, for the metrics server. */
  readonly telemetry: LifecycleTelemetry;
  stats(): AlertStats;
  flush(): Promise<void>;
  stop(): Promise<void>;
  abort(): Promise<void>;
}

interface Attempt {
  count: number;
  nextAtMs: number;
  lastError: DriftlineError | undefined;
}

interface Plan {
  decision: AlertRow;
  message: AlertMessage;
  /** Channels whose outcome is recorded. */
  settled: Set<string>;
  /** Accepted by a channel, row not yet inserted (an insert failed): only the insert is retried. */
  unrecorded: Map<ChannelName, AlertRow>;
  attempts: Map<ChannelName, Attempt>;
}

type Payload =
  | { type: 'drift'; event: DriftEvent }
  | { type: 'deployment'; deployment: ModelDeployment; input: DeploymentInput };

/** One message to deliver, with the model version state whose threads it uses. */
interface Sub {
  plan: Plan;
  state: VersionState;
}

interface Item {
  topic: string;
  partition: number;
  offset: bigint;
  message: KafkaMessage;
  payload: Payload;
  /** null: not decided yet. A drift event sends at most one message, a deployment one per alert it resolves. */
  plans: Sub[] | null;
  done: boolean;
}

interface VersionState {
  track: AlertTrack;
  /**
   * Per alert, per channel: its thread (the first message delivered there). A promise, so that
   * lanes asking at once after a restart share one read of `alerts` and one map.
   */
  threads: Map<string, Promise<Map<ChannelName, string>>>;
}

const DEFAULT_GROUP = 'driftline-alert';
/**
 * Events held in memory at most while a channel waits; beyond, consumption pauses until the
 * channel delivers or gives up (and a message that does not fit is read again later).
 */
const DEFAULT_MAX_QUEUED = 500;

function inputOf(event: DriftEvent): AlertInput {
  return {
    eventId: event.event_id,
    model: event.model_name,
    version: event.model_version,
    windowEndMs: event.window_end.getTime(),
    evaluatedAtMs: event.evaluated_at.getTime(),
    revision: event.revision ?? 0,
    transition: event.transition,
    state: event.state,
    driftedFeatures: event.drifted_features,
    predictionDrifted: event.prediction_drifted,
    shareOfDriftedColumns: event.share_of_drifted_columns,
    driftShare: event.drift_share,
    retrainRecommended: event.retrain_recommended,
    performanceVerdict: event.performance.verdict,
  };
}

/** Backoff without Retry-After: 1 s doubling to 60 s. */
export function backoffMs(attempt: number): number {
  return Math.min(60_000, 1_000 * 2 ** Math.max(0, attempt - 1));
}

export async function startAlertConsumer(options: AlertConsumerOptions): Promise<AlertConsumer> {
  const log = options.logger.child({ component: 'alert' });
  const groupId = options.groupId ?? DEFAULT_GROUP;
  const topic = options.topic ?? TOPICS.driftEvents;
  const deploymentsTopic = options.deploymentsTopic ?? TOPICS.modelDeployments;
  const now = options.now ?? Date.now;
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  const { kafka, codec, storage, settings, channels } = options;
  const secrets = options.secrets ?? [];

  const admin = await connectAdmin(kafka, options.connect);
  await ensureTopics(
    admin,
    // One partition for deployments, as core/deployments.ts creates it: a model's stay in order.
    [{ topic }, { topic: deploymentsTopic, partitions: 1 }, { topic: TOPICS.deadLetter }],
    options.connect.partitions,
  );
  for (const t of [topic, deploymentsTopic]) {
    if ((options.startAt ?? 'end') === 'end' && (await startNewGroupAtEnd(admin, groupId, t))) {
      log.info(
        { groupId, topic: t },
        'new alert consumer group: starting at the end of the topic (earlier events are not alerted)',
      );
    }
  }
  const producer: Producer = createProducer(kafka);
  await producer.connect();
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 30_000 });
  await consumer.connect();

  const stats = {
    eventsRead: 0,
    deploymentsRead: 0,
    deployedNotices: 0,
    eventsQuiet: 0,
    opened: 0,
    updated: 0,
    resolved: 0,
    resumed: 0,
    deadLettered: 0,
  };
  // Deliveries, failures for good and retries per channel (the totals are their sums). Every
  // configured channel from the start, at 0: a metric's labels are fixed when it is made.
  const perChannel = () => Object.fromEntries(channels.map((c) => [c.name, 0])) as Record<string, number>;
  const byChannel = { delivered: perChannel(), failed: perChannel(), retries: perChannel() };
  const count = (record: Record<string, number>, channel: string) => {
    record[channel] = (record[channel] ?? 0) + 1;
  };
  const total = (record: Record<string, number>) => Object.values(record).reduce((sum, n) => sum + n, 0);
  const versions = new Map<string, VersionState>();
  let queue: Item[] = [];
  /** Per topic and partition (partitionKey): last message taken + 1. */
  const nextOffsets = new Map<string, bigint>();
  const committedOffsets = new Map<string, bigint>();
  const partitionKey = (t: string, partition: number) => `${t}\u0000${partition}`;
  const partitionOf = (key: string) => {
    const [t = '', p = '0'] = key.split('\u0000');
    return { topic: t, partition: Number(p) };
  };
  let deadLetters: DeadLetter[] = [];
  const keyOf = (model: string, version: number) => `${model}\u0000${version}`;

  async function versionState(model: string, version: number): Promise<VersionState> {
    const key = keyOf(model, version);
    let state = versions.get(key);
    if (!state) {
      const restored = await restoreVersion(storage, model, version);
      state = { track: restored.track, threads: new Map() };
      versions.set(key, state);
      if (restored.track.open)
        log.info({ model, version, alertId: restored.track.open.alertId }, 'open alert restored');
    }
    return state;
  }

  /** The decision for an item: the one recorded before (a re-read), or a new one, recorded now. */
  async function planFor(event: DriftEvent, state: VersionState): Promise<Plan | null> {
    const recorded = await eventRows(storage, event.model_name, event.model_version, event.event_id);
    const decision = recorded.find((r) => r.channel === DECISION_CHANNEL);
    if (decision) {
      const settled = new Set(recorded.filter((r) => r.channel !== DECISION_CHANNEL).map((r) => r.channel));
      stats.resumed++;
      log.info(
        { eventId: event.event_id, alertId: decision.alert_id, kind: decision.kind, settled: [...settled] },
        'drift event read again: its recorded decision is resumed, delivered channels are skipped',
      );
      return {
        decision,
        message: JSON.parse(decision.payload) as AlertMessage,
        settled,
        unrecorded: new Map(),
        attempts: new Map(),
      };
    }
    const step = decideAlert(state.track, inputOf(event), { updateIntervalMs: settings.updateIntervalMs });
    if (!step.decision) {
      state.track = step.track;
      stats.eventsQuiet++;
      if (log.isLevelEnabled('debug')) {
        log.debug({ eventId: event.event_id, state: event.state, ignored: step.ignored }, 'drift event: no alert');
      }
      return null;
    }
    const message = buildAlertMessage(step.decision, event, { dashboardUrl: settings.dashboardUrl });
    const row = decisionRow(step.decision, message, step.track.open, event.revision ?? 0, now());
    // Durable before anything is sent: a restart finds it and never decides this event again.
    await storage.insert('alerts', [row]);
    state.track = step.track;
    if (step.decision.kind === 'open') {
      state.threads.set(row.alert_id, Promise.resolve(new Map()));
      stats.opened++;
    } else if (step.decision.kind === 'update') stats.updated++;
    else stats.resolved++;
    log.info(
      {
        alertId: row.alert_id,
        kind: row.kind,
        severity: row.severity,
        model: event.model_name,
        version: event.model_version,
        reasons: step.decision.reasons,
      },
      `alert ${row.kind}`,
    );
    return { decision: row, message, settled: new Set(), unrecorded: new Map(), attempts: new Map() };
  }

  /**
   * The messages of a deployment: those recorded before (a re-read: they were all inserted at
   * once), or new ones — a resolution for each open alert of the model's other versions, or one
   * `deployed` notice — all recorded before anything is sent.
   */
  async function planDeployment(deployment: ModelDeployment, input: DeploymentInput): Promise<Sub[]> {
    const recorded = await deploymentRows(storage, input.model, input.eventId);
    const decisions = recorded.filter((r) => r.channel === DECISION_CHANNEL);
    if (decisions.length > 0) {
      const subs: Sub[] = [];
      for (const decision of decisions) {
        const settled = new Set(
          recorded
            .filter((r) => r.channel !== DECISION_CHANNEL && r.alert_id === decision.alert_id)
            .map((r) => r.channel),
        );
        stats.resumed++;
        log.info(
          { eventId: input.eventId, alertId: decision.alert_id, kind: decision.kind, settled: [...settled] },
          'deployment read again: its recorded decisions are resumed, delivered channels are skipped',
        );
        subs.push({
          plan: {
            decision,
            message: JSON.parse(decision.payload) as AlertMessage,
            settled,
            unrecorded: new Map(),
            attempts: new Map(),
          },
          state: await versionState(input.model, decision.model_version),
        });
      }
      return subs;
    }
    const tracks = new Map<number, AlertTrack>();
    const states = new Map<number, VersionState>();
    for (const version of await openAlertVersions(storage, input.model)) {
      const state = await versionState(input.model, version);
      states.set(version, state);
      tracks.set(version, state.track);
    }
    const steps = decideDeployment(tracks, input);
    const planned = steps.map((step) => {
      const message = buildDeploymentMessage(step.decision, step.version, input.eventId, deployment, {
        dashboardUrl: settings.dashboardUrl,
      });
      return { step, message, row: decisionRow(step.decision, message, null, 0, now()) };
    });
    // Durable before anything is sent, in one insert: a re-read finds all of them or none.
    await storage.insert(
      'alerts',
      planned.map((p) => p.row),
    );
    const subs: Sub[] = [];
    for (const { step, message, row } of planned) {
      const state = states.get(step.version) ?? (await versionState(input.model, step.version));
      if (step.track) state.track = step.track;
      if (step.decision.kind === 'resolve') stats.resolved++;
      else stats.deployedNotices++;
      log.info(
        {
          alertId: row.alert_id,
          kind: row.kind,
          model: input.model,
          version: step.version,
          deployed: input.version,
          action: input.action,
        },
        step.decision.kind === 'resolve' ? 'alert resolve (deployment)' : 'deployment notice',
      );
      subs.push({
        plan: { decision: row, message, settled: new Set(), unrecorded: new Map(), attempts: new Map() },
        state,
      });
    }
    return subs;
  }

  /** An alert's threads: in memory since its opening, or read from `alerts` after a restart. */
  async function threadsOf(state: VersionState, plan: Plan): Promise<Map<ChannelName, string>> {
    const { alert_id: alertId, model_name: model, model_version: version } = plan.decision;
    let threads = state.threads.get(alertId);
    if (!threads) {
      threads = alertThreads(storage, model, version, alertId);
      state.threads.set(alertId, threads);
      // A failed read is read again by the next attempt.
      threads.catch(() => state.threads.delete(alertId));
    }
    return threads;
  }

  /**
   * Tries one channel of one message, if its retry time came. True when that channel is settled
   * (delivered, or failed for good and dead-lettered); false while it waits for a retry.
   */
  async function deliverTo(channel: AlertChannel, item: Item, plan: Plan, state: VersionState): Promise<boolean> {
    if (plan.settled.has(channel.name)) return true;
    const pendingRow = plan.unrecorded.get(channel.name);
    if (pendingRow) {
      await storage.insert('alerts', [pendingRow]);
      plan.unrecorded.delete(channel.name);
      plan.settled.add(channel.name);
      return true;
    }
    const attempt = plan.attempts.get(channel.name) ?? { count: 0, nextAtMs: 0, lastError: undefined };
    plan.attempts.set(channel.name, attempt);
    if (attempt.nextAtMs > now()) return false;
    // A deployment notice belongs to no alert and no thread; an opening starts its alert's threads.
    const threads = plan.message.kind === 'deployed' ? undefined : await threadsOf(state, plan);
    const thread = plan.message.kind === 'open' ? undefined : threads?.get(channel.name);
    attempt.count++;
    if (attempt.count > 1) count(byChannel.retries, channel.name);
    let delivered: Delivered;
    try {
      delivered = await channel.send(plan.message, thread);
    } catch (error) {
      const failure =
        error instanceof DriftlineError && error.code === ErrorCode.ALERT_DELIVERY_FAILED
          ? error
          : new DriftlineError(
              ErrorCode.ALERT_DELIVERY_FAILED,
              `${channel.name}: ${scrub(describeError(error), secrets)}`,
              { retriable: true },
            );
      attempt.lastError = failure;
      const elapsed = now() - plan.decision.recorded_at_ms;
      if (failure.retriable && elapsed < settings.retryBudgetMs) {
        const after = failure.details.retryAfterMs;
        attempt.nextAtMs = now() + (typeof after === 'number' ? after : backoffMs(attempt.count));
        log.warn(
          {
            alertId: plan.decision.alert_id,
            channel: channel.name,
            attempt: attempt.count,
            retryAt: new Date(attempt.nextAtMs),
            reason: failure.message,
          },
          'alert delivery failed; will retry (later messages on this channel wait behind it)',
        );
        return false;
      }
      await giveUp(item, plan, channel.name, attempt, failure, elapsed);
      return true;
    }
    // The thread is the alert's first message that got through on this channel (the opening
    // one, unless it failed there). A webhook has no threads.
    if (threads && delivered.messageId !== '' && channel.name !== 'webhook' && !threads.has(channel.name)) {
      threads.set(channel.name, delivered.messageId);
    }
    const row = deliveryRow(
      plan.decision,
      {
        channel: channel.name,
        status: 'delivered',
        messageId: delivered.messageId,
        thread: thread ?? '',
        attempts: attempt.count,
        error: '',
      },
      now(),
    );
    count(byChannel.delivered, channel.name);
    plan.unrecorded.set(channel.name, row);
    // A ClickHouse failure here fails the flush; the retry inserts the row without sending again.
    await storage.insert('alerts', [row]);
    plan.unrecorded.delete(channel.name);
    plan.settled.add(channel.name);
    return true;
  }

  /**
   * One channel's lane: its messages in event order, up to the first that must wait. A channel
   * that is down or rate-limited holds back only its own later messages (its threads and order
   * stay right), never another channel's.
   */
  async function runLane(channel: AlertChannel): Promise<void> {
    for (const item of queue) {
      if (item.done) continue;
      for (const { plan, state } of item.plans ?? []) {
        if (!(await deliverTo(channel, item, plan, state))) return;
      }
    }
  }

  /** Dead letter first, then the `failed` row: a crash in between repeats the dead letter, never loses it. */
  async function giveUp(
    item: Item,
    plan: Plan,
    channel: ChannelName,
    attempt: Attempt,
    failure: DriftlineError,
    elapsedMs: number,
  ): Promise<void> {
    const why = failure.retriable
      ? `still failing after ${attempt.count} attempts in ${Math.round(elapsedMs / 1000)} s (ALERT_RETRY_BUDGET_SECONDS)`
      : 'refused';
    const reason = scrub(
      `alert ${plan.decision.alert_id} (${plan.decision.kind}) to ${channel}: ${failure.message}; ${why}`,
      secrets,
    );
    const letter: DeadLetter = {
      message: item.message,
      topic: item.topic,
      partition: item.partition,
      reason,
      code: ErrorCode.ALERT_DELIVERY_FAILED,
    };
    deadLetters.push(letter);
    await flushDeadLetters();
    await storage.insert('alerts', [
      deliveryRow(
        plan.decision,
        { channel, status: 'failed', messageId: '', thread: '', attempts: attempt.count, error: reason },
        now(),
      ),
    ]);
    plan.settled.add(channel);
    count(byChannel.failed, channel);
    log.error({ alertId: plan.decision.alert_id, channel, reason }, 'alert delivery failed for good; dead-lettered');
  }

  async function flushDeadLetters(): Promise<void> {
    if (deadLetters.length === 0) return;
    // Taken before sending: lanes give up concurrently, and a letter added meanwhile waits its turn.
    const letters = deadLetters;
    deadLetters = [];
    try {
      await sendInChunks(producer, TOPICS.deadLetter, letters.map(deadLetterMessage));
    } catch (error) {
      deadLetters = [...letters, ...deadLetters];
      throw error;
    }
    stats.deadLettered += letters.length;
  }

  async function flush(): Promise<CommitEntry[]> {
    await flushDeadLetters();
    // Decisions in event order (they need only ClickHouse), ahead of the deliveries.
    for (const item of queue) {
      if (item.plans) continue;
      const { payload } = item;
      if (payload.type === 'drift') {
        const state = await versionState(payload.event.model_name, payload.event.model_version);
        const plan = await planFor(payload.event, state);
        item.plans = plan ? [{ plan, state }] : [];
      } else {
        item.plans = await planDeployment(payload.deployment, payload.input);
      }
    }
    const lanes = await Promise.allSettled(channels.map((channel) => runLane(channel)));
    const failed = lanes.find((lane): lane is PromiseRejectedResult => lane.status === 'rejected');
    if (failed) throw failed.reason;
    for (const item of queue) {
      if (item.done) continue;
      item.done = (item.plans ?? []).every(({ plan }) => channels.every((c) => plan.settled.has(c.name)));
      if (!item.done) continue;
      // A settled resolution closes its alert's threads for good.
      for (const { plan, state } of item.plans ?? []) {
        if (plan.decision.kind === 'resolve') state.threads.delete(plan.decision.alert_id);
      }
    }
    // Commit up to the first event not settled, per topic and partition.
    const firstOpen = new Map<string, bigint>();
    for (const item of queue) {
      const key = partitionKey(item.topic, item.partition);
      if (!item.done && !firstOpen.has(key)) firstOpen.set(key, item.offset);
    }
    queue = queue.filter((item) => !item.done);
    if (queue.length >= maxQueued) {
      // Full behind a waiting channel: pause consumption rather than read and drop messages again.
      throw new DriftlineError(
        ErrorCode.ALERT_DELIVERY_FAILED,
        `${queue.length} alert events wait for ${waitingChannels()}`,
        {
          retriable: true,
        },
      );
    }
    const commits: CommitEntry[] = [];
    for (const [key, next] of nextOffsets) {
      const offset = firstOpen.get(key) ?? next;
      if (committedOffsets.get(key) !== offset) commits.push({ ...partitionOf(key), offset: String(offset) });
    }
    return commits;
  }

  function waitingByChannel(): Record<string, number> {
    const waiting = perChannel();
    for (const item of queue) {
      for (const { plan } of item.plans ?? []) {
        for (const channel of channels) if (!plan.settled.has(channel.name)) count(waiting, channel.name);
      }
    }
    return waiting;
  }

  /** The channels holding messages back, with their last errors (for the log). */
  function waitingChannels(): string {
    const waiting = new Map<string, string>();
    for (const item of queue) {
      for (const { plan } of item.plans ?? []) {
        for (const [name, attempt] of plan.attempts) {
          if (!plan.settled.has(name) && !waiting.has(name)) waiting.set(name, attempt.lastError?.message ?? 'pending');
        }
      }
    }
    return [...waiting].map(([name, error]) => `${name} (${error})`).join(', ') || 'their decisions';
  }

  async function handle(from: string, partition: number, message: KafkaMessage): Promise<undefined | { seek: bigint }> {
    const offset = BigInt(message.offset);
    if (queue.length >= maxQueued) return { seek: offset };
    if (!message.value) throw new DriftlineError(ErrorCode.DECODE_FAILED, 'message has no value');
    const at = { topic: from, partition, offset: message.offset };
    // A registry outage throws a retriable error: the lifecycle reads this message again.
    let payload: Payload;
    if (from === deploymentsTopic) {
      const deployment = await codec.decode<ModelDeployment>(message.value, at);
      const fields = {
        model: deployment.model_name,
        version: deployment.model_version,
        action: deployment.action,
        deployedAtMs: deployment.deployed_at.getTime(),
      };
      payload = { type: 'deployment', deployment, input: { eventId: deploymentEventIdOf(fields), ...fields } };
      stats.deploymentsRead++;
    } else {
      payload = { type: 'drift', event: await codec.decode<DriftEvent>(message.value, at) };
      stats.eventsRead++;
    }
    queue.push({ topic: from, partition, offset, message, payload, plans: null, done: false });
    nextOffsets.set(partitionKey(from, partition), offset + 1n);
    return undefined;
  }

  const processor: Processor = {
    handle: (from, partition, message) => handle(from, partition, message),
    reject(from, partition, message, error) {
      log.warn({ err: error, topic: from, partition, offset: message.offset }, 'message refused; dead-lettered');
      deadLetters.push({
        message,
        topic: from,
        partition,
        reason: describeError(error),
        code: error instanceof DriftlineError ? error.code : ErrorCode.DECODE_FAILED,
      });
      nextOffsets.set(partitionKey(from, partition), BigInt(message.offset) + 1n);
    },
    flush: () => flush(),
    committed(entries) {
      for (const entry of entries)
        committedOffsets.set(partitionKey(entry.topic, entry.partition), BigInt(entry.offset));
    },
    due: () =>
      queue.length > 0 || deadLetters.length > 0 || [...nextOffsets].some(([k, o]) => committedOffsets.get(k) !== o),
    async assigned() {
      // Every partition is read again from its committed offset: what is uncommitted is dropped
      // here and found again (decisions and deliveries in `alerts`, threads restored).
      queue = [];
      nextOffsets.clear();
      committedOffsets.clear();
      versions.clear();
    },
  };

  const lifecycle = new ConsumerLifecycle({
    consumer,
    processor,
    topics: [topic, deploymentsTopic],
    logger: log,
    ...(options.retry ? { retry: options.retry } : {}),
    tickMs: Math.max(10, options.tickMs ?? 250),
    offsets: { admin, groupId },
    onClose: async () => {
      await producer.disconnect();
      await admin.disconnect();
      for (const channel of channels) await channel.close?.().catch(() => {});
    },
  });
  await lifecycle.start();
  log.info({ groupId, topic, deploymentsTopic, channels: channels.map((c) => c.name) }, 'alert consumer started');

  return {
    groupId,
    telemetry: lifecycle,
    stats: () => {
      const life = lifecycle.stats();
      return {
        ...stats,
        delivered: total(byChannel.delivered),
        failed: total(byChannel.failed),
        retries: total(byChannel.retries),
        deliveredByChannel: { ...byChannel.delivered },
        failedByChannel: { ...byChannel.failed },
        retriesByChannel: { ...byChannel.retries },
        waitingByChannel: waitingByChannel(),
        commits: life.commits,
        failedFlushes: life.failedFlushes,
        paused: life.paused,
      };
    },
    flush: () => lifecycle.flush(),
    stop: () => lifecycle.stop(),
    abort: () => lifecycle.abort(),
  };
}
