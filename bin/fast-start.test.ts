import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: the launcher's helper is plain JavaScript (it runs before tsx could)
import { bundledMain } from './fast-start.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A project with cli/main.ts, whose main returns what cli/answer.ts says and where it lives. */
function project(answer: string): string {
  const root = mkdtempSync(join(tmpdir(), 'driftline-fast-start-'));
  roots.push(root);
  mkdirSync(join(root, 'cli'));
  writeFileSync(
    join(root, 'cli/main.ts'),
    "export async function main(args: string[]): Promise<unknown> { const { answer, here } = await import('./answer.ts'); return { args, answer, here }; }\n",
  );
  writeAnswer(root, answer);
  return root;
}

function writeAnswer(root: string, answer: string): void {
  const file = join(root, 'cli/answer.ts');
  writeFileSync(
    file,
    `export const answer: string = ${JSON.stringify(answer)};\nexport const here = import.meta.url;\n`,
  );
  // Sources older than any build of them (a build skips files saved while it ran).
  const past = new Date(Date.now() - 60_000 - Math.random() * 60_000);
  utimesSync(file, past, past);
}

describe('bundledMain', () => {
  it('builds the CLI once, runs it from the bundle, and keeps each file its own import.meta.url', async () => {
    const root = project('one');
    const cache = join(root, 'cache');
    const main = await bundledMain(root, cache);
    expect(await main(['x'])).toEqual({
      args: ['x'],
      answer: 'one',
      here: pathToFileURL(join(root, 'cli/answer.ts')).href,
    });
    const builds = readdirSync(cache).filter((n) => n.startsWith('cli-'));
    expect(builds).toHaveLength(1);
    await bundledMain(root, cache); // fresh: not built again
    expect(readdirSync(cache).filter((n) => n.startsWith('cli-'))).toEqual(builds);
  });

  it('builds again when a source it was built from changed', async () => {
    const root = project('one');
    const cache = join(root, 'cache');
    await bundledMain(root, cache);
    writeAnswer(root, 'three');
    const main = await bundledMain(root, cache);
    expect(await main([])).toMatchObject({ answer: 'three' });
    expect(readdirSync(cache).filter((n) => n.startsWith('cli-'))).toHaveLength(2);
  });

  it('gives nothing (the launcher then runs the sources through tsx) when the sources do not build', async () => {
    const root = project('one');
    writeFileSync(join(root, 'cli/answer.ts'), 'export const answer = ;\n');
    expect(await bundledMain(root, join(root, 'cache'))).toBeUndefined();
  });
});
