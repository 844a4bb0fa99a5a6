/**
 * Values that travel with submit(): a function's arguments and its result, in V8's serialization format
 * (structured clone: numbers, strings, arrays, plain objects, typed arrays, Map, Set, Date...), with
 * NDArrays carried as their shape, dtype and data and made NDArrays again on arrival.
 */
import { deserialize, serialize } from "node:v8";
import { ClusterError, show } from "../errors.js";
import { NDArray } from "../array/ndarray.js";

const TAG = "__tessera_ndarray__";

function pack(v: unknown, depth: number): unknown {
  if (v instanceof NDArray) return { [TAG]: { shape: v.shape, dtype: v.dtype, data: v.data } };
  if (depth > 8 || v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map((x) => pack(x, depth + 1));
  if (Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pack(x, depth + 1)]));
  return v;
}

function unpack(v: unknown, depth: number): unknown {
  if (depth > 8 || v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map((x) => unpack(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const o = v as Record<string, unknown>;
  if (TAG in o) {
    const a = o[TAG] as { shape: number[]; dtype: string; data: NDArray["data"] };
    return NDArray.fromRaw(a.data, a.shape, a.dtype);
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unpack(x, depth + 1)]));
}

/** `what` names the value in the error when it cannot be sent (a function, a class instance with private state...). */
export function encodeValue(v: unknown, what: string): Uint8Array {
  try {
    return serialize(pack(v, 0));
  } catch (e) {
    throw new ClusterError("INVALID_ARGUMENT", `${what} ${show(v)} cannot be sent to a worker (${(e as Error).message}): use numbers, strings, arrays, plain objects, typed arrays, NDArrays`);
  }
}

export function decodeValue(bytes: Uint8Array): unknown {
  return unpack(deserialize(bytes), 0);
}
