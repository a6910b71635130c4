/**
 * The architecture rule as data, and its check over the import graph of the repository.
 *
 * Every import of a .ts (or .js) file outside node_modules is read with TypeScript's own
 * scanner (`ts.preProcessFile`: `import … from`, `import type`, `export … from`, side-effect
 * imports and `import('…')` with a literal; comments and strings are skipped). A relative import
 * names a file, hence a folder (its first path segment); package imports are allowed everywhere.
 * The README's "Architecture" section says the same in prose.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** The folders a folder may import besides itself, or `'any'`. */
export type Allowed = readonly string[] | 'any';

/** An import the rule refuses but that is tolerated for now, with why; the list may only shrink. */
export interface KnownViolation {
  /** The importing file, relative to the repository root. */
  from: string;
  /** The imported file, relative to the repository root. */
  to: string;
  why: string;
}

export interface ArchitectureRules {
  /** Top-level folder → the folders it may import. A file in no listed folder is a violation. */
  layers: Readonly<Record<string, Allowed>>;
  /**
   * Folders whose subfolders are independent units: a file in one unit never imports another
   * unit of the same folder (consumers/drift ↛ consumers/store).
   */
  units: readonly string[];
  /** Test files (`*.test.ts`) may also import this folder. */
  testSupport: string;
  known: readonly KnownViolation[];
}

const CORE = ['core'];
const MIDDLE = ['core', 'stack', 'platform', 'model'];
const SERVICES = [...MIDDLE, 'producers', 'consumers'];

/**
 * Lowest first. core is the ground: pure libraries and the Kafka, storage, config and error
 * foundations. stack (local services) and model (data, training, registry, scoring) stand on
 * core; platform (where services come from: environment, containers, the local stack) uses
 * stack. Producers and consumers use all of those but never each other, nor one unit another;
 * the dashboard (a web page over storage, the registry, and the retrain and alert code its
 * buttons call) uses those but no producer; cli wires everything; bin starts cli; e2e (end-to-end tests across producers and consumers)
 * uses everything but bin. Test helpers, benchmarks and tool configuration at the root may
 * import anything.
 */
export const ARCHITECTURE: ArchitectureRules = {
  layers: {
    core: [],
    stack: CORE,
    model: CORE,
    platform: ['core', 'stack'],
    producers: MIDDLE,
    consumers: MIDDLE,
    dashboard: [...MIDDLE, 'consumers'],
    cli: [...SERVICES, 'dashboard'],
    bin: [...SERVICES, 'dashboard', 'cli'],
    e2e: [...SERVICES, 'dashboard', 'cli'],
    'test-support': 'any',
    bench: 'any',
    '.': 'any',
  },
  units: ['producers', 'consumers'],
  testSupport: 'test-support',
  known: [],
};

/** One import as written: the specifier and the line it is on (1-based). */
export interface ImportRef {
  specifier: string;
  line: number;
}

/** Each file (relative to the repository root, `/`-separated) → its imports. */
export type ImportGraph = Readonly<Record<string, readonly ImportRef[]>>;

export interface Violation {
  from: string;
  line: number;
  specifier: string;
  /** The imported file, relative to the repository root. */
  to: string;
  rule: string;
}

export interface CheckResult {
  violations: Violation[];
  /** Known violations that no longer happen: remove them from the rules. */
  stale: KnownViolation[];
}

const SOURCE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;

/** The import graph of every source file under `root`, skipping node_modules and dot folders. */
export function importGraph(root: string): ImportGraph {
  const graph: Record<string, ImportRef[]> = {};
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        graph[relative(root, path).split(sep).join('/')] = importsOf(readFileSync(path, 'utf8'));
      }
    }
  };
  visit(root);
  return graph;
}

/** The imports of one source text. */
export function importsOf(source: string): ImportRef[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => ({
    specifier: file.fileName,
    line: lineAt(source, file.pos),
  }));
}

/** Checks every relative import of the graph against the rules. */
export function checkImports(graph: ImportGraph, rules: ArchitectureRules = ARCHITECTURE): CheckResult {
  const violations: Violation[] = [];
  for (const [from, imports] of Object.entries(graph)) {
    const fromFolder = folderOf(from);
    const allowed = rules.layers[fromFolder];
    if (allowed === undefined) {
      violations.push({ from, line: 0, specifier: '', to: '', rule: `${fromFolder}/ has no rule in the architecture` });
      continue;
    }
    for (const { specifier, line } of imports) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue; // a package
      const to = posix.normalize(posix.join(posix.dirname(from), specifier));
      const rule = refusal(from, to, allowed, rules);
      if (rule !== undefined) violations.push({ from, line, specifier, to, rule });
    }
  }
  const isKnown = (v: Violation) => rules.known.some((k) => k.from === v.from && k.to === v.to);
  return {
    violations: violations.filter((v) => !isKnown(v)),
    stale: rules.known.filter((k) => !violations.some((v) => v.from === k.from && v.to === k.to)),
  };
}

/** `core/services.ts:7 imports '../stack/index.ts' (stack/index.ts): core/ may import only …` */
export function formatViolation(v: Violation): string {
  if (v.specifier === '') return `${v.from}: ${v.rule}`;
  return `${v.from}:${v.line} imports '${v.specifier}' (${v.to}): ${v.rule}`;
}

/** Why the rules refuse `from` importing `to`, or undefined when they allow it. */
function refusal(from: string, to: string, allowed: Allowed, rules: ArchitectureRules): string | undefined {
  if (to.startsWith('../')) return 'imports a file outside the repository';
  const fromFolder = folderOf(from);
  const toFolder = folderOf(to);
  if (toFolder === fromFolder) {
    const fromUnit = unitOf(from, rules);
    const toUnit = unitOf(to, rules);
    if (fromUnit !== undefined && toUnit !== undefined && fromUnit !== toUnit) {
      return `${fromUnit}/ may not import ${toUnit}/ (each folder of ${fromFolder}/ stands alone)`;
    }
    return undefined;
  }
  if (allowed === 'any' || allowed.includes(toFolder)) return undefined;
  const test = /\.test\.[cm]?ts$/.test(from);
  if (test && toFolder === rules.testSupport) return undefined;
  const may = allowed.length === 0 ? 'only itself' : `only ${[fromFolder, ...allowed].map((f) => `${f}/`).join(', ')}`;
  const tests = test ? ` (tests also ${rules.testSupport}/)` : '';
  return `${fromFolder}/ may import ${may}${tests}, not ${toFolder}/`;
}

/** The top-level folder of a repository path; `.` for a file at the root. */
function folderOf(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? '.' : path.slice(0, slash);
}

/** `consumers/drift` for consumers/drift/consumer.ts when consumers/ is a folder of units. */
function unitOf(path: string, rules: ArchitectureRules): string | undefined {
  const parts = path.split('/');
  const folder = parts[0] ?? '';
  return rules.units.includes(folder) && parts.length >= 3 ? `${folder}/${parts[1]}` : undefined;
}

function lineAt(source: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < source.length; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}
