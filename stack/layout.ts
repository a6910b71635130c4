/**
 * Where the local stack keeps things. Pure: every path derives from the config, so tests and
 * `stack status` agree with `stack up` without touching the disk.
 *
 *   <home>/stack/logs/<service>.log      one folder for every service's output
 *   <home>/stack/run/<service>.pid       pid of the process this home started
 *   <home>/stack/<service>/              data and generated config of each service
 *   <cacheDir>/kafka-<v>/libs/           Kafka runtime jars (shared by every home)
 *   <cacheDir>/apicurio-registry-<v>/    extracted Apicurio Registry app
 */
import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import type { StackServiceName } from './types.ts';

export const KAFKA_VERSION = '4.1.1';
export const APICURIO_VERSION = '3.3.3';
/** Lowest Java each runs on: Apicurio 3.3's classes are Java 21 bytecode (class file 65). */
export const KAFKA_MIN_JAVA = 17;
export const APICURIO_MIN_JAVA = 21;

export interface StackLayout {
  root: string;
  logsDir: string;
  runDir: string;
  kafka: {
    dir: string;
    dataDir: string;
    serverProperties: string;
    log4jProperties: string;
    clusterIdFile: string;
    libsDir: string;
  };
  registry: {
    dir: string;
    appDir: string;
    runJar: string;
  };
  clickhouse: {
    dir: string;
    dataDir: string;
    configFile: string;
    usersFile: string;
  };
}

export function stackLayout(config: Pick<Config, 'home' | 'cacheDir'>): StackLayout {
  const root = join(config.home, 'stack');
  const kafkaDir = join(root, 'kafka');
  const registryAppDir = join(config.cacheDir, `apicurio-registry-${APICURIO_VERSION}`);
  const clickhouseDir = join(root, 'clickhouse');
  return {
    root,
    logsDir: join(root, 'logs'),
    runDir: join(root, 'run'),
    kafka: {
      dir: kafkaDir,
      dataDir: join(kafkaDir, 'data'),
      serverProperties: join(kafkaDir, 'server.properties'),
      log4jProperties: join(kafkaDir, 'log4j2.properties'),
      clusterIdFile: join(kafkaDir, 'cluster-id'),
      libsDir: join(config.cacheDir, `kafka-${KAFKA_VERSION}`, 'libs'),
    },
    registry: {
      dir: join(root, 'registry'),
      appDir: registryAppDir,
      runJar: join(registryAppDir, 'quarkus-run.jar'),
    },
    clickhouse: {
      dir: clickhouseDir,
      dataDir: join(clickhouseDir, 'data'),
      configFile: join(clickhouseDir, 'config.xml'),
      usersFile: join(clickhouseDir, 'users.xml'),
    },
  };
}

export function logFile(layout: StackLayout, service: StackServiceName): string {
  return join(layout.logsDir, `${service}.log`);
}

export function pidFile(layout: StackLayout, service: StackServiceName): string {
  return join(layout.runDir, `${service}.pid`);
}
