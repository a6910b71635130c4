#!/usr/bin/env node
// Launcher: runs the CLI from a cached bundle of its sources (bin/fast-start.js), or — when that
// cannot be had, or DRIFTLINE_FROM_SOURCE is set — registers tsx so the TypeScript sources run as
// they are (no build step either way).
import { bundledMain } from './fast-start.js';

let main = process.env.DRIFTLINE_FROM_SOURCE ? undefined : await bundledMain().catch(() => undefined);
if (!main) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
