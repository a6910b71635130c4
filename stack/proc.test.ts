import { describe, expect, it } from 'vitest';
import {
  cmdlineMatches,
  isLiveState,
  lastLines,
  parseCmdline,
  parseJavaMajor,
  parsePid,
  parseProcState,
} from './proc.ts';

describe('parsePid', () => {
  it('reads one positive integer, tolerating whitespace', () => {
    expect(parsePid('1234\n')).toBe(1234);
    expect(parsePid('  42 ')).toBe(42);
  });

  it('rejects anything else, and pids 0 and 1 (never ours to signal)', () => {
    for (const text of ['', 'abc', '12 34', '-5', '1.5', '0', '1', '99999999999'])
      expect(parsePid(text), text).toBe(undefined);
  });
});

describe('parseCmdline / cmdlineMatches', () => {
  const argv = parseCmdline('/usr/bin/java\0-Xmx512m\0-Ddriftline.stack=/h/stack\0kafka.Kafka\0/h/server.properties\0');

  it('splits NUL-separated arguments', () => {
    expect(argv).toEqual([
      '/usr/bin/java',
      '-Xmx512m',
      '-Ddriftline.stack=/h/stack',
      'kafka.Kafka',
      '/h/server.properties',
    ]);
    expect(parseCmdline('')).toEqual([]);
  });

  it('needs every marker as a whole argument', () => {
    expect(cmdlineMatches(argv, ['-Ddriftline.stack=/h/stack', 'kafka.Kafka'])).toBe(true);
    // Another home's broker, a substring, or a reused pid running something else do not match.
    expect(cmdlineMatches(argv, ['-Ddriftline.stack=/other/stack', 'kafka.Kafka'])).toBe(false);
    expect(cmdlineMatches(argv, ['-Ddriftline.stack=/h'])).toBe(false);
    expect(cmdlineMatches(['tail', '-f', '/h/stack/logs/kafka.log'], ['kafka.Kafka'])).toBe(false);
    expect(cmdlineMatches(argv, [])).toBe(false);
  });
});

describe('parseProcState / isLiveState', () => {
  it('reads the state after the last parenthesis, whatever the command name holds', () => {
    expect(parseProcState('123 (java) S 1 123 123 0 -1')).toBe('S');
    expect(parseProcState('123 (a) b (c)) Z 1 2 3')).toBe('Z');
    expect(parseProcState('garbage')).toBe(undefined);
  });

  it('counts zombies and dead processes as gone', () => {
    expect(isLiveState('S')).toBe(true);
    expect(isLiveState('R')).toBe(true);
    expect(isLiveState('D')).toBe(true);
    expect(isLiveState('Z')).toBe(false);
    expect(isLiveState('X')).toBe(false);
    expect(isLiveState(undefined)).toBe(false);
  });
});

describe('parseJavaMajor', () => {
  it('reads modern and legacy version strings', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment')).toBe(17);
    expect(parseJavaMajor('openjdk version "25.0.3" 2026-04-21 LTS')).toBe(25);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('bash: java: command not found')).toBe(undefined);
  });
});

describe('lastLines', () => {
  it('keeps the last n non-empty lines', () => {
    expect(lastLines('a\n\nb\r\nc\n', 2)).toEqual(['b', 'c']);
    expect(lastLines('', 5)).toEqual([]);
    expect(lastLines('x\ny', 10)).toEqual(['x', 'y']);
  });
});
