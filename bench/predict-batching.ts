/**
 * What producer batching across concurrent requests buys the predict service.
 *
 *   npx tsx bench/predict-batching.ts [--requests 4000] [--concurrency 32]
 *
 * Runs the real service (`build()` with the real Kafka sink, real broker and registry, resolved
 * like everywhere else) twice over the same toy model: once with events of concurrent requests
 * sharing producer batches (the default: up to 500 events, sent at once when no send is in
 * flight, else when one lands or after 5 ms), once with every event sent on its own (batches of
 * 1, the baseline). Each run sends `requests` single-record POST /predict
 * through inject() from `concurrency` workers, every answer waiting for its Kafka ack. Prints
 * requests per second and the ratio; never fails on time.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../core/config.ts';
import type { ModelSpec } from '../core/feature-spec.ts';
import { createLogger } from '../core/logger.ts';
import { predictionsTopic } from '../core/topics.ts';
import { startRuntime } from '../platform/runtime.ts';
import { build } from '../producers/predict-service/app.ts';
import { createKafkaSink } from '../producers/predict-service/kafka-sink.ts';
import { ModelSlot } from '../producers/predict-service/model-slot.ts';

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

async function main() {
  const requests = argument('requests', 4_000);
  const concurrency = argument('concurrency', 32);
  const config = parseConfig();
  const logger = createLogger('warn');
  const runtime = await startRuntime(config, logger);
  const spec: ModelSpec = {
    model: `bench-${randomBytes(3).toString('hex')}`,
    target: 'y',
    features: [
      { name: 'a', type: 'double', optional: false },
      { name: 'b', type: 'double', optional: false },
    ],
  };
  const slot = new ModelSlot();
  slot.swap({
    name: spec.model,
    version: 1,
    spec,
    predict: (rows) => rows.map(([a = 0, b = 0]) => a + b),
    dispose() {},
  });

  async function run(batched: boolean): Promise<number> {
    const sink = await createKafkaSink({
      kafka: runtime.kafka,
      codec: runtime.codec,
      spec,
      logger,
      ...runtime.connect,
      ...(batched ? {} : { maxBatch: 1, lingerMs: 0 }),
    });
    const app = await build({ spec, slot, sink, logger });
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) {
          next++;
          const res = await app.inject({ method: 'POST', url: '/predict', payload: { features: { a: next, b: 1 } } });
          if (res.statusCode !== 200) throw new Error(`request failed: ${res.statusCode} ${res.body}`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await app.close();
    await sink.close();
    return requests / seconds;
  }

  await run(true); // warm-up: topic, schema, connections
  const unbatched = await run(false);
  const batched = await run(true);
  // Nobody reads the topic afterwards; a store following every predictions topic would.
  const admin = runtime.kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [predictionsTopic(spec.model)] }).catch(() => {});
  await admin.disconnect();
  process.stdout.write(
    [
      `| producer batching (${requests} requests, ${concurrency} concurrent) | requests/s |`,
      '|---|---|',
      `| one event per send (baseline) | ${unbatched.toFixed(0)} |`,
      `| shared batches (≤ 500 events, sent as sends land) | ${batched.toFixed(0)} |`,
      `| ratio | ${(batched / unbatched).toFixed(1)}× |`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
