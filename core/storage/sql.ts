/**
 * The only way values get into SQL. ClickHouse 18.16 has no server-side query parameters
 * (`{name:Type}`), so values are rendered as literals here, names are validated, and the `sql`
 * tag composes both: an interpolated plain value always becomes a literal, and only a
 * `SqlFragment` (made by this module) is inserted as SQL text.
 *
 * ```ts
 * sql`SELECT * FROM ${identifier('events')} WHERE model = ${model} AND ts >= ${since}`
 * ```
 */
import { DriftlineError, ErrorCode } from '../errors.ts';

/** A value `literal()` can render. */
export type SqlValue = string | number | bigint | boolean | null | Date | readonly SqlValue[];

/** A name ClickHouse takes unquoted (and an Avro field name too): letters, digits, underscores, not starting with a digit. */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Largest Unix second a ClickHouse DateTime (UInt32) can hold. */
export const MAX_DATETIME_SECONDS = 4_294_967_295;
/** A lone UTF-16 surrogate: it has no UTF-8 form, so it would not come back unchanged. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
const NEEDS_ESCAPE = /[\\'\u0000-\u001f\u007f]/g;
const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  "'": "\\'",
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
};

/** Only this module can make fragments, so SQL text cannot arrive disguised as one. */
const FRAGMENT_TOKEN = Symbol('SqlFragment');

/** SQL text built by this module: a validated identifier, a literal, or a `sql` template. */
export class SqlFragment {
  readonly #text: string;

  constructor(token: typeof FRAGMENT_TOKEN, text: string) {
    if (token !== FRAGMENT_TOKEN) throw new TypeError('SqlFragment is made by sql(), identifier() or literal()');
    this.#text = text;
  }

  get text(): string {
    return this.#text;
  }

  toString(): string {
    return this.#text;
  }

  /** True for fragments made by this module; a look-alike `{ text }` object is not one. */
  static is(value: unknown): value is SqlFragment {
    return typeof value === 'object' && value !== null && #text in value;
  }
}

function fragment(text: string): SqlFragment {
  return new SqlFragment(FRAGMENT_TOKEN, text);
}

function invalid(message: string, details: Record<string, unknown> = {}): DriftlineError {
  return new DriftlineError(ErrorCode.SQL_VALUE_INVALID, message, { details });
}

/**
 * A name (table, column, database), validated against `^[A-Za-z_][A-Za-z0-9_]*$` and
 * backquoted; several parts make a qualified name: `identifier('db', 't')` → `` `db`.`t` ``.
 */
export function identifier(...parts: readonly string[]): SqlFragment {
  if (parts.length === 0) throw invalid('identifier() needs at least one name');
  for (const part of parts) assertIdentifier(part);
  return fragment(parts.map((part) => `\`${part}\``).join('.'));
}

/** Throws SQL_VALUE_INVALID unless `name` is letters, digits and underscores, not starting with a digit. */
export function assertIdentifier(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !IDENTIFIER_PATTERN.test(name)) {
    throw invalid(
      `Not a valid SQL name: ${JSON.stringify(String(name)).slice(0, 80)}; use letters, digits and underscores, not starting with a digit`,
      { name: String(name).slice(0, 80) },
    );
  }
}

/**
 * A value as a ClickHouse literal:
 * - string → single-quoted; backslash, quote and control characters escaped (`\n`, `\t`,
 *   `\r`, `\0`, others as `\xHH`); other characters, any Unicode, pass through as UTF-8;
 * - finite number, bigint → digits; a negative one gets a leading space, so `1-${-1}` cannot
 *   become `1--1` (a comment); subnormal floats become 0 (see `finiteNumber`);
 * - boolean → 1 / 0 (18.16 has no Bool); null → NULL;
 * - Date → `toDateTime(<Unix seconds>)`: an instant, not a wall-clock string, so the server's
 *   time zone cannot shift it; sub-second precision is dropped (DateTime counts seconds);
 * - array → `[a, b]` of the above.
 * NaN, ±Infinity, invalid or out-of-range dates, strings with lone surrogates and anything else
 * (undefined, objects) throw SQL_VALUE_INVALID.
 */
export function literal(value: SqlValue): SqlFragment {
  return fragment(renderLiteral(value));
}

/** `inArray`: after `[` or `, ` a minus cannot join a preceding one, so no space is needed. */
function renderLiteral(value: unknown, inArray = false): string {
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number': {
      const n = finiteNumber(value);
      return n < 0 && !inArray ? ` ${n}` : String(n);
    }
    case 'bigint':
      return value < 0n && !inArray ? ` ${value}` : String(value);
    case 'boolean':
      return value ? '1' : '0';
    case 'object':
      if (value === null) return 'NULL';
      if (value instanceof Date) return `toDateTime(${dateToUnixSeconds(value)})`;
      if (Array.isArray(value)) return `[${value.map((item) => renderLiteral(item, true)).join(', ')}]`;
      break;
  }
  throw invalid(`Cannot put a value of type ${describeType(value)} into SQL`);
}

function quoteString(value: string): string {
  if (LONE_SURROGATE.test(value)) {
    throw invalid('Cannot put a string with a lone UTF-16 surrogate into SQL: it has no UTF-8 form');
  }
  return `'${value.replace(NEEDS_ESCAPE, escapeChar)}'`;
}

function escapeChar(char: string): string {
  return ESCAPES[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/** Smallest positive normal Float64; below it (subnormals) ClickHouse 18.16 parses nothing. */
export const MIN_NORMAL_FLOAT64 = 2.2250738585072014e-308;

/**
 * A finite number as both ClickHouse versions read it. Subnormals (0 < |n| < 2.2e-308) become 0:
 * 18.16 refuses them as SQL literals and stores 0 when it reads them from JSON, so flushing them
 * here keeps the server and chDB alike. Shared with the JSONEachRow encoder.
 */
export function finiteNumber(n: number): number {
  if (!Number.isFinite(n)) throw invalid(`Cannot put ${n} into SQL: numbers must be finite`);
  return n !== 0 && Math.abs(n) < MIN_NORMAL_FLOAT64 ? 0 : n;
}

/**
 * Whole Unix seconds of a Date (rounded down), checked against what DateTime can hold
 * (1970-01-01 to 2106-02-07 UTC). Shared with the JSONEachRow encoder for inserts.
 */
export function dateToUnixSeconds(date: Date): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw invalid('Cannot put an invalid Date into SQL');
  const seconds = Math.floor(ms / 1000);
  if (seconds < 0 || seconds > MAX_DATETIME_SECONDS) {
    throw invalid(`Cannot put ${date.toISOString()} into SQL: DateTime holds 1970-01-01 to 2106-02-07 UTC`);
  }
  return seconds;
}

/**
 * Tagged template: the literal parts are SQL written in code; each interpolation is either a
 * `SqlFragment` (inserted as is) or a value (rendered with `literal`).
 */
export function sql(strings: TemplateStringsArray, ...values: readonly (SqlValue | SqlFragment)[]): SqlFragment {
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    text += toSqlText(values[i]) + (strings[i + 1] ?? '');
  }
  return fragment(text);
}

/** Fragments and values joined by a separator fragment (default `, `), e.g. for `IN (…)`. */
export function join(items: readonly (SqlValue | SqlFragment)[], separator: SqlFragment = fragment(', ')): SqlFragment {
  return fragment(items.map(toSqlText).join(separator.text));
}

function toSqlText(value: SqlValue | SqlFragment | undefined): string {
  return SqlFragment.is(value) ? value.text : renderLiteral(value);
}
