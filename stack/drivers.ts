/**
 * Per-service adapters: how to probe each service, whether it is provisioned, and how to get
 * it ready to spawn (provision, write its config, format storage). The generic lifecycle
 * (pid files, ports, waiting) is in index.ts and the same for all three.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { renderClickHouseConfig, renderClickHouseUsers } from './clickhouse-config.ts';
import { clickhouseHealthy, kafkaHealthy, registryHealthy, registryReady } from './health.ts';
import {
  isClusterId,
  type KafkaJvmOptions,
  kafkaFormatArgs,
  kafkaServerArgs,
  newClusterId,
  renderLog4j2Properties,
  renderServerProperties,
} from './kafka-config.ts';
import { APICURIO_MIN_JAVA, KAFKA_MIN_JAVA, stackLayout } from './layout.ts';
import { run } from './os.ts';
import { lastLines } from './proc.ts';
import {
  ensureClickHouse,
  findClickHouseServer,
  kafkaProvisioned,
  provisionKafka,
  provisionRegistry,
  registryProvisioned,
  requireJava,
} from './provision.ts';
import { registryArgs } from './registry-config.ts';
import { clickhouseConfigArg, homeMarker } from './services.ts';
import type { StackServiceName } from './types.ts';

export interface Launch {
  command: string;
  args: string[];
  cwd: string;
}

export interface ServiceDriver {
  /** The client-facing probe: answers for whoever runs the service on our port. */
  healthy(config: Readonly<Config>): Promise<boolean>;
  /** Readiness of a process we started (may look at more than clients do). */
  ready(config: Readonly<Config>): Promise<boolean>;
  provisioned(config: Readonly<Config>): boolean;
  /** Provisions if needed and writes everything the process reads; returns how to spawn it. */
  prepare(config: Readonly<Config>, logger: Logger): Promise<Launch>;
  /** How long SIGTERM may take before SIGKILL. */
  stopGraceMs: number;
}

const kafka: ServiceDriver = {
  healthy: (config) => kafkaHealthy(config.stackPorts.kafka),
  ready: (config) => kafkaHealthy(config.stackPorts.kafka),
  provisioned: (config) => kafkaProvisioned(stackLayout(config)),
  // A clean KRaft shutdown flushes logs and resigns leadership; it can take a while.
  stopGraceMs: 30_000,
  async prepare(config, logger) {
    const layout = stackLayout(config);
    const java = await requireJava('kafka', KAFKA_MIN_JAVA, config.stackJavaHome);
    await provisionKafka(layout, logger);
    await mkdir(layout.kafka.dataDir, { recursive: true });
    await mkdir(layout.logsDir, { recursive: true });
    await writeFile(
      layout.kafka.serverProperties,
      renderServerProperties({
        port: config.stackPorts.kafka,
        controllerPort: config.stackPorts.kafkaController,
        dataDir: layout.kafka.dataDir,
        partitions: config.kafkaTopicPartitions,
      }),
    );
    await writeFile(layout.kafka.log4jProperties, renderLog4j2Properties());
    const jvm: KafkaJvmOptions = {
      libsDir: layout.kafka.libsDir,
      log4jProperties: layout.kafka.log4jProperties,
      logsDir: layout.logsDir,
      marker: homeMarker(layout),
    };
    // Formatting costs a JVM start (~2 s); a formatted data dir has meta.properties.
    if (!existsSync(join(layout.kafka.dataDir, 'meta.properties'))) {
      const clusterId = await clusterIdFor(layout.kafka.clusterIdFile);
      const result = await run(java, kafkaFormatArgs(jvm, clusterId, layout.kafka.serverProperties), {
        cwd: layout.kafka.dir,
        timeoutMs: 120_000,
      });
      if (result.code !== 0) {
        throw new DriftlineError(
          ErrorCode.STACK_START_FAILED,
          `Formatting Kafka storage in ${layout.kafka.dataDir} failed${result.timedOut ? ' (timed out)' : ''}:\n` +
            lastLines(result.output, 20)
              .map((line) => `  | ${line}`)
              .join('\n'),
          { details: { service: 'kafka', code: result.code } },
        );
      }
    }
    return { command: java, args: kafkaServerArgs(jvm, layout.kafka.serverProperties), cwd: layout.kafka.dir };
  },
};

/** The cluster id is made once per home and kept, so re-formatting never forks the cluster. */
async function clusterIdFor(path: string): Promise<string> {
  try {
    const existing = (await readFile(path, 'utf8')).trim();
    if (isClusterId(existing)) return existing;
  } catch {
    // none yet
  }
  const id = newClusterId();
  await writeFile(path, `${id}\n`);
  return id;
}

const registry: ServiceDriver = {
  healthy: (config) => registryHealthy(config.stackPorts.registry),
  ready: async (config) =>
    (await registryReady(config.stackPorts.registryManagement)) && (await registryHealthy(config.stackPorts.registry)),
  provisioned: (config) => registryProvisioned(stackLayout(config)),
  stopGraceMs: 15_000,
  async prepare(config, logger) {
    const layout = stackLayout(config);
    const java = await requireJava('registry', APICURIO_MIN_JAVA, config.stackJavaHome);
    await provisionRegistry(layout, logger);
    // Quarkus may write scratch files into its working directory: keep them in our state.
    await mkdir(layout.registry.dir, { recursive: true });
    const args = registryArgs({
      port: config.stackPorts.registry,
      managementPort: config.stackPorts.registryManagement,
      runJar: layout.registry.runJar,
      marker: homeMarker(layout),
      dataDir: join(layout.registry.dir, 'data'),
    });
    return { command: java, args, cwd: layout.registry.dir };
  },
};

const clickhouse: ServiceDriver = {
  healthy: (config) => clickhouseHealthy(config.stackPorts.clickhouseHttp),
  ready: (config) => clickhouseHealthy(config.stackPorts.clickhouseHttp),
  provisioned: () => findClickHouseServer() !== undefined,
  stopGraceMs: 15_000,
  async prepare(config, logger) {
    const layout = stackLayout(config);
    const server = await ensureClickHouse(logger);
    await mkdir(layout.clickhouse.dataDir, { recursive: true });
    await writeFile(
      layout.clickhouse.configFile,
      renderClickHouseConfig({
        httpPort: config.stackPorts.clickhouseHttp,
        tcpPort: config.stackPorts.clickhouseTcp,
        dataDir: layout.clickhouse.dataDir,
        usersFile: layout.clickhouse.usersFile,
      }),
    );
    await writeFile(
      layout.clickhouse.usersFile,
      renderClickHouseUsers({ name: config.clickhouseUser, password: config.clickhousePassword }),
    );
    return { command: server, args: [clickhouseConfigArg(layout)], cwd: layout.clickhouse.dir };
  },
};

export const DRIVERS: Readonly<Record<StackServiceName, ServiceDriver>> = { kafka, registry, clickhouse };
