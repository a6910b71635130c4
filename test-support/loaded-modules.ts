/**
 * Which packages importing a module loads, measured in a fresh Node process that runs
 * TypeScript the way the CLI does (`--import tsx`). Two records are kept, because neither alone
 * sees everything: a resolve hook sees every ES module import (ESM packages, and the first file
 * of a CommonJS package imported from ESM), and Node's CommonJS cache sees every `require`
 * inside CommonJS packages, which Node 20 does not pass through the hooks.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** The specifier the child imports last: its hook answers it after every earlier resolve. */
const END = 'driftline-probe:end';

const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  if (specifier === '${END}') {
    port.postMessage('${END}');
    return { url: 'data:text/javascript,', shortCircuit: true };
  }
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;

function childScript(target: string): string {
  return `
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';
const { port1, port2 } = new MessageChannel();
const urls = [];
// Messages on one port arrive in order, so the end marker comes after every URL before it.
const ended = new Promise((resolve) => port1.on('message', (url) => (url === '${END}' ? resolve() : urls.push(url))));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), {
  data: { port: port2 },
  transferList: [port2],
});
await import(${JSON.stringify(target)});
await import('${END}');
await ended;
port1.close();
const cjs = Object.keys(Module._cache).map((path) => pathToFileURL(path).href);
process.stdout.write(JSON.stringify([...new Set([...urls, ...cjs])]));`;
}

/** URLs of every module that importing `modulePath` (relative to the repository) loaded. */
export async function modulesLoadedBy(modulePath: string): Promise<string[]> {
  const target = pathToFileURL(`${repoRoot}/${modulePath}`).href;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', childScript(target)],
    { cwd: repoRoot, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as string[];
}

/** Package names (`kafkajs`, `@tensorflow/tfjs-core`) among the loaded modules' URLs. */
export function packagesIn(urls: readonly string[]): string[] {
  const names = new Set<string>();
  for (const url of urls) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(url);
    if (match?.[1]) names.add(match[1]);
  }
  return [...names].sort();
}
