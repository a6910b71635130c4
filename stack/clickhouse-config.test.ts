import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderClickHouseConfig, renderClickHouseUsers } from './clickhouse-config.ts';

describe('renderClickHouseConfig', () => {
  const xml = renderClickHouseConfig({
    httpPort: 18123,
    tcpPort: 19000,
    dataDir: '/home/me/.driftline/stack/clickhouse/data',
    usersFile: '/home/me/.driftline/stack/clickhouse/users.xml',
  });

  it('listens on loopback only, on the given ports', () => {
    expect(xml).toContain('<listen_host>127.0.0.1</listen_host>');
    expect(xml).toContain('<http_port>18123</http_port>');
    expect(xml).toContain('<tcp_port>19000</tcp_port>');
    expect(xml).not.toMatch(/<interserver_http_port>/);
  });

  it('keeps every path under the data dir, each ending with a slash', () => {
    const root = '/home/me/.driftline/stack/clickhouse/data';
    expect(xml).toContain(`<path>${root}/</path>`);
    expect(xml).toContain(`<tmp_path>${root}/tmp/</tmp_path>`);
    expect(xml).toContain(`<user_files_path>${root}/user_files/</user_files_path>`);
    expect(xml).toContain(`<format_schema_path>${root}/format_schemas/</format_schema_path>`);
    expect(xml).toContain('<users_config>/home/me/.driftline/stack/clickhouse/users.xml</users_config>');
    expect(xml).not.toMatch(/\/var\/(lib|log)\//);
  });

  it('logs to the console (our log file), not to files of its own', () => {
    expect(xml).toContain('<console>1</console>');
    expect(xml).not.toMatch(/<log>|<errorlog>/);
  });

  it('escapes XML special characters in paths', () => {
    const odd = renderClickHouseConfig({ httpPort: 1, tcpPort: 2, dataDir: '/tmp/a&b<c>', usersFile: '/u.xml' });
    expect(odd).toContain('<path>/tmp/a&amp;b&lt;c&gt;/</path>');
  });
});

describe('renderClickHouseUsers', () => {
  it('gives the configured user a loopback-only entry', () => {
    const xml = renderClickHouseUsers({ name: 'default', password: '' });
    expect(xml).toContain('<default>');
    expect(xml).toContain('<password></password>');
    expect(xml).toContain('<ip>127.0.0.1</ip>');
    expect(xml).not.toContain('::/0');
  });

  it('stores a password as its SHA-256, never in clear', () => {
    const xml = renderClickHouseUsers({ name: 'drift', password: 's3cret' });
    const hash = createHash('sha256').update('s3cret').digest('hex');
    expect(xml).toContain(`<password_sha256_hex>${hash}</password_sha256_hex>`);
    expect(xml).not.toContain('s3cret');
    expect(xml).toContain('<drift>');
  });

  it('refuses a user name that is not a valid XML element name', () => {
    expect(() => renderClickHouseUsers({ name: 'a b', password: '' })).toThrow(/user name/);
    expect(() => renderClickHouseUsers({ name: '<x>', password: '' })).toThrow(/user name/);
  });
});
