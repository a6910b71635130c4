/**
 * Runs the CLI from a bundle of its TypeScript sources cached under node_modules/.cache/driftline/
 * instead of through tsx, whose loader thread costs every module a round trip: about 0.2 s before
 * any command starts (a small `driftline compare` takes 0.3 s through tsx, 0.1 s from the bundle).
 *
 * The bundle is esbuild's (tsx transforms with esbuild too), one chunk per lazily loaded command,
 * with packages left to node_modules. Each source file keeps its own `import.meta.url`, so what it
 * finds beside itself (schemas, migrations, assets, worker entries) is found as before. It is
 * rebuilt when any file it was built from changed (size or modification time); when it cannot be
 * built or used, the launcher runs the sources through tsx as before.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPOSITORY = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Bumped when the bundle's layout or options change. */
const FORMAT = 1;
/** Builds no manifest names any more are removed once this old (a running process may still load chunks). */
const STALE_BUILD_MS = 24 * 3_600_000;

/**
 * `main` of `<root>/cli/main.ts` from a fresh bundle in `cache` (built now if needed); undefined
 * when none can be had.
 */
export async function bundledMain(root = REPOSITORY, cache = join(root, 'node_modules', '.cache', 'driftline')) {
  const where = { root, cache, manifest: join(cache, 'manifest.json') };
  const manifest = freshManifest(where) ?? (await rebuild(where));
  if (!manifest) return undefined;
  const { main } = await import(pathToFileURL(join(cache, manifest.dir, 'main.mjs')).href);
  return main;
}

function freshManifest({ root, manifest: manifestPath }) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest.format !== FORMAT || manifest.node !== process.version) return undefined;
  for (const [path, mtimeMs, size] of manifest.inputs) {
    try {
      const stat = statSync(join(root, path));
      if (stat.mtimeMs !== mtimeMs || stat.size !== size) return undefined;
    } catch {
      return undefined;
    }
  }
  return manifest;
}

async function rebuild({ root, cache, manifest: manifestPath }) {
  let build;
  try {
    mkdirSync(cache, { recursive: true }); // first: a read-only install gives up at once
    ({ build } = await import('esbuild'));
  } catch {
    return undefined;
  }
  const startedAt = Date.now();
  const dir = `cli-${startedAt.toString(36)}-${process.pid}`;
  try {
    const result = await build({
      absWorkingDir: root,
      entryPoints: { main: 'cli/main.ts' },
      outdir: join(cache, dir),
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      entryNames: '[name]',
      chunkNames: 'chunk-[hash]',
      outExtension: { '.js': '.mjs' },
      metafile: true,
      logLevel: 'silent',
      plugins: [sourceUrls],
    });
    const inputs = Object.keys(result.metafile.inputs).map((path) => {
      const stat = statSync(join(root, path));
      return [path, stat.mtimeMs, stat.size];
    });
    // A file saved while the bundle was being built may not be in it: leave the bundle unused.
    if (inputs.some(([, mtimeMs]) => mtimeMs >= startedAt)) return undefined;
    const manifest = { format: FORMAT, node: process.version, dir, inputs };
    // Written whole and renamed, so a process starting meanwhile reads the old one or this one.
    const temporary = `${manifestPath}.${process.pid}`;
    writeFileSync(temporary, JSON.stringify(manifest));
    renameSync(temporary, manifestPath);
    removeOldBuilds(cache, dir);
    return manifest;
  } catch {
    rmSync(join(cache, dir), { recursive: true, force: true });
    return undefined;
  }
}

/** Replaces `import.meta.url` in each source file by that file's own URL (see the header). */
const sourceUrls = {
  name: 'source-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      return {
        contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: 'ts',
      };
    });
  },
};

function removeOldBuilds(cache, current) {
  for (const name of readdirSync(cache)) {
    if (!name.startsWith('cli-') || name === current) continue;
    const path = join(cache, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
