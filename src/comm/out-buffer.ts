/**
 * The `out` option of allreduce and reduce: a typed array that receives the result, as MPI's receive
 * buffer (or numpy's out=). A program that reduces arrays of one size again and again passes the same one
 * each time, so a large reduction writes into memory that is mapped already: a new result array of 64 MiB
 * is 16,384 fresh pages, and faulting them in cost more than the reduction itself (2 local ranks over
 * shared memory, Zen 2: 1.0 GB/s into a new array, 2.5 GB/s into a reused one).
 */
import { DType } from "../protocol/messages.js";
import { commError } from "./errors.js";
import { typedDtype, type Typed } from "./payload.js";

export interface ReduceOptions<T> {
  /** receives the result (which is then this array): a typed array of the value's type and length, not overlapping it */
  out?: T;
}

const describe = (v: unknown): string => (ArrayBuffer.isView(v) ? `${v.constructor.name} of ${(v as Typed).length}` : v === null ? "null" : typeof v);

/** The `out` of `options` checked against `value` (INVALID_ARGUMENT naming both when it cannot take the result); undefined when none. */
export function checkOut(value: unknown, options: ReduceOptions<unknown> | undefined, what: string): Typed | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") throw commError("INVALID_ARGUMENT", `${what}'s options ${String(options)} are not an object`);
  const out = options.out;
  if (out === undefined) return undefined;
  const dtype = typedDtype(out);
  if (dtype === DType.None) throw commError("INVALID_ARGUMENT", `${what}'s out (${describe(out)}) is not a Float64Array, Float32Array, Int32Array or Uint8Array`);
  const o = out as Typed;
  if (typedDtype(value) !== dtype || (value as Typed).length !== o.length) throw commError("INVALID_ARGUMENT", `${what}'s out (${describe(out)}) is not of the value's type and length (${describe(value)})`);
  const v = value as Typed;
  // the value is read (by this rank and its peers) while the result is written: they must not share bytes
  if (o.buffer === v.buffer && o.byteLength > 0 && o.byteOffset < v.byteOffset + v.byteLength && v.byteOffset < o.byteOffset + o.byteLength) {
    throw commError("INVALID_ARGUMENT", `${what}'s out overlaps its value (bytes ${o.byteOffset}..${o.byteOffset + o.byteLength} and ${v.byteOffset}..${v.byteOffset + v.byteLength} of one buffer): pass another array`);
  }
  return o;
}

/** The result in `out` when there is one (copied there unless it was computed in place). */
export function intoOut<T>(result: T, out: Typed | undefined): T {
  if (!out || (result as unknown) === out) return result;
  out.set(result as unknown as Typed);
  return out as unknown as T;
}
