/**
 * Predict service throughput and latency under HTTP load, beside a bare fastify route.
 *
 *   npx tsx bench/predict-service.ts [--seconds 10] [--connections 50] [--quick] [--json]
 *
 * Runs the real service in this process — `build()` with the real Kafka sink (every answer waits
 * for its event's Kafka ack), the registry, and the champion of the local model registry
 * (`california-housing`, TF.js, served under a fresh name so its events go to a fresh topic, deleted
 * afterwards) when there is one, else an 8-feature linear model — listening on a free port. The load comes from autocannon in a separate process (so it does not share the
 * service's event loop), `connections` connections, for `seconds` each:
 *   - bare:   a fastify app with one POST route answering a constant (the HTTP ceiling);
 *   - single: POST /predict with one record per request (p99 latency and requests/s);
 *   - batch:  POST /predict with 100 records per request, 10 connections (records/s).
 * The event bodies are the same each time; every request still makes its own event (own id).
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { type Config, parseConfig } from '../core/config.ts';
import type { ModelSpec } from '../core/feature-spec.ts';
import { createLogger } from '../core/logger.ts';
import { predictionsTopic } from '../core/topics.ts';
import { ModelLoader } from '../model/model-loader.ts';
import type { ServingModel } from '../model/scoring.ts';
import { startRuntime } from '../platform/runtime.ts';
import { build } from '../producers/predict-service/app.ts';
import { createKafkaSink } from '../producers/predict-service/kafka-sink.ts';
import { ModelSlot } from '../producers/predict-service/model-slot.ts';
import { deleteTopic } from './housing-topic.ts';
import { atLeast, type BenchResult, below, benchFlags, emit, numberArgument, runBench, runNode } from './protocol.ts';

const FEATURES = ['MedInc', 'HouseAge', 'AveRooms', 'AveBedrms', 'Population', 'AveOccup', 'Latitude', 'Longitude'];
const RECORD = {
  MedInc: 3.87,
  HouseAge: 29,
  AveRooms: 5.43,
  AveBedrms: 1.1,
  Population: 1425,
  AveOccup: 3.07,
  Latitude: 35.6,
  Longitude: -119.6,
};
const BATCH_RECORDS = 100;
const BATCH_CONNECTIONS = 10;

interface LoadResult {
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** autocannon in its own process against `url`; its JSON result, summarized. */
async function load(url: string, body: unknown, connections: number, seconds: number): Promise<LoadResult> {
  const args = ['-c', String(connections), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json'];
  args.push('-b', JSON.stringify(body), '-j', url);
  const { code, stdout, stderr } = await runNode(['node_modules/autocannon/autocannon.js', ...args]);
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${stderr.slice(-500)}`);
  const result = JSON.parse(stdout) as {
    requests: { total: number };
    duration: number;
    latency: { p99: number };
    non2xx: number;
    errors: number;
  };
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

function check(name: string, result: LoadResult): LoadResult {
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${name}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return result;
}

/** The local registry's champion, or a linear model over the same 8 features. */
async function servingModel(config: Pick<Config, 'home'>): Promise<ServingModel> {
  try {
    const model = await ModelLoader.fromConfig(config).loadVersion('california-housing', 'champion');
    process.stderr.write(`predict-service bench: model california-housing v${model.version} (TF.js)\n`);
    // Under a name of its own: its events go to a fresh topic, not the real model's.
    const name = `bench-${randomBytes(3).toString('hex')}`;
    return {
      name,
      version: model.version,
      spec: { ...model.spec, model: name },
      ...(model.preprocessing ? { preprocessing: model.preprocessing } : {}),
      predict: (rows) => model.predict(rows),
      dispose: () => model.dispose(),
    };
  } catch (error) {
    process.stderr.write(`predict-service bench: no california-housing champion (${String(error)}); a linear model\n`);
    const spec: ModelSpec = {
      model: `bench-${randomBytes(3).toString('hex')}`,
      target: 'MedHouseVal',
      features: FEATURES.map((name) => ({ name, type: 'double' as const, optional: false })),
    };
    return {
      name: spec.model,
      version: 1,
      spec,
      predict: (rows) => rows.map((row) => row.reduce((sum, x) => sum + x * 0.01, 0)),
      dispose() {},
    };
  }
}

async function main() {
  const flags = benchFlags();
  const seconds = numberArgument('seconds', flags.quick ? 4 : 10);
  const connections = numberArgument('connections', 50);
  const config = parseConfig();
  const logger = createLogger('warn');
  const runtime = await startRuntime(config, logger);

  const bare = Fastify();
  bare.post('/predict', async () => ({ prediction: 1.5 }));
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

  const model = await servingModel(config);
  const slot = new ModelSlot();
  slot.swap(model);
  const sink = await createKafkaSink({
    kafka: runtime.kafka,
    codec: runtime.codec,
    spec: model.spec,
    logger,
    ...runtime.connect,
  });
  const app = await build({ spec: model.spec, slot, sink, logger });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const single = { features: RECORD };
  const batch = { records: Array.from({ length: BATCH_RECORDS }, () => single) };

  try {
    await load(`${url}/predict`, single, connections, Math.min(3, seconds)); // warm-up: JIT, topic, connections
    const bareRun = check('bare', await load(`${bareUrl}/predict`, single, connections, seconds));
    const singleRun = check('single', await load(`${url}/predict`, single, connections, seconds));
    const batchRun = check('batch', await load(`${url}/predict`, batch, BATCH_CONNECTIONS, seconds));
    const results: BenchResult[] = [
      { key: 'bare_fastify_rps', value: bareRun.requestsPerSecond, unit: 'requests/s' },
      { key: 'bare_fastify_p99_ms', value: bareRun.p99Ms, unit: 'ms' },
      atLeast('predict_rps', singleRun.requestsPerSecond, 'requests/s', 5_000),
      below('predict_p99_ms', singleRun.p99Ms, 'ms', 20),
      { key: 'predict_vs_bare_fastify', value: singleRun.requestsPerSecond / bareRun.requestsPerSecond, unit: 'ratio' },
      { key: 'predict_batch_records_per_s', value: batchRun.requestsPerSecond * BATCH_RECORDS, unit: 'records/s' },
      { key: 'predict_batch_p99_ms', value: batchRun.p99Ms, unit: 'ms' },
      { key: 'predict_connections', value: connections, unit: 'connections' },
    ];
    emit({ suite: 'predict-service', results }, flags);
  } finally {
    await app.close();
    await sink.close();
    slot.close();
    await bare.close();
    await deleteTopic(runtime.kafka, predictionsTopic(model.name));
    await runtime.services.stop();
  }
}

runBench(main);
