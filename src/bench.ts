#!/usr/bin/env node
/**
 * `node dist/bench.js [options]` (and `npm run bench`): the benchmark harness, tessera beside its peers.
 * The harness lives in bench/run.mjs, outside the package's sources: this entry only loads it.
 */
const harness = new URL("../bench/run.mjs", import.meta.url);
const { main } = (await import(harness.href)) as { main: (argv: string[]) => Promise<number> };
process.exitCode = await main(process.argv.slice(2));
