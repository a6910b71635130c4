import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../core/errors.ts';
import { decide, needsPortProbe, portConflictError, stateOf } from './plan.ts';
import type { PortRef } from './services.ts';

const http: PortRef = { port: 8123, variable: 'STACK_CLICKHOUSE_HTTP_PORT', role: 'HTTP' };
const tcp: PortRef = { port: 9000, variable: 'STACK_CLICKHOUSE_TCP_PORT', role: 'native TCP' };

describe('decide', () => {
  it('keeps a healthy service it started', () => {
    expect(decide({ ownPid: 10, healthy: true, busyPorts: [] })).toEqual({ action: 'keep', pid: 10 });
  });

  it('waits for its own process that is not answering yet instead of spawning a second one', () => {
    expect(decide({ ownPid: 10, healthy: false, busyPorts: [http] })).toEqual({ action: 'wait', pid: 10 });
  });

  it('uses a healthy service it did not start', () => {
    expect(decide({ ownPid: undefined, healthy: true, busyPorts: [http] })).toEqual({ action: 'use-external' });
  });

  it('starts when nothing answers and the ports are free', () => {
    expect(decide({ ownPid: undefined, healthy: false, busyPorts: [] })).toEqual({ action: 'start' });
  });

  it('refuses to start when a port is held by something that is not the service', () => {
    expect(decide({ ownPid: undefined, healthy: false, busyPorts: [tcp] })).toEqual({ action: 'conflict', port: tcp });
  });
});

describe('needsPortProbe', () => {
  it('probes only when nothing is ours and nothing answers', () => {
    expect(needsPortProbe(undefined, false)).toBe(true);
    expect(needsPortProbe(undefined, true)).toBe(false);
    expect(needsPortProbe(5, false)).toBe(false);
  });
});

describe('portConflictError', () => {
  it('names the port, the service and the variable to change', () => {
    const error = portConflictError({ name: 'clickhouse' }, tcp);
    expect(error.code).toBe(ErrorCode.STACK_PREREQUISITE_MISSING);
    expect(error.message).toContain('9000');
    expect(error.message).toContain('clickhouse');
    expect(error.message).toContain('STACK_CLICKHOUSE_TCP_PORT');
    expect(error.details).toEqual({ service: 'clickhouse', port: 9000, variable: 'STACK_CLICKHOUSE_TCP_PORT' });
  });
});

describe('stateOf', () => {
  it('reports running, external or stopped', () => {
    expect(stateOf(7, true)).toBe('running');
    expect(stateOf(undefined, true)).toBe('external');
    expect(stateOf(undefined, false)).toBe('stopped');
    expect(stateOf(7, false)).toBe('stopped');
  });
});
