/**
 * The local stack: Kafka (KRaft), Apicurio Registry and ClickHouse provisioned once and
 * started on demand as detached processes, without Docker. Idempotent: what already runs is
 * kept, what someone else runs is used and never stopped, and only what this home started is
 * ever stopped.
 */
import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import { DriftlineError, ErrorCode, isDriftlineError } from '../core/errors.ts';
import { withFileLock } from '../core/file-lock.ts';
import type { Logger } from '../core/logger.ts';
import { DRIVERS, type Launch, type ServiceDriver } from './drivers.ts';
import { stackLayout } from './layout.ts';
import {
  isAlive,
  portInUse,
  readOwnPid,
  removeFile,
  sleep,
  spawnDetached,
  stopProcess,
  tailFile,
  writePidFile,
} from './os.ts';
import { type Decision, decide, needsPortProbe, portConflictError, stateOf } from './plan.ts';
import { type PortRef, type ServiceSpec, selectServices, serviceSpec, stackEndpointsFor } from './services.ts';
import type { ServiceStatus, StackEndpoints, StackServiceName, StackUpResult } from './types.ts';

export type { ServiceStatus, StackEndpoints, StackServiceName, StackUpResult } from './types.ts';
export { STACK_SERVICES } from './types.ts';

export interface StackOptions {
  /** Which services; all three when omitted. */
  services?: readonly StackServiceName[];
}

const POLL_MS = 500;

/** Where clients reach the stack's services (whether or not they are running). */
export function stackEndpoints(config: Readonly<Config>): StackEndpoints {
  return stackEndpointsFor(config);
}

/**
 * Provisions (once) and starts the requested services in parallel, waiting until each is
 * healthy. Services already running, ours or external, are left as they are.
 */
export async function stackUp(
  config: Readonly<Config>,
  logger: Logger,
  options: StackOptions = {},
): Promise<StackUpResult> {
  const log = logger.child({ component: 'stack' });
  const names = selectServices(options.services);
  // Two `stack up` at once (a test run and a demo, say) would both spawn, and one would lose
  // the port race: one at a time per home, the second then finds everything running.
  const outcomes = await withStackLock(config, () => Promise.allSettled(names.map((name) => upOne(config, log, name))));
  const started = names.filter((_, i) => {
    const outcome = outcomes[i];
    return outcome?.status === 'fulfilled' && outcome.value;
  });
  const failures = outcomes.flatMap((outcome, i) =>
    outcome.status === 'rejected' ? [{ service: names[i], error: outcome.reason as unknown }] : [],
  );
  if (failures.length > 0) throw combine(failures, started);
  return { endpoints: stackEndpoints(config), started, statuses: await statuses(config, names) };
}

/** Stops the requested services that this home started; returns the ones it stopped. */
export async function stackDown(
  config: Readonly<Config>,
  logger: Logger,
  options: StackOptions = {},
): Promise<StackServiceName[]> {
  const log = logger.child({ component: 'stack' });
  const names = selectServices(options.services);
  const stopped = await withStackLock(config, () => Promise.all(names.map((name) => downOne(config, log, name))));
  return names.filter((_, i) => stopped[i]);
}

/** Provisioning may download for minutes, so a waiting `stack up` is patient. */
const STACK_LOCK_WAIT_MS = 15 * 60_000;

function withStackLock<T>(config: Readonly<Config>, fn: () => Promise<T>): Promise<T> {
  return withFileLock(join(stackLayout(config).runDir, 'stack.lock'), fn, {
    waitMs: STACK_LOCK_WAIT_MS,
    busy: (path) =>
      new DriftlineError(
        ErrorCode.STACK_START_FAILED,
        `another driftline stack command has held ${path} for 15 minutes`,
        {
          retriable: true,
        },
      ),
  });
}

/** The state of every service of the stack, as seen from this home. */
export function stackStatus(config: Readonly<Config>): Promise<ServiceStatus[]> {
  return statuses(config, selectServices(undefined));
}

async function statuses(config: Readonly<Config>, names: readonly StackServiceName[]): Promise<ServiceStatus[]> {
  return Promise.all(
    names.map(async (name): Promise<ServiceStatus> => {
      const spec = serviceSpec(config, name);
      const driver = DRIVERS[name];
      const [pid, healthy] = await Promise.all([readOwnPid(spec.pidFile, spec.markers), driver.healthy(config)]);
      return {
        name,
        state: stateOf(pid, healthy),
        endpoint: spec.endpoint,
        pid,
        logFile: spec.logFile,
        provisioned: driver.provisioned(config),
      };
    }),
  );
}

async function observe(config: Readonly<Config>, spec: ServiceSpec, driver: ServiceDriver): Promise<Decision> {
  const [ownPid, healthy] = await Promise.all([readOwnPid(spec.pidFile, spec.markers), driver.healthy(config)]);
  const busyPorts = needsPortProbe(ownPid, healthy) ? await busy(spec.ports) : [];
  return decide({ ownPid, healthy, busyPorts });
}

