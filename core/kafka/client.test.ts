import { createServer } from 'node:net';
import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { connectAdmin, createKafka, startNewGroupAtEnd, withDeadline } from './client.ts';

const logger = createLogger('silent');

describe('connectAdmin', () => {
  it('fails with KAFKA_UNREACHABLE within the connect timeout when nothing listens', async () => {
    const brokers = ['127.0.0.1:1'];
    const kafka = createKafka({ brokers, clientId: 'test', connectTimeoutMs: 1_500, logger });
    const started = Date.now();
    const error = await connectAdmin(kafka, { brokers, connectTimeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftlineError);
    expect((error as DriftlineError).code).toBe(ErrorCode.KAFKA_UNREACHABLE);
    expect((error as DriftlineError).message).toContain('127.0.0.1:1');
    expect((error as DriftlineError).retriable).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_500 + 1_000);
  });

  it('fails within the connect timeout when a server accepts but never answers', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const brokers = [`127.0.0.1:${port}`];
    try {
      const kafka = createKafka({ brokers, clientId: 'test', connectTimeoutMs: 1_000, logger });
      const started = Date.now();
      const error = await connectAdmin(kafka, { brokers, connectTimeoutMs: 1_000 }).catch((e: unknown) => e);
      expect((error as DriftlineError).code).toBe(ErrorCode.KAFKA_UNREACHABLE);
      expect(Date.now() - started).toBeLessThan(1_000 + 1_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe('withDeadline', () => {
  it('returns the value when work finishes first', async () => {
    await expect(withDeadline(Promise.resolve(7), 1_000, () => new Error('late'))).resolves.toBe(7);
  });
  it('rejects with the timeout error when work is slower', async () => {
    const slow = new Promise((resolve) => setTimeout(resolve, 500));
    await expect(withDeadline(slow, 20, () => new Error('late'))).rejects.toThrow('late');
  });
});

describe('startNewGroupAtEnd', () => {
  it('waits out a group coordinator that is still loading (a fresh cluster), then starts the group at the end', async () => {
    const loading = Object.assign(new Error("The coordinator is loading and hence can't process requests"), {
      name: 'KafkaJSProtocolError',
      retriable: true,
    });
    // What kafkajs throws once its own few retries are used up: non-retriable, the cause inside.
    const exhausted = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      retriable: false,
      cause: loading,
    });
    let calls = 0;
    const set: unknown[] = [];
    const admin = {
      async fetchOffsets() {
        if (calls++ < 2) throw exhausted;
        return [{ topic: 't', partitions: [{ partition: 0, offset: '-1' }] }];
      },
      async fetchTopicOffsets() {
        return [{ partition: 0, high: '42', low: '0', offset: '42' }];
      },
      async setOffsets(request: unknown) {
        set.push(request);
      },
    } as unknown as Admin;
    await expect(startNewGroupAtEnd(admin, 'g', 't')).resolves.toBe(true);
    expect(calls).toBe(3);
    expect(set).toEqual([{ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '42' }] }]);
  });

  it('does not retry an error that is not retriable', async () => {
    const admin = {
      async fetchOffsets() {
        throw Object.assign(new Error('not authorized'), { retriable: false });
      },
    } as unknown as Admin;
    await expect(startNewGroupAtEnd(admin, 'g', 't')).rejects.toThrow('not authorized');
  });
});
