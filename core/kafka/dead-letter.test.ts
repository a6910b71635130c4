import { describe, expect, it } from 'vitest';
import { deadLetterMessage } from './dead-letter.ts';

describe('deadLetterMessage', () => {
  it('keeps the original key, value and headers and says why and where from', () => {
    const message = deadLetterMessage({
      message: {
        key: Buffer.from('k'),
        value: Buffer.from('bad'),
        headers: { trace: 'abc' },
        offset: '42',
        timestamp: '1700000000000',
        attributes: 0,
      },
      topic: 'predictions.m',
      partition: 2,
      reason: 'Message is not in the Confluent wire format',
      code: 'DL_DECODE_FAILED',
    });
    expect(message.key?.toString()).toBe('k');
    expect(message.value?.toString()).toBe('bad');
    expect(message.headers).toEqual({
      trace: 'abc',
      'dl-reason': 'Message is not in the Confluent wire format',
      'dl-error-code': 'DL_DECODE_FAILED',
      'dl-topic': 'predictions.m',
      'dl-partition': '2',
      'dl-offset': '42',
      'dl-timestamp': '1700000000000',
    });
  });
});
