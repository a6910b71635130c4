import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { AvroCodec, schemaIdOf } from './avro.ts';

describe('schemaIdOf', () => {
  it('reads the 4-byte big-endian id after the magic byte', () => {
    expect(schemaIdOf(Buffer.from([0, 0, 0, 1, 2, 9]))).toBe(258);
  });
  it('refuses messages outside the Confluent wire format', () => {
    expect(() => schemaIdOf(Buffer.from('{"json":1}'))).toThrow(/not in the Confluent wire format/);
    expect(() => schemaIdOf(Buffer.from([0, 1]))).toThrow(DriftlineError);
  });
});

describe('AvroCodec.decode when the registry is down', () => {
  it('is a retriable REGISTRY_UNAVAILABLE, not a DECODE_FAILED that would dead-letter good messages', async () => {
    const codec = new AvroCodec({ url: 'http://127.0.0.1:1/apis/ccompat/v7' });
    const error = await codec.decode(Buffer.from([0, 0, 0, 0, 5, 2, 4])).catch((e: unknown) => e);
    expect((error as DriftlineError).code).toBe(ErrorCode.REGISTRY_UNAVAILABLE);
    expect((error as DriftlineError).retriable).toBe(true);
  });
});
