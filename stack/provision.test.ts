import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { requireJava } from './provision.ts';

describe('requireJava with STACK_JAVA_HOME', () => {
  it('refuses a home without a working bin/java, naming the variable', async () => {
    const home = mkdtempSync(join(tmpdir(), 'no-jdk-'));
    const error = await requireJava('registry', 21, home).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftlineError);
    expect((error as DriftlineError).code).toBe(ErrorCode.STACK_PREREQUISITE_MISSING);
    expect((error as DriftlineError).message).toContain(`STACK_JAVA_HOME=${home} has no working bin/java`);
  });

  it('refuses a JDK older than the service needs', async () => {
    const java = await requireJava('kafka', 17);
    const home = join(java, '..', '..');
    const error = await requireJava('registry', 99, home).catch((e: unknown) => e);
    expect((error as DriftlineError).message).toMatch(/registry needs Java 99\+, but STACK_JAVA_HOME=.* has Java \d+/);
    expect(await requireJava('kafka', 17, home)).toBe(join(home, 'bin', 'java'));
  });
});
