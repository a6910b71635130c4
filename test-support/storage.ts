/**
 * Test-only helpers for the storage tests: hostile strings, the ClickHouse server endpoint the
 * integration project's global setup provides, a fresh chDB directory, and both adapters over them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { openStorage } from '../core/storage/index.ts';

/** Strings an attacker or a messy producer could send; each must survive SQL and storage unchanged. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  "'",
  "''",
  '\\',
  "\\'",
  "'\\",
  'ends with a backslash\\',
  "'; DROP TABLE t; --",
  '"; DROP TABLE t; --',
  "x' OR '1'='1",
  "\\'; DROP TABLE t; --",
  'line\nbreak',
  'crlf\r\nbreak',
  'tab\there',
  'nul\0in\0the middle',
  '\u0001\u0008\u000b\u000c\u001b\u001f\u007f',
  '\\x41 is not an escape here',
  '\\n is a backslash and an n',
  '{name:String} {0} ? $1 :name',
  '`backticks` and "double quotes"',
  '/* not a comment */ -- nor this',
  'ünïcödé 日本語 العربية 🎉 👩‍👩‍👧',
  '\u2028\u2029\uFEFF\u200B',
  '\u0080\u009f C1 controls',
  `${"'\\".repeat(500)}long`,
];

interface ProvidedServices {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  clickhouseUrl: string;
}

/**
 * The server URL from `inject('services')`. Read through an untyped key so this file compiles
 * whether or not the global setup has declared `services` on vitest's ProvidedContext.
 */
export function clickhouseServerUrl(): string {
  const services = (inject as unknown as (key: string) => unknown)('services') as Partial<ProvidedServices> | undefined;
  const url = services?.clickhouseUrl;
  if (typeof url !== 'string' || url === '') {
    throw new Error("inject('services').clickhouseUrl is missing: run with the integration project's global setup");
  }
  return url;
}

/** A new, empty directory for one test file's chDB data. */
export function freshChdbPath(): string {
  return mkdtempSync(join(tmpdir(), 'driftline-chdb-'));
}

/**
 * The two adapters a storage-facing test file runs on (with `describe.each`): the ClickHouse
 * server of the global setup, and embedded chDB in a fresh directory removed after the file.
 */
export function storageAdapters(config: Readonly<Config>, logger: Logger) {
  const chdbPath = freshChdbPath();
  afterAll(() => rmSync(chdbPath, { recursive: true, force: true }));
  return [
    { name: 'server', open: () => openStorage(config, logger, { clickhouseUrl: clickhouseServerUrl() }) },
    { name: 'embedded', open: () => openStorage(config, logger, { chdbPath }) },
  ] as const;
}
