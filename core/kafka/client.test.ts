import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { connectAdmin, createKafka, withDeadline } from './client.ts';

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
