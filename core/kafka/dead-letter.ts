/**
 * The dead-letter format every consumer uses: the original key, value and headers, plus
 * `dl-*` headers saying why the message was parked and where it came from.
 */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export interface DeadLetter {
  message: KafkaMessage;
  /** Where the message was read. */
  topic: string;
  partition: number;
  /** Why it was parked (an error's description). */
  reason: string;
  /** The error code, e.g. DL_DECODE_FAILED. */
  code: string;
}

export function deadLetterMessage(letter: DeadLetter): Message {
  const headers: IHeaders = {
    ...(letter.message.headers ?? {}),
    'dl-reason': letter.reason,
    'dl-error-code': letter.code,
    'dl-topic': letter.topic,
    'dl-partition': String(letter.partition),
    'dl-offset': letter.message.offset,
    'dl-timestamp': letter.message.timestamp,
  };
  return { key: letter.message.key, value: letter.message.value, headers };
}
