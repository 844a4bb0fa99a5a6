#!/usr/bin/env node
/** `node dist/run.js`: see cli/run.ts. */
import { main } from "./cli/run.js";

// Exit explicitly: after a failure, connections to other ranks must not keep a rank alive
// (stdout and stderr to pipes and files are written synchronously on POSIX, so nothing is lost).
process.exit(await main(process.argv.slice(2)));
