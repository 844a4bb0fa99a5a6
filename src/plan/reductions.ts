/**
 * What a plan says about each reduction: how many accumulator components its partials carry and what
 * they start from (the kernels' accumulator formulas are in kernels/abi.ts; combining is the scheduler's).
 */
import type { ReduceOp } from "./types.js";

/** Accumulators per result element: var/std keep (count, mean, M2); argmin/argmax (value, index). */
export function componentsOf(op: ReduceOp): number {
  return op === "var" || op === "std" ? 3 : op === "argmin" || op === "argmax" || op === "nanargmin" || op === "nanargmax" ? 2 : 1;
}

export function initOf(op: ReduceOp): number[] {
  switch (op) {
    case "sum":
    case "mean":
    case "any":
    case "histogram":
      return [0];
    case "prod":
    case "all":
      return [1];
    case "min":
      return [Infinity];
    case "max":
      return [-Infinity];
    case "argmin":
    case "argmax":
    case "nanargmin":
    case "nanargmax":
      return [0, -1];
    case "var":
    case "std":
      return [0, 0, 0];
  }
}
