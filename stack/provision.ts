/**
 * Getting the services onto the machine, once: Kafka's jars and Apicurio from Maven Central
 * into the cache directory, ClickHouse from Debian's package. Each step either completes or
 * leaves nothing behind (downloads land in a temporary folder renamed into place at the end),
 * so an interrupted provision is simply redone.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { APICURIO_VERSION, KAFKA_VERSION, type StackLayout } from './layout.ts';
import { findExecutable, isRoot, run } from './os.ts';
import { lastLines, parseJavaMajor } from './proc.ts';
import type { StackServiceName } from './types.ts';

const KAFKA_POM = fileURLToPath(new URL('./kafka/pom.xml', import.meta.url));
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const MVN_TIMEOUT_MS = 20 * 60_000;
const APT_TIMEOUT_MS = 15 * 60_000;

function missing(message: string, details: Record<string, unknown>): DriftlineError {
  return new DriftlineError(ErrorCode.STACK_PREREQUISITE_MISSING, message, { details });
}

function provisionFailed(message: string, output: string, details: Record<string, unknown>): DriftlineError {
  const tail = lastLines(output, 20);
  return new DriftlineError(
    ErrorCode.STACK_PROVISION_FAILED,
    tail.length > 0 ? `${message}\n${tail.map((line) => `  | ${line}`).join('\n')}` : message,
    { details },
  );
}

/** Where Debian's JDKs, and JDKs unpacked beside them, live. */
const JVM_DIR = '/usr/lib/jvm';

const javaMajors = new Map<string, Promise<number | undefined>>();

function javaMajor(java: string): Promise<number | undefined> {
  let major = javaMajors.get(java);
  if (major === undefined) {
    major = run(java, ['-version'], { timeoutMs: 30_000 }).then(
      (result) => parseJavaMajor(result.output),
      () => undefined,
    );
    javaMajors.set(java, major);
  }
  return major;
}

/**
 * A Java runtime of at least `min`: `<javaHome>/bin/java` when STACK_JAVA_HOME is set, else the
 * one on PATH if it is new enough, else the newest JDK under /usr/lib/jvm. Kafka 4.1 runs on
 * 17, but Apicurio Registry 3.3 is compiled for 21, and Debian 12 packages only 17, so a second
 * JDK may be the only one that fits.
 */
export async function requireJava(service: StackServiceName, min: number, javaHome?: string): Promise<string> {
  if (javaHome !== undefined) {
    const java = join(javaHome, 'bin', 'java');
    const major = existsSync(java) ? await javaMajor(java) : undefined;
    if (major !== undefined && major >= min) return java;
    throw missing(
      `${service} needs Java ${min}+, but STACK_JAVA_HOME=${javaHome} has ` +
        `${major === undefined ? 'no working bin/java' : `Java ${major}`}. Point it at a JDK ${min}+ or unset it.`,
      { tool: 'java', service, min, javaHome, variable: 'STACK_JAVA_HOME' },
    );
  }
  const onPath = findExecutable('java');
  const candidates = [...(onPath === undefined ? [] : [onPath]), ...(await jvmDirJavas())];
  const found: Array<{ java: string; major: number | undefined }> = [];
  for (const java of [...new Set(candidates)]) {
    const major = await javaMajor(java);
    if (major !== undefined && major >= min) return java;
    found.push({ java, major });
  }
  const seen =
    found.length === 0
      ? 'no java was found on PATH or under /usr/lib/jvm'
      : `found only ${found.map((f) => `${f.java} (Java ${f.major ?? '?'})`).join(', ')}`;
  throw missing(
    `${service} needs Java ${min}+, but ${seen}. Install a JDK ${min}+ (on PATH or under /usr/lib/jvm)` +
      `, or point ${service === 'kafka' ? 'KAFKA_BROKERS' : 'SCHEMA_REGISTRY_URL'} at a service you run yourself.`,
    { tool: 'java', service, min, found },
  );
}

/** /usr/lib/jvm/<jdk>/bin/java, newest-looking first (by the version digits in the folder name). */
async function jvmDirJavas(): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(JVM_DIR);
  } catch {
    return [];
  }
  const version = (name: string) => Number(/(\d+)/.exec(name.replace(/^java-1\./, 'java-'))?.[1] ?? 0);
  return entries
    .sort((a, b) => version(b) - version(a))
    .map((name) => join(JVM_DIR, name, 'bin', 'java'))
    .filter((java) => existsSync(java));
}

