import { describe, expect, it } from 'vitest';
import { modulesLoadedBy, packagesIn } from '../test-support/loaded-modules.ts';

describe('driftline consume', () => {
  it('loads no TF.js: the drift consumer reads reference profiles through the JSON model registry', async () => {
    const packages = packagesIn(await modulesLoadedBy('cli/consume.ts'));
    expect(packages).toContain('kafkajs'); // the check sees the consumers' packages
    expect(packages.filter((name) => name.startsWith('@tensorflow/'))).toEqual([]);
  });
});
