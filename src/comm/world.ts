/**
 * This process's place among ranks, and the collectives, like mpi4py's COMM_WORLD. A process not
 * launched as one of many ranks is a world of one: collectives return their own input.
 * (Multi-rank worlds over WebSockets are built on this interface.)
 */
import { checkRank, commError } from "./errors.js";
import { checkBcastOut, checkGatherOut, checkOut, gatheredValueInto, intoOut, type AllgatherOptions, type BcastOptions, type GatherOptions, type ReduceOptions } from "./out-buffer.js";

export type { AllgatherOptions, BcastOptions, GatherOptions, ReduceOptions } from "./out-buffer.js";

export type ReduceFn<T> = "sum" | "min" | "max" | "prod" | ((a: T, b: T) => T);

export interface World {
  readonly rank: number;
  readonly size: number;
  barrier(): Promise<void>;
  /** `options.out`: where the root's value goes (as MPI's buffer on a receiving rank): see out-buffer.ts */
  bcast<T>(value: T, root?: number, options?: BcastOptions<T>): Promise<T>;
  /** `options.out`: where the root's result goes (as MPI's receive buffer): see out-buffer.ts */
  reduce<T>(value: T, op?: ReduceFn<T>, root?: number, options?: ReduceOptions<T>): Promise<T | undefined>;
  /** `options.out`: where the result goes (as MPI's receive buffer, numpy's out=): see out-buffer.ts */
  allreduce<T>(value: T, op?: ReduceFn<T>, options?: ReduceOptions<T>): Promise<T>;
  /** `options.out`: the root's receive buffer of every rank's value, as MPI_Gather's: see out-buffer.ts */
  gather<T>(value: T, root?: number, options?: GatherOptions<T>): Promise<T[] | undefined>;
  /** `options.out`: every rank's receive buffer of every rank's value, as MPI_Allgather's: see out-buffer.ts */
  allgather<T>(value: T, options?: AllgatherOptions<T>): Promise<T[]>;
  send(value: unknown, dest: number, tag?: number): Promise<void>;
  recv<T = unknown>(source: number, tag?: number): Promise<T>;
}

/** The world of a single process. */
export const singleWorld: World = {
  rank: 0,
  size: 1,
  async barrier() {},
  async bcast(value, root = 0, options) {
    checkRank(root, 1, "root");
    return intoOut(value, checkBcastOut(value, options, true));
  },
  async reduce(value, _op, root = 0, options) {
    checkRank(root, 1, "root");
    return intoOut(value, checkOut(value, options, "reduce"));
  },
  async allreduce(value, _op, options) {
    return intoOut(value, checkOut(value, options, "allreduce"));
  },
  async gather(value, root = 0, options) {
    checkRank(root, 1, "root");
    const out = checkGatherOut(value, options, 0, 0, 1);
    return [out ? (gatheredValueInto(value, out, 0, out.length) as typeof value) : value];
  },
  async allgather(value, options) {
    const out = checkGatherOut(value, options, 0, 0, 1, "allgather");
    return [out ? (gatheredValueInto(value, out, 0, out.length, "allgather") as typeof value) : value];
  },
  async send(_value, dest) {
    checkRank(dest, 1, "destination");
    throw commError("INVALID_ARGUMENT", "send to itself would never be received in a world of size 1");
  },
  async recv(source) {
    checkRank(source, 1, "source");
    throw commError("INVALID_ARGUMENT", "recv from itself would wait forever in a world of size 1");
  },
};

export const world: World = singleWorld;
