/**
 * Pure command line of Apicurio Registry (a Quarkus app run with `java -jar quarkus-run.jar`).
 */

export interface RegistryProcessOptions {
  port: number;
  managementPort: number;
  runJar: string;
  /** Marker that identifies this home's registry in /proc/<pid>/cmdline. */
  marker: string;
  /** Where the registry's H2 database lives. */
  dataDir: string;
}

export function registryArgs(options: RegistryProcessOptions): string[] {
  return [
    '-Xms64m',
    '-Xmx384m',
    '-XX:+UseSerialGC',
    '-Djava.awt.headless=true',
    options.marker,
    `-Dquarkus.http.port=${options.port}`,
    '-Dquarkus.http.host=127.0.0.1',
    // Management (health) defaults to port 9000, which is ClickHouse's native port.
    `-Dquarkus.management.port=${options.managementPort}`,
    '-Dquarkus.management.host=127.0.0.1',
    // Apicurio logs every HTTP request at INFO; with a schema lookup per message batch that
    // would grow logs/registry.log without bound.
    '-Dquarkus.http.access-log.enabled=false',
    // Confluent's registry lets clients delete subjects and versions; Apicurio refuses unless
    // told otherwise, which would leave tests unable to clean up what they registered.
    '-Dapicurio.rest.deletion.artifact.enabled=true',
    '-Dapicurio.rest.deletion.artifact-version.enabled=true',
    '-Dapicurio.rest.deletion.group.enabled=true',
    // Apicurio's default H2 database is in memory: a restart would forget every schema and
    // reuse their ids, leaving the messages already in Kafka undecodable. Keep it on disk.
    `-Dapicurio.datasource.url=jdbc:h2:file:${options.dataDir}/registry`,
    // Quarkus opens 20 connections up front by default; a single local user needs few.
    '-Dapicurio.datasource.jdbc.initial-size=2',
    '-Dapicurio.datasource.jdbc.min-size=2',
    '-Dapicurio.datasource.jdbc.max-size=10',
    '-jar',
    options.runJar,
  ];
}

/** The Confluent-compatible base URL that schema-registry clients take. */
export function ccompatUrl(port: number): string {
  return `http://127.0.0.1:${port}/apis/ccompat/v7`;
}
