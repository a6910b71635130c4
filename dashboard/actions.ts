/**
 * What the dashboard's buttons do, through the code the commands use: the retraining cycle
 * (`consumers/retrain`, as `driftline retrain`), a registry rollback announced on
 * `model-deployments` (as `driftline models rollback`), and the test alert of `driftline alert test`.
 */

import { channelsFromConfig } from '../consumers/alert/channels/index.ts';
import { sendTestAlerts, type TestResult } from '../consumers/alert/test-alert.ts';
import type { Retrainer } from '../consumers/retrain/cycle.ts';
import { openRetrainer } from '../consumers/retrain/main.ts';
import type { Config } from '../core/config.ts';
import { publishDeployment } from '../core/deployments.ts';
import type { Logger } from '../core/logger.ts';
import type { Storage } from '../core/storage/index.ts';
import type { ModelRegistry } from '../model/registry.ts';
import type { Runtime } from '../platform/runtime.ts';

export interface DashboardActions {
  /** Starts one manual retraining cycle; its outcome lands in `retrain_runs` (the page shows it live). */
  retrain(model: string, reason: string): Promise<{ started: true }>;
  /** The previous champion becomes champion again and is announced to the predict services. */
  rollback(model: string): Promise<{ champion: number; from: number | null }>;
  /** One test message through every configured alert channel. */
  testAlert(): Promise<TestResult[]>;
  /** Waits for retraining cycles still running. */
  close(): Promise<void>;
}

export interface ActionDeps {
  config: Readonly<Config>;
  logger: Logger;
  storage: Storage;
  registry: ModelRegistry;
  /** The Kafka client and codec, started on the first action that needs them. */
  runtime: () => Promise<Runtime>;
}

export function createActions(deps: ActionDeps): DashboardActions {
  const { config, logger, storage, registry } = deps;
  let retrainer: Promise<Retrainer> | undefined;
  const running = new Set<Promise<unknown>>();
  return {
    async retrain(model, reason) {
      retrainer ??= deps
        .runtime()
        .then(async (runtime) => (await openRetrainer(config, logger, runtime, { storage })).retrainer);
      const cycle = await retrainer;
      // A cycle trains for a while: it runs on after the answer; the guardrails (one training per
      // model, labels) are the cycle's, and every outcome, a refusal too, is a retrain_runs row.
      const run = cycle
        .run({ kind: 'manual', model, eventId: '', modelVersion: 0, reason, summary: {} })
        .catch((error: unknown) => logger.error({ err: error, model }, 'dashboard retraining failed'))
        .finally(() => running.delete(run));
      running.add(run);
      return { started: true };
    },
    async rollback(model) {
      const pointer = await registry.rollback(model);
      const champion = pointer.champion as number;
      const { metrics } = await registry.readVersion(model, champion);
      const runtime = await deps.runtime();
      await publishDeployment(
        runtime.kafka,
        runtime.codec,
        {
          model_name: model,
          model_version: champion,
          action: 'rollback',
          metrics: { rmse: metrics.rmse, mae: metrics.mae, r2: metrics.r2 },
          location: registry.location(model, champion),
          deployed_at: new Date(),
        },
        runtime.connect,
      );
      return { champion, from: pointer.history.at(-1)?.from ?? null };
    },
    async testAlert() {
      const channels = channelsFromConfig(config.alerting, { logger, out: null });
      return sendTestAlerts(channels, { dashboardUrl: config.alerting.dashboardUrl });
    },
    async close() {
      await Promise.allSettled([...running]);
    },
  };
}
