import { parseArgs } from 'node:util';
import type { RetrainTrigger } from '../consumers/retrain/decision.ts';
import { openRetrainer } from '../consumers/retrain/main.ts';
import { startRuntime } from '../platform/runtime.ts';
import { type Command, usageError } from './command.ts';
import { formatTable } from './table.ts';

export interface RetrainArgs {
  model: string;
  reason: string;
  driftEvent: string;
  json: boolean;
}

export function parseRetrainArgs(args: readonly string[]): RetrainArgs {
  let values: { model?: string; reason?: string; 'drift-event'?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        model: { type: 'string' },
        reason: { type: 'string' },
        'drift-event': { type: 'string' },
        json: { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  if (values.model === undefined) throw usageError('retrain needs --model M');
  return {
    model: values.model,
    reason: values.reason ?? 'manual',
    driftEvent: values['drift-event'] ?? '',
    json: values.json === true,
  };
}

/**
 * `driftline retrain`: one retraining cycle now, the same one the retrain consumer runs (the
 * cooldown skipped, the other guardrails kept); with RETRAIN_MODE=airflow it starts the DAG run.
 * Exit 0 when the cycle ran (promoted, rejected or DAG started), 1 when refused or failed.
 */
export const retrainCommand: Command = {
  name: 'retrain',
  usage: 'retrain --model M [--reason TEXT] [--drift-event ID] [--json]',
  summary:
    'retrain a model now: recent labelled data, champion vs challenger, promote and deploy if better (RETRAIN_MODE=airflow: start the DAG run)',
  async run(args, { config, logger, out }) {
    const { model, reason, driftEvent, json } = parseRetrainArgs(args);
    const runtime = await startRuntime(config, logger);
    const { retrainer, storage } = await openRetrainer(config, logger, runtime);
    try {
      const trigger: RetrainTrigger = {
        kind: 'manual',
        model,
        eventId: driftEvent,
        modelVersion: 0,
        reason,
        summary: driftEvent === '' ? {} : { drift_event_id: driftEvent },
      };
      const run = await retrainer.run(trigger);
      if (json) out.write(`${JSON.stringify(run)}\n`);
      else {
        const rows = [
          ['run', run.run_id],
          ['state', run.refusal ? `${run.state} (${run.refusal})` : run.state],
          ['reason', run.reason],
          ['champion', run.champion_version ? `version ${run.champion_version}` : '—'],
          ['challenger', run.challenger_version ? `version ${run.challenger_version}` : '—'],
          ['champion RMSE', run.champion_rmse?.toFixed(4) ?? '—'],
          ['challenger RMSE', run.challenger_rmse?.toFixed(4) ?? '—'],
          [
            'rows',
            `${run.recent_train_rows} recent + ${run.base_rows} base, ${run.holdout_rows} holdout (${run.labelled_rows} labelled)`,
          ],
          ['deployed', run.deployed ? 'yes' : 'no'],
          ...(run.dag_run_id ? [['DAG run', run.dag_run_id]] : []),
          ['time', `${(run.duration_ms / 1000).toFixed(1)} s`],
        ];
        out.write(`${formatTable(['', ''], rows)}\n`);
      }
      return run.state === 'refused' || run.state === 'failed' ? 1 : 0;
    } finally {
      await storage.close();
    }
  },
};
