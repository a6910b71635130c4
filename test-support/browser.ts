/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven by playwright-core
 * through its executable path — never a Playwright browser download (no network for that here or
 * on CI). When /usr/bin/chromium is missing it is installed as clickhouse-server is by the local
 * stack (stack/provision.ts): apt-get as root, waiting for another dpkg run's lock, and an
 * `apt-get update` first when the package lists do not know the package yet.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { findExecutable, isRoot, run } from '../stack/os.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const APT_TIMEOUT_MS = 15 * 60_000;
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

let installing: Promise<void> | undefined;

/** Installs Debian's chromium when it is not there yet (once per process). */
export function ensureChromium(): Promise<void> {
  if (existsSync(CHROMIUM_PATH)) return Promise.resolve();
  installing ??= installChromium().finally(() => {
    installing = undefined;
  });
  return installing;
}

async function installChromium(): Promise<void> {
  const aptGet = findExecutable('apt-get');
  if (aptGet === undefined || !isRoot()) {
    throw new Error(`${CHROMIUM_PATH} is missing and installing it needs apt-get as root: apt-get install chromium`);
  }
  const install = () =>
    run(aptGet, ['install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', 'chromium'], {
      timeoutMs: APT_TIMEOUT_MS,
      env: APT_ENV,
    });
  let result = await install();
  if (result.code !== 0 && /Unable to locate package|has no installation candidate/.test(result.output)) {
    const update = await run(aptGet, ['update', '-o', 'DPkg::Lock::Timeout=300'], {
      timeoutMs: APT_TIMEOUT_MS,
      env: APT_ENV,
    });
    if (update.code !== 0) throw new Error(`apt-get update failed:\n${update.output}`);
    result = await install();
  }
  if (result.code !== 0 || !existsSync(CHROMIUM_PATH)) {
    throw new Error(`apt-get install chromium failed${result.timedOut ? ' (timed out)' : ''}:\n${result.output}`);
  }
}

/** Debian's chromium, headless, installed first when missing. */
export async function launchChromium(): Promise<Browser> {
  await ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'], headless: true });
}
