#!/usr/bin/env node
/** `node dist/run.js`: see cli/run.ts. */
import { main } from "./cli/run.js";

process.exitCode = await main(process.argv.slice(2));
