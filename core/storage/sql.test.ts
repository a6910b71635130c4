import { describe, expect, it } from 'vitest';
import { HOSTILE_STRINGS } from '../../test-support/storage.ts';
import { ErrorCode, isDriftlineError } from '../errors.ts';
import { dateToUnixSeconds, identifier, join, literal, SqlFragment, type SqlValue, sql } from './sql.ts';

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(isDriftlineError(error, ErrorCode.SQL_VALUE_INVALID)).toBe(true);
    return;
  }
  throw new Error('expected SQL_VALUE_INVALID');
}

/** Decodes a ClickHouse quoted string the way its parser does, for the escapes literal() emits. */
function unquote(text: string): string {
  expect(text.startsWith("'") && text.endsWith("'") && text.length >= 2).toBe(true);
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (char === "'") throw new Error(`unescaped quote at ${i} in ${text}`);
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = body[++i];
    switch (next) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '0':
        out += '\0';
        break;
      case 'x':
        out += String.fromCharCode(Number.parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case '\\':
      case "'":
        out += next;
        break;
      default:
        throw new Error(`unexpected escape \\${next} in ${text}`);
    }
  }
  return out;
}

describe('identifier', () => {
  it('backquotes valid names and joins qualified ones', () => {
    expect(identifier('events').text).toBe('`events`');
    expect(identifier('_t1').text).toBe('`_t1`');
    expect(identifier('driftline', 'drift_scores').text).toBe('`driftline`.`drift_scores`');
  });

  it.each([
    '',
    '1abc',
    'a-b',
    'a b',
    'a.b',
    'a`b',
    "t'; DROP TABLE x; --",
    't`; DROP TABLE x; --',
    'таблица',
    'tab\tle',
    'x\n',
  ])('refuses %j', (name) => {
    expectInvalid(() => identifier(name));
  });

  it('refuses no name and non-strings', () => {
    expectInvalid(() => identifier());
    expectInvalid(() => identifier(42 as unknown as string));
  });
});

describe('literal: strings', () => {
  it('escapes quotes, backslashes and control characters', () => {
    expect(literal("it's").text).toBe("'it\\'s'");
    expect(literal('a\\b').text).toBe("'a\\\\b'");
    expect(literal('a\nb\tc\rd\0e').text).toBe("'a\\nb\\tc\\rd\\0e'");
    expect(literal('\u0001\u001f\u007f').text).toBe("'\\x01\\x1f\\x7f'");
    expect(literal("'; DROP TABLE t; --").text).toBe("'\\'; DROP TABLE t; --'");
  });

  it('passes Unicode through unchanged', () => {
    expect(literal('ünï 日本 🎉').text).toBe("'ünï 日本 🎉'");
  });

  it.each(HOSTILE_STRINGS.map((s) => [s]))('keeps %j inside one string literal, decodable to itself', (value) => {
    const text = literal(value).text;
    // No raw control characters survive, and every quote inside is escaped (unquote checks).
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(text).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(unquote(text)).toBe(value);
  });

  it('refuses lone surrogates, which have no UTF-8 form', () => {
    expectInvalid(() => literal('\uD800'));
    expectInvalid(() => literal('a\uDC00b'));
    expect(literal('\uD83C\uDF89').text).toBe("'🎉'");
  });
});

