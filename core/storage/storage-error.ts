/**
 * Converts whatever `@clickhouse/client` or chDB throws into a `DriftlineError`, once, where it
 * enters Driftline. Decisions read structured fields — the ClickHouse error code, Node's errno
 * code, chDB's typed error code — and fall back to text only where nothing structured exists
 * (see `signalFromText`).
 */
import { DriftlineError, ErrorCode } from '../errors.ts';
import type { StorageKind } from './port.ts';

export type StorageOperation = 'open' | 'command' | 'query' | 'insert' | 'ping';

export interface StorageErrorContext {
  adapter: StorageKind;
  operation: StorageOperation;
  /** Where: the server URL without credentials, or the chDB data directory. */
  target: string;
  /** Strings that must never appear in an error (the password). */
  secrets?: readonly string[];
}

/** ClickHouse codes that mean "busy or briefly broken": worth retrying, not the statement's fault. */
const TRANSIENT_CLICKHOUSE_CODES: ReadonlyMap<number, string> = new Map([
  [159, 'TIMEOUT_EXCEEDED'],
  [201, 'QUOTA_EXCEEDED'],
  [202, 'TOO_MANY_SIMULTANEOUS_QUERIES'],
  [203, 'NO_FREE_CONNECTION'],
  [209, 'SOCKET_TIMEOUT'],
  [210, 'NETWORK_ERROR'],
  [225, 'NO_ZOOKEEPER'],
  [241, 'MEMORY_LIMIT_EXCEEDED'],
  [242, 'TABLE_IS_READ_ONLY'],
  [252, 'TOO_MANY_PARTS'],
  [285, 'TOO_FEW_LIVE_REPLICAS'],
  [319, 'UNKNOWN_STATUS_OF_INSERT'],
  [425, 'SYSTEM_ERROR'],
  [999, 'KEEPER_EXCEPTION'],
]);

/** Credentials refused: not retriable, and worth saying plainly. */
const AUTHENTICATION_CODES: ReadonlySet<number> = new Set([192, 193, 194, 516]);

/** Node errno codes of a connection that failed or dropped. */
const NETWORK_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** chDB's typed error codes that are about the engine or session, not the statement. */
const CHDB_UNAVAILABLE: ReadonlyMap<string, boolean> = new Map([
  // code → retriable
  ['CHDB_TIMEOUT', true],
  ['CHDB_ABORT', true],
  ['CHDB_CONNECTION', false],
  ['CHDB_CLOSED', false],
  ['CHDB_PLATFORM', false],
  ['CHDB_ABI', false],
  ['CHDB_INTERNAL', false],
]);

const MAX_MESSAGE_CHARS = 2_000;

export function toStorageError(error: unknown, context: StorageErrorContext): DriftlineError {
  if (error instanceof DriftlineError) return error;
  const secrets = (context.secrets ?? []).filter((s) => s.length > 0);
  const rawMessage = error instanceof Error ? error.message : String(error);
  const leaks = secrets.some((s) => rawMessage.includes(s) || (error instanceof Error && error.stack?.includes(s)));
  // An error that quotes a secret is not kept as the cause either: loggers print causes.
  const cause = leaks ? undefined : error;
  const base = { adapter: context.adapter, operation: context.operation, target: context.target };
  const where = context.adapter === 'server' ? `ClickHouse at ${context.target}` : `chDB at ${context.target}`;
  const fields = readFields(error);

  // 1. A ClickHouse exception code, from the client's parser, chDB, or (18.16) the text.
  const text = signalFromText(rawMessage);
  const code = fields.clickhouseCode ?? (text?.kind === 'clickhouse' ? text.code : undefined);
  if (code !== undefined) {
    const type = fields.clickhouseType ?? (text?.kind === 'clickhouse' ? text.type : undefined);
    const serverMessage = redact(cleanServerMessage(rawMessage), secrets);
    const label = type === undefined ? `code ${code}` : `code ${code} ${type}`;
    const details = { ...base, clickhouseCode: code, ...(type === undefined ? {} : { clickhouseType: type }) };
    const transient = TRANSIENT_CLICKHOUSE_CODES.get(code);
    if (transient !== undefined) {
      return new DriftlineError(
        ErrorCode.STORAGE_UNAVAILABLE,
        `${where} is busy or failing (${label}): ${serverMessage}`,
        {
          cause,
          retriable: true,
          details: { ...details, clickhouseType: type ?? transient },
        },
      );
    }
    if (AUTHENTICATION_CODES.has(code)) {
      return new DriftlineError(
        ErrorCode.STORAGE_QUERY_FAILED,
        `${where} refused the credentials (${label}): ${serverMessage}`,
        { cause, retriable: false, details: { ...details, reason: 'authentication' } },
      );
    }
    return new DriftlineError(
      ErrorCode.STORAGE_QUERY_FAILED,
      `${where} refused the ${context.operation} (${label}): ${serverMessage}`,
      { cause, retriable: false, details },
    );
  }

  // 2. Connection-level failures, by errno code.
  if (fields.errno !== undefined && NETWORK_ERRNOS.has(fields.errno)) {
    return new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, `${where} is unreachable (${fields.errno})`, {
      cause,
      retriable: true,
      details: { ...base, errno: fields.errno },
    });
  }
  if (text?.kind === 'timeout') {
    return new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, `${where} did not answer in time`, {
      cause,
      retriable: true,
      details: { ...base, reason: 'timeout' },
    });
  }

  // 3. chDB's own typed errors without a ClickHouse code.
  if (fields.chdbCode !== undefined) {
    const retriable = CHDB_UNAVAILABLE.get(fields.chdbCode);
    const message = redact(truncate(rawMessage), secrets);
    if (retriable !== undefined) {
      return new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, `${where} is unavailable: ${message}`, {
        cause,
        retriable,
        details: { ...base, chdbCode: fields.chdbCode },
      });
    }
    return new DriftlineError(ErrorCode.STORAGE_QUERY_FAILED, `${where} refused the ${context.operation}: ${message}`, {
      cause,
      retriable: false,
      details: { ...base, chdbCode: fields.chdbCode },
    });
  }

  // 4. Bugs on our side of the wire (bad JSON, wrong types) will not go away by retrying.
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) {
    return new DriftlineError(
      ErrorCode.STORAGE_QUERY_FAILED,
      `${context.operation} failed before ${where} could answer: ${redact(truncate(rawMessage), secrets)}`,
      { cause, retriable: false, details: base },
    );
  }

  // 5. Anything else came from the transport without a ClickHouse code: typically a proxy or load
  //    balancer answering 502/503/504 with its own page. Treat it as an outage worth retrying.
  return new DriftlineError(
    ErrorCode.STORAGE_UNAVAILABLE,
    `${where} failed without a ClickHouse error: ${redact(truncate(rawMessage), secrets)}`,
    { cause, retriable: true, details: base },
  );
}

