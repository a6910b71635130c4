/**
 * Pure parsing of what the OS tells about processes and tools: pid files, /proc entries,
 * `java -version`, log tails.
 */

/** A pid file holds one positive integer; anything else counts as no pid. */
export function parsePid(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed)) return undefined;
  const pid = Number(trimmed);
  return pid > 1 && pid <= 4_194_304 ? pid : undefined;
}

/** /proc/<pid>/cmdline: arguments separated (and usually ended) by NUL. */
export function parseCmdline(raw: string): string[] {
  const args = raw.split('\0');
  if (args.at(-1) === '') args.pop();
  return args;
}

/**
 * Whether a command line belongs to the service we started: it must carry every marker as a
 * whole argument. Matching whole arguments (not substrings) keeps a pid that the OS reused
 * for, say, `tail -f …/kafka.log` from passing for the broker.
 */
export function cmdlineMatches(argv: readonly string[], markers: readonly string[]): boolean {
  return markers.length > 0 && markers.every((marker) => argv.includes(marker));
}

/**
 * The state letter of /proc/<pid>/stat (R, S, D, Z, …). The command name in parentheses may
 * itself hold spaces and parentheses, so the state is found after the LAST ')'.
 */
export function parseProcState(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const state = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/)[0];
  return state === undefined || state === '' ? undefined : state;
}

/** A process that has exited but is not yet reaped (zombie, dead) counts as gone. */
export function isLiveState(state: string | undefined): boolean {
  return state !== undefined && state !== 'Z' && state !== 'X' && state !== 'x';
}

/** Major version from `java -version` output: `openjdk version "17.0.15"` → 17, `"1.8.0_392"` → 8. */
export function parseJavaMajor(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(output);
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** The last `count` non-empty lines of a text. */
export function lastLines(text: string, count: number): string[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  return lines.slice(Math.max(0, lines.length - count));
}
