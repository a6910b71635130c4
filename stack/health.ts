/**
 * Health probes, each bounded by a short timeout and never throwing: a probe answers
 * "healthy or not", and the caller decides what that means.
 */
import { Kafka, logLevel } from 'kafkajs';

const PROBE_TIMEOUT_MS = 2_000;

async function httpGet(
  url: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

/** ClickHouse answers `GET /ping` with `Ok.`. */
export async function clickhouseHealthy(httpPort: number): Promise<boolean> {
  const response = await httpGet(`http://127.0.0.1:${httpPort}/ping`);
  return response?.status === 200 && response.body.trim() === 'Ok.';
}

/** The Confluent-compatible API answers `GET /subjects` with a JSON array. */
export async function registryHealthy(port: number): Promise<boolean> {
  const response = await httpGet(`http://127.0.0.1:${port}/apis/ccompat/v7/subjects`);
  if (response?.status !== 200) return false;
  try {
    return Array.isArray(JSON.parse(response.body));
  } catch {
    return false;
  }
}

/** Quarkus readiness on the management port: only meaningful for a registry we started. */
export async function registryReady(managementPort: number): Promise<boolean> {
  const response = await httpGet(`http://127.0.0.1:${managementPort}/health/ready`);
  return response?.status === 200;
}

/**
 * A broker is healthy when a metadata request answers with at least one broker. A bare TCP
 * connect is not enough: KRaft opens the listener before the broker has registered.
 */
export async function kafkaHealthy(port: number): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'driftline-stack-probe',
    brokers: [`127.0.0.1:${port}`],
    connectionTimeout: 1_000,
    requestTimeout: PROBE_TIMEOUT_MS,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS + 1_000);
  });
  const probe = (async () => {
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    } catch {
      return false;
    }
  })();
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