async function busy(ports: readonly PortRef[]): Promise<PortRef[]> {
  const inUse = await Promise.all(ports.map((ref) => portInUse(ref.port)));
  return ports.filter((_, i) => inUse[i]);
}

/** Brings one service up; resolves with whether this call started it. */
async function upOne(config: Readonly<Config>, log: Logger, name: StackServiceName): Promise<boolean> {
  const spec = serviceSpec(config, name);
  const driver = DRIVERS[name];
  let launch: Launch | undefined;
  // Observe, prepare (which may download for minutes), then observe again before spawning:
  // someone may have started the service, or taken its port, in the meantime.
  for (;;) {
    const decision = await observe(config, spec, driver);
    switch (decision.action) {
      case 'keep':
        log.info({ service: name, pid: decision.pid }, `${name} already running`);
        return false;
      case 'use-external':
        log.info(
          { service: name, endpoint: spec.endpoint },
          `${name} is already served by a process this stack did not start; using it`,
        );
        return false;
      case 'conflict':
        throw portConflictError(spec, decision.port);
      case 'wait':
        log.info({ service: name, pid: decision.pid }, `${name} is starting; waiting for it`);
        await waitReady(config, spec, driver, decision.pid);
        return false;
      case 'start':
        if (launch === undefined) {
          launch = await driver.prepare(config, log);
          continue;
        }
        await spawnAndWait(config, log, spec, driver, launch);
        return true;
    }
  }
}

async function spawnAndWait(
  config: Readonly<Config>,
  log: Logger,
  spec: ServiceSpec,
  driver: ServiceDriver,
  launch: Launch,
): Promise<void> {
  const began = Date.now();
  const pid = await spawnDetached(launch.command, launch.args, {
    cwd: launch.cwd,
    logPath: spec.logFile,
    banner: `driftline stack: starting ${spec.name}`,
  });
  await writePidFile(spec.pidFile, pid);
  log.info({ service: spec.name, pid, log: spec.logFile }, `starting ${spec.name}`);
  await waitReady(config, spec, driver, pid);
  log.info({ service: spec.name, pid, endpoint: spec.endpoint, ms: Date.now() - began }, `${spec.name} is up`);
}

/**
 * Polls until the service is ready. If the process exits first, or the time runs out (then it
 * is stopped, so no half-started process is left behind), fails with the end of its log.
 */
async function waitReady(
  config: Readonly<Config>,
  spec: ServiceSpec,
  driver: ServiceDriver,
  pid: number,
): Promise<void> {
  const deadline = Date.now() + spec.startTimeoutMs;
  while (Date.now() < deadline) {
    if (await driver.ready(config)) return;
    if (!(await isAlive(pid))) {
      await removeFile(spec.pidFile);
      throw await startFailed(spec, `${spec.name} (pid ${pid}) exited while starting`);
    }
    await sleep(POLL_MS);
  }
  if (await driver.ready(config)) return;
  await stopProcess(pid, DRIVERS[spec.name].stopGraceMs);
  await removeFile(spec.pidFile);
  throw await startFailed(
    spec,
    `${spec.name} (pid ${pid}) was not healthy after ${spec.startTimeoutMs / 1000} s and was stopped`,
  );
}

async function startFailed(spec: ServiceSpec, what: string): Promise<DriftlineError> {
  const tail = await tailFile(spec.logFile, 20);
  const quoted = tail.length > 0 ? `; last lines of ${spec.logFile}:\n${tail.map((l) => `  | ${l}`).join('\n')}` : '';
  return new DriftlineError(ErrorCode.STACK_START_FAILED, `${what}${quoted}`, {
    details: { service: spec.name, logFile: spec.logFile },
  });
}

async function downOne(config: Readonly<Config>, log: Logger, name: StackServiceName): Promise<boolean> {
  const spec = serviceSpec(config, name);
  const pid = await readOwnPid(spec.pidFile, spec.markers);
  if (pid === undefined) {
    log.debug({ service: name }, `${name} was not started by this stack; leaving it alone`);
    return false;
  }
  log.info({ service: name, pid }, `stopping ${name}`);
  const gone = await stopProcess(pid, DRIVERS[name].stopGraceMs);
  if (!gone) {
    // Keep the pid file: the process is still ours, and a later `stack down` can retry.
    log.warn({ service: name, pid }, `${name} did not exit after SIGKILL`);
    return false;
  }
  await removeFile(spec.pidFile);
  return true;
}

/** One error for the caller; each failure keeps its own message, the first its code. */
function combine(
  failures: Array<{ service: StackServiceName | undefined; error: unknown }>,
  started: StackServiceName[],
) {
  const first = failures[0]?.error;
  if (failures.length === 1 && isDriftlineError(first)) return first;
  const code = isDriftlineError(first) ? first.code : ErrorCode.STACK_START_FAILED;
  const message = failures
    .map(({ service, error }) => `${service}: ${error instanceof Error ? error.message : String(error)}`)
    .join('\n');
  return new DriftlineError(code, `The local stack did not come up:\n${message}`, {
    cause: first,
    details: { failed: failures.map((f) => f.service), started },
  });
}
