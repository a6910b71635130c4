/**
 * Every error Driftline raises on purpose: one class, a closed list of stable codes, and a
 * `retriable` flag that retry decisions read (never the message text).
 */
export const ErrorCode = {
  /** An environment variable is missing or malformed; lists every problem at once. */
  CONFIG_INVALID: 'DL_CONFIG_INVALID',
  /** A prerequisite of the local stack (java, mvn, apt-get, a free port…) is missing. */
  STACK_PREREQUISITE_MISSING: 'DL_STACK_PREREQUISITE_MISSING',
  /** A local service did not become healthy in time, or exited while starting. */
  STACK_START_FAILED: 'DL_STACK_START_FAILED',
  /** Downloading or installing a local service failed. */
  STACK_PROVISION_FAILED: 'DL_STACK_PROVISION_FAILED',
  /** The Kafka cluster could not be reached within the connect timeout. */
  KAFKA_UNREACHABLE: 'DL_KAFKA_UNREACHABLE',
  /** A Kafka request failed after the connection was made. */
  KAFKA_REQUEST_FAILED: 'DL_KAFKA_REQUEST_FAILED',
  /** The schema registry is unreachable or answered with a server error. */
  REGISTRY_UNAVAILABLE: 'DL_REGISTRY_UNAVAILABLE',
  /** The schema registry refused a schema (invalid, or incompatible with the subject). */
  SCHEMA_REJECTED: 'DL_SCHEMA_REJECTED',
  /** A message could not be encoded with its schema. */
  ENCODE_FAILED: 'DL_ENCODE_FAILED',
  /** A message could not be decoded (wrong magic byte, unknown schema id, corrupt bytes). */
  DECODE_FAILED: 'DL_DECODE_FAILED',
  /** A decoded event breaks the event contract (core/event-contract.ts): its content, not an outage. */
  EVENT_INVALID: 'DL_EVENT_INVALID',
  /** ClickHouse could not be reached or failed in a way worth retrying. */
  STORAGE_UNAVAILABLE: 'DL_STORAGE_UNAVAILABLE',
  /** ClickHouse refused a statement (syntax, unknown table, type mismatch). */
  STORAGE_QUERY_FAILED: 'DL_STORAGE_QUERY_FAILED',
  /** A value cannot be put into SQL safely (bad identifier, non-finite number…). */
  SQL_VALUE_INVALID: 'DL_SQL_VALUE_INVALID',
  /** A model, model version or champion is not in the model registry. */
  MODEL_NOT_FOUND: 'DL_MODEL_NOT_FOUND',
  /** The model registry's lock could not be taken in time (another writer holds it). */
  MODEL_REGISTRY_BUSY: 'DL_MODEL_REGISTRY_BUSY',
  /** An HTTP service Driftline calls (e.g. the predict service, for the replay) failed. */
  UPSTREAM_FAILED: 'DL_UPSTREAM_FAILED',
  /**
   * An alert channel (Slack, email, webhook) did not take an alert: `retriable` for network
   * errors, 5xx and 429 (`details.retryAfterMs` when the server said when), not for a refusal.
   */
  ALERT_DELIVERY_FAILED: 'DL_ALERT_DELIVERY_FAILED',
  /** A command-line usage error. */
  USAGE: 'DL_USAGE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface DriftlineErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  /** Structured context (topic, offset, variable…) that is safe to log. */
  details?: Record<string, unknown>;
}

export class DriftlineError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: DriftlineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DriftlineError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }
}

export function isDriftlineError(error: unknown, code?: ErrorCode): error is DriftlineError {
  return error instanceof DriftlineError && (code === undefined || error.code === code);
}

/** A short, single-line description of any thrown value, for CLI output. */
export function describeError(error: unknown): string {
  if (error instanceof DriftlineError) return `${error.message} [${error.code}]`;
  if (error instanceof Error) return error.message;
  return String(error);
}
