/**
 * The entry module of tessera's worker threads. It lives in the array layer because mapBlocks functions
 * receive NDArrays: it hands the worker loop (which sits below this layer) the adapter that makes them.
 * The engine is told this module's URL by the layer that creates it (compute.ts), never the other way.
 */
import { serveTasks } from "../worker/worker.js";
import { blockAdapter } from "./block-scope.js";

serveTasks(blockAdapter);
