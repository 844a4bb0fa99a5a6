#!/usr/bin/env node
/** `node dist/worker.js --scheduler ws://host:port`: a cluster worker (see cli/worker.ts). */
import { workerMain } from "./cli/worker.js";

// exit explicitly: the thread pool and sockets must not keep a stopped worker alive
process.exit(await workerMain(process.argv.slice(2)));