function requireMvn(what: string): string {
  const mvn = findExecutable('mvn');
  if (mvn === undefined) {
    throw missing(
      `mvn (Apache Maven) was not found on PATH; it is needed once to download ${what} from Maven Central. ` +
        'Install it (for example: apt-get install maven) and run again.',
      { tool: 'mvn' },
    );
  }
  return mvn;
}

// Two mvn processes filling one ~/.m2 at once can corrupt each other's downloads (Maven 3.8
// does not lock its local repository), so provisions that use mvn take turns.
let mvnQueue: Promise<unknown> = Promise.resolve();
function serialised<T>(task: () => Promise<T>): Promise<T> {
  const next = mvnQueue.then(task, task);
  mvnQueue = next.catch(() => undefined);
  return next;
}

export function kafkaProvisioned(layout: StackLayout): boolean {
  return existsSync(join(layout.kafka.libsDir, `kafka_2.13-${KAFKA_VERSION}.jar`));
}

export function registryProvisioned(layout: StackLayout): boolean {
  return existsSync(layout.registry.runJar);
}

/** Kafka's runtime jars into `<cacheDir>/kafka-<version>/libs`. */
export async function provisionKafka(layout: StackLayout, logger: Logger): Promise<void> {
  if (kafkaProvisioned(layout)) return;
  const mvn = requireMvn(`Kafka ${KAFKA_VERSION}`);
  await serialised(async () => {
    if (kafkaProvisioned(layout)) return;
    logger.info({ service: 'kafka', into: layout.kafka.libsDir }, `downloading Kafka ${KAFKA_VERSION} jars (once)`);
    const parent = dirname(layout.kafka.libsDir);
    await mkdir(parent, { recursive: true });
    const staging = await mkdtemp(join(parent, '.libs-'));
    try {
      const result = await run(
        mvn,
        [
          '-B',
          '-q',
          '-f',
          KAFKA_POM,
          `${DEPENDENCY_PLUGIN}:copy-dependencies`,
          '-DincludeScope=runtime',
          `-DoutputDirectory=${staging}`,
        ],
        { timeoutMs: MVN_TIMEOUT_MS },
      );
      if (result.code !== 0 || !existsSync(join(staging, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
        throw provisionFailed(
          `Downloading Kafka ${KAFKA_VERSION} with mvn failed${result.timedOut ? ' (timed out)' : ''}.`,
          result.output,
          { service: 'kafka', code: result.code },
        );
      }
      await moveIntoPlace(staging, layout.kafka.libsDir);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });
}

/** Apicurio Registry's app archive, extracted into `<cacheDir>/apicurio-registry-<version>`. */
export async function provisionRegistry(layout: StackLayout, logger: Logger): Promise<void> {
  if (registryProvisioned(layout)) return;
  const mvn = requireMvn(`Apicurio Registry ${APICURIO_VERSION}`);
  const tar = findExecutable('tar');
  if (tar === undefined)
    throw missing('tar was not found on PATH; it is needed to unpack Apicurio Registry.', { tool: 'tar' });
  await serialised(async () => {
    if (registryProvisioned(layout)) return;
    logger.info(
      { service: 'registry', into: layout.registry.appDir },
      `downloading Apicurio Registry ${APICURIO_VERSION} (~160 MB, once)`,
    );
    const parent = dirname(layout.registry.appDir);
    await mkdir(parent, { recursive: true });
    const staging = await mkdtemp(join(parent, '.apicurio-'));
    try {
      const download = join(staging, 'download');
      const result = await run(
        mvn,
        [
          '-B',
          '-q',
          `${DEPENDENCY_PLUGIN}:copy`,
          `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
          `-DoutputDirectory=${download}`,
        ],
        // No pom here: the goal needs none, and a stray pom in the cwd must not be picked up.
        { cwd: staging, timeoutMs: MVN_TIMEOUT_MS },
      );
      const archive = existsSync(download) ? (await readdir(download)).find((f) => f.endsWith('.tar.gz')) : undefined;
      if (result.code !== 0 || archive === undefined) {
        throw provisionFailed(
          `Downloading Apicurio Registry ${APICURIO_VERSION} with mvn failed${result.timedOut ? ' (timed out)' : ''}.`,
          result.output,
          { service: 'registry', code: result.code },
        );
      }
      const extracted = join(staging, 'app');
      await mkdir(extracted);
      const untar = await run(tar, ['-xzf', join(download, archive), '-C', extracted], { timeoutMs: 5 * 60_000 });
      const root = untar.code === 0 ? await findRunJarDir(extracted) : undefined;
      if (root === undefined) {
        throw provisionFailed(`Unpacking ${archive} failed or it holds no quarkus-run.jar.`, untar.output, {
          service: 'registry',
          code: untar.code,
        });
      }
      await moveIntoPlace(root, layout.registry.appDir);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });
}

/** quarkus-run.jar sits at the archive root from 3.3.0; older layouts nest it one folder down. */
async function findRunJarDir(dir: string): Promise<string | undefined> {
  if (existsSync(join(dir, 'quarkus-run.jar'))) return dir;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && existsSync(join(dir, entry.name, 'quarkus-run.jar'))) return join(dir, entry.name);
  }
  return undefined;
}

/** Atomic from the reader's side; if another process got there first, keep its copy. */
async function moveIntoPlace(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if (!existsSync(to)) throw error;
  }
}

const CLICKHOUSE_DIRS = ['/usr/bin', '/usr/sbin'];

export function findClickHouseServer(): string | undefined {
  return findExecutable('clickhouse-server', CLICKHOUSE_DIRS);
}

let clickhouseInstall: Promise<string> | undefined;

/** Path of clickhouse-server, installing Debian's package first when we may. */
export function ensureClickHouse(logger: Logger): Promise<string> {
  const found = findClickHouseServer();
  if (found !== undefined) return Promise.resolve(found);
  clickhouseInstall ??= installClickHouse(logger).finally(() => {
    clickhouseInstall = undefined;
  });
  return clickhouseInstall;
}

async function installClickHouse(logger: Logger): Promise<string> {
  const fix =
    'install it (apt-get install clickhouse-server clickhouse-client), or set CLICKHOUSE_URL to a ClickHouse server you run';
  const aptGet = findExecutable('apt-get');
  if (aptGet === undefined) {
    throw missing(`clickhouse-server is not installed and apt-get is not available to install it; ${fix}.`, {
      tool: 'clickhouse-server',
    });
  }
  if (!isRoot()) {
    throw missing(`clickhouse-server is not installed and installing it needs root; as root, ${fix}.`, {
      tool: 'clickhouse-server',
    });
  }
  logger.info({ service: 'clickhouse' }, 'installing Debian package clickhouse-server (once)');
  const install = () =>
    run(
      aptGet,
      [
        'install',
        '-y',
        '--no-install-recommends',
        // Wait for another apt/dpkg run to finish instead of failing on its lock at once.
        '-o',
        'DPkg::Lock::Timeout=300',
        'clickhouse-server',
        'clickhouse-client',
      ],
      { timeoutMs: APT_TIMEOUT_MS, env: { DEBIAN_FRONTEND: 'noninteractive' } },
    );
  let result = await install();
  // A machine whose package lists were never fetched knows no such package: update once, retry.
  if (result.code !== 0 && /Unable to locate package|has no installation candidate/.test(result.output)) {
    logger.info({ service: 'clickhouse' }, 'apt-get does not know clickhouse-server yet; running apt-get update');
    const update = await run(aptGet, ['update', '-o', 'DPkg::Lock::Timeout=300'], {
      timeoutMs: APT_TIMEOUT_MS,
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (update.code !== 0) {
      throw provisionFailed('apt-get update failed.', update.output, { service: 'clickhouse', code: update.code });
    }
    result = await install();
  }
  const server = findClickHouseServer();
  if (result.code !== 0 || server === undefined) {
    throw provisionFailed(
      `apt-get install clickhouse-server failed${result.timedOut ? ' (timed out)' : ''}.`,
      result.output,
      { service: 'clickhouse', code: result.code },
    );
  }
  return server;
}
