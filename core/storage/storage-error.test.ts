import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { type StorageErrorContext, safeUrl, signalFromText, toStorageError } from './storage-error.ts';

const server: StorageErrorContext = {
  adapter: 'server',
  operation: 'query',
  target: 'http://127.0.0.1:8123',
  secrets: ['hunter2-secret'],
};
const embedded: StorageErrorContext = { adapter: 'embedded', operation: 'insert', target: '/data/chdb' };

/** Shapes copied from what @clickhouse/client 1.23, ClickHouse 18.16 and chDB 3.4 really throw. */
function clientClickHouseError(code: string, type: string, message: string): Error {
  return Object.assign(new Error(message), { code, type });
}
function nodeSystemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -111, syscall: 'connect' });
}
function chdbError(code: string, message: string, clickhouseCode?: number): Error {
  return Object.assign(new Error(message), { name: 'ChdbQueryError', code, clickhouseCode });
}

describe('toStorageError: server exceptions', () => {
  it('current ClickHouse (structured code and type) → STORAGE_QUERY_FAILED with the code', () => {
    const error = toStorageError(
      clientClickHouseError('60', 'UNKNOWN_TABLE', 'Table driftline.nope does not exist. '),
      server,
    );
    expect(error.code).toBe(ErrorCode.STORAGE_QUERY_FAILED);
    expect(error.retriable).toBe(false);
    expect(error.details).toMatchObject({ clickhouseCode: 60, clickhouseType: 'UNKNOWN_TABLE', operation: 'query' });
    expect(error.message).toContain('Table driftline.nope does not exist');
  });

  it('ClickHouse 18.16 (plain Error, code only in the text) → STORAGE_QUERY_FAILED with the code', () => {
    const error = toStorageError(
      new Error(
        'Code: 62, e.displayText() = DB::Exception: Syntax error: failed at position 1 (line 1, col 1): SELEC 1, e.what() = DB::Exception\n',
      ),
      server,
    );
    expect(error.code).toBe(ErrorCode.STORAGE_QUERY_FAILED);
    expect(error.retriable).toBe(false);
    expect(error.details).toMatchObject({ clickhouseCode: 62 });
    expect(error.message).toContain('Syntax error: failed at position 1');
    expect(error.message).not.toContain('e.what()');
  });

  it('a type mismatch is not retriable', () => {
    const error = toStorageError(
      new Error(
        'Code: 53, e.displayText() = DB::Exception: Type mismatch in IN or VALUES section, e.what() = DB::Exception',
      ),
      server,
    );
    expect(error.code).toBe(ErrorCode.STORAGE_QUERY_FAILED);
    expect(error.details.clickhouseCode).toBe(53);
  });

  it.each([
    [159, 'TIMEOUT_EXCEEDED'],
    [202, 'TOO_MANY_SIMULTANEOUS_QUERIES'],
    [241, 'MEMORY_LIMIT_EXCEEDED'],
    [252, 'TOO_MANY_PARTS'],
  ])('transient server code %i → STORAGE_UNAVAILABLE, retriable', (code, type) => {
    const fromClient = toStorageError(clientClickHouseError(String(code), type, 'busy'), server);
    const from1816 = toStorageError(
      new Error(`Code: ${code}, e.displayText() = DB::Exception: busy, e.what() = DB::Exception`),
      server,
    );
    for (const error of [fromClient, from1816]) {
      expect(error.code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
      expect(error.retriable).toBe(true);
      expect(error.details).toMatchObject({ clickhouseCode: code, clickhouseType: type });
    }
  });

  it.each([193, 516])('authentication failure %i → STORAGE_QUERY_FAILED, not retriable', (code) => {
    const error = toStorageError(clientClickHouseError(String(code), 'AUTHENTICATION_FAILED', 'bad password'), server);
    expect(error.code).toBe(ErrorCode.STORAGE_QUERY_FAILED);
    expect(error.retriable).toBe(false);
    expect(error.details).toMatchObject({ clickhouseCode: code, reason: 'authentication' });
  });

  it('the structured code wins over text that looks like a timeout', () => {
    const error = toStorageError(clientClickHouseError('60', 'UNKNOWN_TABLE', 'Timeout error.'), server);
    expect(error.code).toBe(ErrorCode.STORAGE_QUERY_FAILED);
  });
});

describe('toStorageError: transport failures', () => {
  it.each([
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'],
    ['ECONNRESET', 'socket hang up'],
    ['ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:8123'],
    ['EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.1:8123'],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND clickhouse'],
    ['EPIPE', 'write EPIPE'],
  ])('%s → STORAGE_UNAVAILABLE, retriable', (code, message) => {
    const error = toStorageError(nodeSystemError(code, message), server);
    expect(error.code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
    expect(error.retriable).toBe(true);
    expect(error.details).toMatchObject({ errno: code, target: 'http://127.0.0.1:8123' });
  });

  it('reads the errno from the cause when the outer error has none', () => {
    const error = toStorageError(new Error('fetch failed', { cause: { code: 'ECONNREFUSED' } }), server);
    expect(error.code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
    expect(error.details.errno).toBe('ECONNREFUSED');
  });

  it("the client's request timeout → STORAGE_UNAVAILABLE, retriable", () => {
    const error = toStorageError(new Error('Timeout error.'), server);
    expect(error.code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
    expect(error.retriable).toBe(true);
    expect(error.details.reason).toBe('timeout');
  });

  it('a non-ClickHouse error page (proxy 502) → STORAGE_UNAVAILABLE, retriable', () => {
    const error = toStorageError(new Error('<html><body><h1>502 Bad Gateway</h1></body></html>'), server);
    expect(error.code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
    expect(error.retriable).toBe(true);
  });

  it('a "Code:" quoted inside other text is not taken for a ClickHouse code', () => {
    const error = toStorageError(new Error('proxy said: Code: 62, e.displayText() = DB::Exception: x'), server);
    expect(error.details.clickhouseCode).toBeUndefined();
  });

  it('a programming error on our side → STORAGE_QUERY_FAILED, not retriable', () => {
    const error = toStorageError(new TypeError('Do not know how to serialize a BigInt'), server);
    expect(error.code).toBe(ErrorCode.STORAGE_QUERY_FAILED);
    expect(error.retriable).toBe(false);
  });

  it('handles thrown non-errors', () => {
    expect(toStorageError('boom', server).code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
    expect(toStorageError(undefined, server).code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
  });
});

describe('toStorageError: chDB', () => {
  it('a query error with clickhouseCode → STORAGE_QUERY_FAILED with code and type', () => {
    const error = toStorageError(
      chdbError(
        'CHDB_INSERT',
        "Code: 27. DB::Exception: Cannot parse input: expected '\"' before: 'x': (at row 1)\n: While executing ParallelParsingBlockInputFormat. (CANNOT_PARSE_INPUT_ASSERTION_FAILED)",
        27,
      ),
      embedded,
    );
    expect(error.code).toBe(ErrorCode.STORAGE_QUERY_FAILED);
    expect(error.retriable).toBe(false);
    expect(error.details).toMatchObject({
      adapter: 'embedded',
      operation: 'insert',
      clickhouseCode: 27,
      clickhouseType: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
    });
  });

  it('a second data directory in one process → STORAGE_UNAVAILABLE, not retriable', () => {
    const error = toStorageError(
      chdbError('CHDB_CONNECTION', 'chdb: only one active data directory per process; close the current session'),
      embedded,
    );
    expect(error.code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
    expect(error.retriable).toBe(false);
    expect(error.details.chdbCode).toBe('CHDB_CONNECTION');
  });

  it('a closed session → STORAGE_UNAVAILABLE, not retriable; a timeout → retriable', () => {
    expect(toStorageError(chdbError('CHDB_CLOSED', 'No active connection available'), embedded)).toMatchObject({
      code: ErrorCode.STORAGE_UNAVAILABLE,
      retriable: false,
    });
    expect(toStorageError(chdbError('CHDB_TIMEOUT', 'Query timed out after 10ms'), embedded)).toMatchObject({
      code: ErrorCode.STORAGE_UNAVAILABLE,
      retriable: true,
    });
  });
});

describe('toStorageError: secrets and pass-through', () => {
  it('never carries a secret in the message, and drops a cause that quotes it', () => {
    const foreign = new Error(
      'Code: 36, e.displayText() = DB::Exception: bad value hunter2-secret, e.what() = DB::Exception',
    );
    const error = toStorageError(foreign, server);
    expect(error.message).not.toContain('hunter2-secret');
    expect(error.message).toContain('[redacted]');
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('hunter2');
  });

  it('keeps the cause when it holds no secret', () => {
    const foreign = nodeSystemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1');
    expect(toStorageError(foreign, server).cause).toBe(foreign);
  });

  it('returns a DriftlineError unchanged', () => {
    const original = new DriftlineError(ErrorCode.SQL_VALUE_INVALID, 'bad');
    expect(toStorageError(original, server)).toBe(original);
  });
});

describe('signalFromText', () => {
  it('reads both message forms and the timeout', () => {
    expect(
      signalFromText("Code: 60, e.displayText() = DB::Exception: Table x doesn't exist., e.what() = DB::Exception"),
    ).toEqual({
      kind: 'clickhouse',
      code: 60,
      type: undefined,
    });
    expect(
      signalFromText('Code: 60. DB::Exception: Table x does not exist. (UNKNOWN_TABLE) (version 24.8.1.1)'),
    ).toEqual({
      kind: 'clickhouse',
      code: 60,
      type: 'UNKNOWN_TABLE',
    });
    expect(signalFromText('Timeout error.')).toEqual({ kind: 'timeout' });
    expect(signalFromText('connect ECONNREFUSED 127.0.0.1:1')).toBeUndefined();
  });
});

describe('safeUrl', () => {
  it('drops credentials, query and fragment', () => {
    expect(safeUrl('http://user:hunter2-secret@ch.example:8123/?password=x#y')).toBe('http://ch.example:8123');
    expect(safeUrl('not a url')).toBe('[unparsable URL]');
  });
});
