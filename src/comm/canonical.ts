/** The canonical combine tree of every reduction (collectives.ts says why; topology.ts, which hosts may go first). */
import { combine } from "./payload.js";
import type { ReduceFn } from "./world.js";

/**
 * The canonical combination of values given in rank order (the reference every algorithm matches): for
 * mask = 1, 2, 4, ...: block [i, i + mask) op block [i + mask, i + 2 mask), lower ranks on the left.
 */
export function canonicalReduce<T>(values: T[], op: ReduceFn<T>): T {
  const acc = values.slice();
  for (let mask = 1; mask < acc.length; mask *= 2) {
    for (let i = 0; i + mask < acc.length; i += 2 * mask) acc[i] = combine(acc[i], acc[i + mask], op as ReduceFn<unknown>) as T;
  }
  return acc[0]!;
}
