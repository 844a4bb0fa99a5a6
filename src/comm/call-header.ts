/**
 * A collective call and the headers of its messages: what every algorithm (collectives.ts, gathers.ts,
 * hierarchical.ts, shm-numbers.ts) stamps on a message so the receiver matches it to its own call and round.
 */
import type { CollOp, ReduceOp } from "../protocol/messages.js";

/** One collective call: the same on every rank, as every rank calls the same collectives in the same order. */
export interface Call {
  op: CollOp;
  seq: number;
  root: number;
  reduce: ReduceOp;
  tag: number;
}

/** A message of a call: the call and the round of its algorithm. */
export interface Header extends Call {
  step: number;
}

/** The header of `call`'s message in round `step`. */
export const stepHeader = (call: Call, step: number): Header => ({ op: call.op, seq: call.seq, root: call.root, reduce: call.reduce, tag: call.tag, step });