interface ErrorFields {
  clickhouseCode: number | undefined;
  clickhouseType: string | undefined;
  errno: string | undefined;
  chdbCode: string | undefined;
}

/**
 * The structured fields we know: `ClickHouseError` from @clickhouse/client has `code` (digits as
 * a string) and `type`; chDB's errors have `code: 'CHDB_…'` and a numeric `clickhouseCode`; Node's
 * system errors have an errno `code`, possibly only on `cause` (undici) or on an AggregateError
 * (happy-eyeballs connects).
 */
function readFields(error: unknown): ErrorFields {
  const fields: ErrorFields = {
    clickhouseCode: undefined,
    clickhouseType: undefined,
    errno: undefined,
    chdbCode: undefined,
  };
  if (typeof error !== 'object' || error === null) return fields;
  const { code, type, clickhouseCode, cause } = error as Record<string, unknown>;
  if (typeof clickhouseCode === 'number' && Number.isInteger(clickhouseCode)) fields.clickhouseCode = clickhouseCode;
  if (typeof code === 'string') {
    if (/^\d+$/.test(code)) {
      fields.clickhouseCode ??= Number(code);
      if (typeof type === 'string' && type !== '') fields.clickhouseType = type;
    } else if (code.startsWith('CHDB_')) {
      fields.chdbCode = code;
    } else {
      fields.errno = code;
    }
  }
  if (
    fields.errno === undefined &&
    fields.clickhouseCode === undefined &&
    typeof cause === 'object' &&
    cause !== null
  ) {
    const causeCode = (cause as Record<string, unknown>).code;
    if (typeof causeCode === 'string' && !/^\d+$/.test(causeCode) && !causeCode.startsWith('CHDB_')) {
      fields.errno = causeCode;
    }
  }
  return fields;
}

type TextSignal = { kind: 'clickhouse'; code: number; type: string | undefined } | { kind: 'timeout' };

/**
 * The only place that reads error text, for signals that have no structured field:
 * - ClickHouse 18.16 reports errors as `Code: 62, e.displayText() = DB::Exception: …, e.what() =
 *   DB::Exception`. @clickhouse/client only parses the newer form that ends in `(TYPE)`, so with
 *   18.16 it hands us a plain Error whose text is the sole carrier of the code.
 * - @clickhouse/client's request timeout is a plain `Error('Timeout error.')`.
 * Anchored at the start, so a `Code: …` quoted inside a longer message does not count.
 */
export function signalFromText(message: string): TextSignal | undefined {
  const match = /^Code: (\d+)[.,] (?:e\.displayText\(\) = )?[\w:]*Exception: /.exec(message);
  if (match?.[1] !== undefined) {
    const type = /\(([A-Z][A-Z0-9_]{2,})\)(?: \(version [^)]*\))?\.?\s*$/.exec(message)?.[1];
    return { kind: 'clickhouse', code: Number(match[1]), type };
  }
  if (message === 'Timeout error.') return { kind: 'timeout' };
  return undefined;
}

/** The human part of a ClickHouse exception message, without the code/what() wrapping. */
function cleanServerMessage(message: string): string {
  const stripped = message
    .replace(/^Code: \d+[.,] (?:e\.displayText\(\) = )?[\w:]*Exception: /, '')
    .replace(/,? e\.what\(\) = [\w:]+\s*$/, '')
    .replace(/\s*\(version [^)]*\)\.?\s*$/, '')
    .trim();
  return truncate(stripped);
}

function truncate(message: string): string {
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
}

function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

/** A URL safe to show: no user, password, query string or fragment. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '[unparsable URL]';
  }
}