describe('literal: other values', () => {
  it('renders numbers, with a space before a minus', () => {
    expect(literal(42).text).toBe('42');
    expect(literal(1.5).text).toBe('1.5');
    expect(literal(0.1).text).toBe('0.1');
    expect(literal(-3).text).toBe(' -3');
    expect(literal(-0).text).toBe('0');
    expect(literal(1e21).text).toBe('1e+21');
    expect(literal(2.2250738585072014e-308).text).toBe('2.2250738585072014e-308');
    // Subnormals: 18.16 cannot parse them, so they are flushed to 0.
    expect(literal(5e-324).text).toBe('0');
    expect(literal(-1e-310).text).toBe('0');
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses %s', (n) => {
    expectInvalid(() => literal(n));
  });

  it('renders bigints exactly', () => {
    expect(literal(18446744073709551615n).text).toBe('18446744073709551615');
    expect(literal(-9223372036854775808n).text).toBe(' -9223372036854775808');
  });

  it('renders booleans as 1/0 and null as NULL', () => {
    expect(literal(true).text).toBe('1');
    expect(literal(false).text).toBe('0');
    expect(literal(null).text).toBe('NULL');
  });

  it('renders a Date as an instant in Unix seconds, dropping milliseconds', () => {
    expect(literal(new Date('2024-01-02T03:04:05.999Z')).text).toBe('toDateTime(1704164645)');
    expect(literal(new Date(0)).text).toBe('toDateTime(0)');
    // The same instant written with an offset is the same literal: no time zone is involved.
    expect(literal(new Date('2024-01-02T05:04:05+02:00')).text).toBe('toDateTime(1704164645)');
  });

  it('refuses invalid and out-of-range dates', () => {
    expectInvalid(() => literal(new Date(Number.NaN)));
    expectInvalid(() => literal(new Date('1969-12-31T23:59:59Z')));
    expectInvalid(() => literal(new Date('2106-02-07T06:28:16Z')));
    expect(dateToUnixSeconds(new Date('2106-02-07T06:28:15Z'))).toBe(4_294_967_295);
  });

  it('renders arrays, nested ones too', () => {
    expect(literal([1, 'a', null, [true, -2]]).text).toBe("[1, 'a', NULL, [1, -2]]");
    expect(literal([]).text).toBe('[]');
    expect(literal(["'];DROP"]).text).toBe("['\\'];DROP']");
  });

  it.each([undefined, {}, { text: 'DROP TABLE t' }, () => 1, Symbol('x'), new Map()])('refuses %s', (value) => {
    expectInvalid(() => literal(value as unknown as SqlValue));
  });
});

describe('sql tag', () => {
  it('turns values into literals and keeps fragments', () => {
    const table = identifier('events');
    const query = sql`SELECT * FROM ${table} WHERE model = ${"m'1"} AND n > ${-1} AND ts >= ${new Date(1000)}`;
    expect(query.text).toBe("SELECT * FROM `events` WHERE model = 'm\\'1' AND n >  -1 AND ts >= toDateTime(1)");
  });

  it('cannot produce a comment from a minus next to a negative number', () => {
    expect(sql`SELECT 1-${-1}`.text).toBe('SELECT 1- -1');
    expect(sql`SELECT 1-${-1n}`.text).toBe('SELECT 1- -1');
    expect(sql`SELECT 1-${-1}`.text).not.toContain('--');
  });

  it('keeps a hostile value inside its literal', () => {
    expect(sql`SELECT ${"'; DROP TABLE t; --"} AS s`.text).toBe("SELECT '\\'; DROP TABLE t; --' AS s");
  });

  it('nests fragments', () => {
    const where = sql`WHERE id = ${7}`;
    expect(sql`SELECT * FROM ${identifier('t')} ${where}`.text).toBe('SELECT * FROM `t` WHERE id = 7');
    expect(`${where}`).toBe('WHERE id = 7');
  });

  it('treats a look-alike object as a value, not as SQL', () => {
    const fake = { text: 'DROP TABLE t' } as unknown as SqlFragment;
    expectInvalid(() => sql`SELECT ${fake}`);
    expect(SqlFragment.is(fake)).toBe(false);
    expect(SqlFragment.is(sql`x`)).toBe(true);
  });

  it('cannot be constructed outside the module', () => {
    const Ctor = SqlFragment as unknown as new (token: symbol, text: string) => SqlFragment;
    expect(() => new Ctor(Symbol('SqlFragment'), 'DROP TABLE t')).toThrow(TypeError);
  });

  it('joins values and fragments', () => {
    expect(sql`x IN (${join([1, 'b', null])})`.text).toBe("x IN (1, 'b', NULL)");
    expect(join([sql`a = ${1}`, sql`b = ${'x'}`], sql` AND `).text).toBe("a = 1 AND b = 'x'");
    expect(join([]).text).toBe('');
  });
});
