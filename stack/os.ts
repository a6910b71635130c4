/**
 * Thin adapters over the OS: executables on PATH, /proc, pid files, detached processes,
 * bounded child runs, port probes, log tails. No decisions here; those are in plan.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cmdlineMatches, isLiveState, lastLines, parseCmdline, parsePid, parseProcState } from './proc.ts';

export { sleep };

/** Full path of an executable found on PATH or in `extraDirs` (searched first), if any. */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | undefined {
  // PATH is the OS's lookup list, not Driftline configuration, hence read here directly.
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of [...extraDirs, ...pathDirs]) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Whether a process exists and has not exited (a zombie counts as exited). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    return isLiveState(parseProcState(await readFile(`/proc/${pid}/stat`, 'utf8')));
  } catch {
    return false;
  }
}

export async function readCmdline(pid: number): Promise<string[]> {
  try {
    return parseCmdline(await readFile(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return [];
  }
}

/**
 * The pid in a pid file if that process is alive and still carries our markers. A pid file
 * that fails either test is stale (the process died, or the OS reused its pid) and is removed.
 */
export async function readOwnPid(pidPath: string, markers: readonly string[]): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(pidPath, 'utf8');
  } catch {
    return undefined;
  }
  const pid = parsePid(text);
  if (pid !== undefined && (await isAlive(pid)) && cmdlineMatches(await readCmdline(pid), markers)) return pid;
  await rm(pidPath, { force: true });
  return undefined;
}

export async function writePidFile(pidPath: string, pid: number): Promise<void> {
  await mkdir(dirname(pidPath), { recursive: true });
  await writeFile(pidPath, `${pid}\n`);
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

const MAX_LOG_BYTES = 50 * 1024 * 1024;

/**
 * Starts a process in its own session with stdout/stderr appended to `logPath`, so it keeps
 * running after the CLI that started it exits. Resolves with its pid once it has spawned.
 */
export async function spawnDetached(
  command: string,
  args: readonly string[],
  options: { cwd: string; logPath: string; banner: string },
): Promise<number> {
  await mkdir(dirname(options.logPath), { recursive: true });
  await rotateIfLarge(options.logPath);
  await writeFile(options.logPath, `\n===== ${new Date().toISOString()} ${options.banner} =====\n`, { flag: 'a' });
  // The child gets its own copy of the descriptor; ours is closed right after the spawn.
  const fd = openSync(options.logPath, 'a');
  try {
    const child = spawn(command, args, { cwd: options.cwd, detached: true, stdio: ['ignore', fd, fd] });
    const pid = await spawned(child);
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}

function spawned(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      if (child.pid === undefined) reject(new Error('spawned process has no pid'));
      else resolve(child.pid);
    });
  });
}

async function rotateIfLarge(path: string): Promise<void> {
  try {
    if ((await stat(path)).size > MAX_LOG_BYTES) await rename(path, `${path}.1`);
  } catch {
    // no log yet
  }
}

/**
 * SIGTERM, then SIGKILL if the process outlives `graceMs`. Resolves once it is gone or
 * `killMs` after the SIGKILL, whichever comes first; returns whether it is gone.
 */
export async function stopProcess(pid: number, graceMs: number, killMs = 5_000): Promise<boolean> {
  if (!signal(pid, 'SIGTERM')) return true;
  if (await waitGone(pid, graceMs)) return true;
  signal(pid, 'SIGKILL');
  return waitGone(pid, killMs);
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return true;
    await sleep(200);
  }
  return !(await isAlive(pid));
}

export interface RunResult {
  code: number | null;
  timedOut: boolean;
  /** The tail of stdout and stderr interleaved, bounded. */
  output: string;
}

const MAX_OUTPUT_CHARS = 64 * 1024;

/** Runs a command to completion (or until `timeoutMs`, then kills it); never rejects on exit codes. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs: number; env?: Record<string, string> },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env === undefined ? undefined : { ...process.env, ...options.env },
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > MAX_OUTPUT_CHARS) output = output.slice(output.length - MAX_OUTPUT_CHARS);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, output });
    });
  });
}

/**
 * Whether something holds a loopback port: we try to bind it as the services would. Bind,
 * not connect, because a listener on 0.0.0.0 or one that accepts nothing still blocks us.
 */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** The last `count` non-empty lines of a file (reads at most its last 64 KiB). */
export async function tailFile(path: string, count: number): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return lastLines(buffer.toString('utf8'), count);
  } catch {
    return [];
  } finally {
    await handle?.close();
  }
}
