import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ARCHITECTURE,
  type ArchitectureRules,
  checkImports,
  formatViolation,
  type ImportGraph,
  importGraph,
  importsOf,
} from './architecture.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** A graph from `file: [specifier, …]`, every import on line 1. */
function graphOf(files: Record<string, string[]>): ImportGraph {
  return Object.fromEntries(
    Object.entries(files).map(([file, specifiers]) => [file, specifiers.map((specifier) => ({ specifier, line: 1 }))]),
  );
}

const check = (files: Record<string, string[]>, rules: ArchitectureRules = ARCHITECTURE) =>
  checkImports(graphOf(files), rules).violations.map(formatViolation);

describe('architecture', () => {
  it('holds in this repository: every import of every source file is one its folder may make', () => {
    const graph = importGraph(repoRoot);
    // The walk found the code (and the .js launcher), not only a corner of it.
    expect(Object.keys(graph)).toEqual(
      expect.arrayContaining(['core/config.ts', 'platform/services.ts', 'cli/main.ts', 'bin/driftline.js']),
    );
    const result = checkImports(graph);
    expect(result.violations.map(formatViolation)).toEqual([]);
    // A known violation that was fixed must leave the list, so the list only shrinks.
    expect(result.stale).toEqual([]);
  });

  it('fails on a deliberate violation, naming the file, the line and the import', () => {
    const graph: ImportGraph = {
      'core/services.ts': [
        { specifier: './config.ts', line: 6 },
        { specifier: 'kafkajs', line: 7 },
        { specifier: '../stack/index.ts', line: 8 },
      ],
      'core/config.ts': [],
      'stack/index.ts': [{ specifier: '../core/config.ts', line: 1 }],
      'platform/services.ts': [{ specifier: '../stack/index.ts', line: 1 }],
    };
    const { violations } = checkImports(graph);
    expect(violations).toEqual([
      {
        from: 'core/services.ts',
        line: 8,
        specifier: '../stack/index.ts',
        to: 'stack/index.ts',
        rule: 'core/ may import only itself, not stack/',
      },
    ]);
    expect(formatViolation(violations[0]!)).toBe(
      "core/services.ts:8 imports '../stack/index.ts' (stack/index.ts): core/ may import only itself, not stack/",
    );
  });

  it('lists every violation: layers upwards, producers and consumers across, one unit into another', () => {
    expect(
      check({
        'model/registry.ts': ['../platform/runtime.ts', '../core/errors.ts'],
        'stack/index.ts': ['../platform/services.ts'],
        'producers/replay/kafka-sender.ts': ['../predict-service/app.ts', '../../model/scoring.ts'],
        'consumers/store/main.ts': ['../../producers/predict-service/kafka-sink.ts', '../../platform/runtime.ts'],
        'consumers/drift/main.ts': ['../store/consumer.ts', './consumer.ts', '../../cli/main.ts'],
        'cli/main.ts': ['../consumers/drift/main.ts', '../bin/driftline.js'],
      }),
    ).toEqual([
      "model/registry.ts:1 imports '../platform/runtime.ts' (platform/runtime.ts): model/ may import only model/, core/, not platform/",
      "stack/index.ts:1 imports '../platform/services.ts' (platform/services.ts): stack/ may import only stack/, core/, not platform/",
      "producers/replay/kafka-sender.ts:1 imports '../predict-service/app.ts' (producers/predict-service/app.ts): producers/replay/ may not import producers/predict-service/ (each folder of producers/ stands alone)",
      "consumers/store/main.ts:1 imports '../../producers/predict-service/kafka-sink.ts' (producers/predict-service/kafka-sink.ts): consumers/ may import only consumers/, core/, stack/, platform/, model/, not producers/",
      "consumers/drift/main.ts:1 imports '../store/consumer.ts' (consumers/store/consumer.ts): consumers/drift/ may not import consumers/store/ (each folder of consumers/ stands alone)",
      "consumers/drift/main.ts:1 imports '../../cli/main.ts' (cli/main.ts): consumers/ may import only consumers/, core/, stack/, platform/, model/, not cli/",
      "cli/main.ts:1 imports '../bin/driftline.js' (bin/driftline.js): cli/ may import only cli/, core/, stack/, platform/, model/, producers/, consumers/, dashboard/, not bin/",
    ]);
  });

  it('lets test files, and only test files, import test-support/ besides their own layer', () => {
    expect(
      check({
        'core/storage/sql.test.ts': ['../../test-support/storage.ts', './sql.ts'],
        'core/storage/sql.int.test.ts': ['../../test-support/storage.ts'],
        'core/storage/sql.ts': ['../../test-support/storage.ts'],
        'core/schemas.test.ts': ['../model/california-housing.ts'],
        'test-support/global-setup.ts': ['../platform/services.ts', '../cli/main.ts'],
        'bench/predict-batching.ts': ['../producers/predict-service/app.ts'],
      }),
    ).toEqual([
      "core/storage/sql.ts:1 imports '../../test-support/storage.ts' (test-support/storage.ts): core/ may import only itself, not test-support/",
      "core/schemas.test.ts:1 imports '../model/california-housing.ts' (model/california-housing.ts): core/ may import only itself (tests also test-support/), not model/",
    ]);
  });

  it('refuses files in folders without a rule and imports leaving the repository', () => {
    expect(check({ 'scripts/tool.ts': [], 'cli/x.ts': ['../../elsewhere.ts'] })).toEqual([
      'scripts/tool.ts: scripts/ has no rule in the architecture',
      "cli/x.ts:1 imports '../../elsewhere.ts' (../elsewhere.ts): imports a file outside the repository",
    ]);
  });

  it('tolerates a known violation, and reports it as stale once it is gone', () => {
    const rules: ArchitectureRules = {
      ...ARCHITECTURE,
      known: [
        { from: 'consumers/drift/e2e.test.ts', to: 'producers/replay/replay.ts', why: 'test' },
        { from: 'consumers/drift/e2e.test.ts', to: 'consumers/store/consumer.ts', why: 'test' },
      ],
    };
    const result = checkImports(
      graphOf({ 'consumers/drift/e2e.test.ts': ['../../producers/replay/replay.ts'] }),
      rules,
    );
    expect(result.violations).toEqual([]);
    expect(result.stale).toEqual([rules.known[1]]);
  });

  it('reads every kind of import, and none from comments or strings', () => {
    const source = [
      "import a from './a.ts';",
      "import type { B } from '../b.ts';",
      "export { c } from './c.ts';",
      "export * from './d.ts';",
      "import './e.ts';",
      "const f = await import('./f.ts');",
      "// import g from './g.ts';",
      'const h = "import h from \'./h.ts\'";',
      'import { multi,',
      "  line } from './i.ts';",
    ].join('\n');
    expect(importsOf(source)).toEqual([
      { specifier: './a.ts', line: 1 },
      { specifier: '../b.ts', line: 2 },
      { specifier: './c.ts', line: 3 },
      { specifier: './d.ts', line: 4 },
      { specifier: './e.ts', line: 5 },
      { specifier: './f.ts', line: 6 },
      { specifier: './i.ts', line: 10 },
    ]);
  });
});
