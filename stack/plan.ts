/**
 * What `stack up` does with one service, decided from what was observed. Pure, so every
 * branch (ours, external, stale, port taken by a stranger) is tested without a process.
 */
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { PortRef, ServiceSpec } from './services.ts';
import type { ServiceState } from './types.ts';

export interface Observation {
  /** Pid from our pid file whose process is alive and whose command line is ours. */
  ownPid: number | undefined;
  /** The service answers on its client port (whoever runs it). */
  healthy: boolean;
  /** Ports of the service that something already holds; only probed when neither of the above. */
  busyPorts: readonly PortRef[];
}

export type Decision =
  /** Ours and healthy: leave it alone. */
  | { action: 'keep'; pid: number }
  /** Ours but not answering yet (another `stack up` is starting it): wait, do not spawn again. */
  | { action: 'wait'; pid: number }
  /** Someone else's, healthy: use it, never stop it. */
  | { action: 'use-external' }
  /** Nothing there and its ports are free. */
  | { action: 'start' }
  /** Not the healthy service, yet a port is taken: starting would only fail later. */
  | { action: 'conflict'; port: PortRef };

export function decide(observation: Observation): Decision {
  const { ownPid, healthy, busyPorts } = observation;
  if (ownPid !== undefined) return healthy ? { action: 'keep', pid: ownPid } : { action: 'wait', pid: ownPid };
  if (healthy) return { action: 'use-external' };
  const busy = busyPorts[0];
  return busy === undefined ? { action: 'start' } : { action: 'conflict', port: busy };
}

/** Whether the decision needs the ports probed (only when nothing answers and nothing is ours). */
export function needsPortProbe(ownPid: number | undefined, healthy: boolean): boolean {
  return ownPid === undefined && !healthy;
}

export function portConflictError(spec: Pick<ServiceSpec, 'name'>, port: PortRef): DriftlineError {
  return new DriftlineError(
    ErrorCode.STACK_PREREQUISITE_MISSING,
    `Port ${port.port} (${spec.name} ${port.role}) is already in use by something that is not a healthy ${spec.name}. ` +
      `Stop whatever holds it, or set ${port.variable} to a free port.`,
    { details: { service: spec.name, port: port.port, variable: port.variable } },
  );
}

/** The state `stack status` reports for an observation. */
export function stateOf(ownPid: number | undefined, healthy: boolean): ServiceState {
  if (!healthy) return 'stopped';
  return ownPid === undefined ? 'external' : 'running';
}
