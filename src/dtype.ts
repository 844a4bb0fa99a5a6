/**
 * The four dtypes (a leaf module every layer may use) and numpy's promotion rules between them. JS numbers used as operands are "weak"
 * scalars (numpy 2 / NEP 50): they take the array's dtype, except that a non-integral number with an
 * integer or bool array gives float64.
 */
import { invalid, show } from "./errors.js";

export type DType = "float64" | "float32" | "int32" | "bool";
export const DTYPES: readonly DType[] = ["float64", "float32", "int32", "bool"];

export type TypedArray = Float64Array | Float32Array | Int32Array | Uint8Array;

const BYTES: Record<DType, number> = { float64: 8, float32: 4, int32: 4, bool: 1 };
/** ABI storage codes (kernels/abi.ts DT). */
const CODE: Record<DType, number> = { float64: 0, float32: 1, int32: 2, bool: 3 };

export const itemsize = (d: DType): number => BYTES[d];
export const dtypeCode = (d: DType): number => CODE[d];
export const isFloat = (d: DType): boolean => d === "float64" || d === "float32";

export function checkDType(d: unknown, what = "dtype"): DType {
  if (typeof d === "string" && (DTYPES as readonly string[]).includes(d)) return d as DType;
  throw invalid("INVALID_DTYPE", `${what} ${show(d)} is not supported; use one of ${DTYPES.join(", ")}`);
}

export function typedArrayFor(d: DType, length: number): TypedArray;
export function typedArrayFor(d: DType, buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
export function typedArrayFor(d: DType, a: number | ArrayBufferLike, off?: number, len?: number): TypedArray {
  if (typeof a === "number") {
    return d === "float64" ? new Float64Array(a) : d === "float32" ? new Float32Array(a) : d === "int32" ? new Int32Array(a) : new Uint8Array(a);
  }
  return d === "float64"
    ? new Float64Array(a, off, len)
    : d === "float32"
      ? new Float32Array(a, off, len)
      : d === "int32"
        ? new Int32Array(a, off, len)
        : new Uint8Array(a, off, len);
}

export function dtypeOfTypedArray(a: unknown): DType | undefined {
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint8Array) return "bool";
  return undefined;
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** numpy.result_type of two array dtypes (int32 with float32 gives float64, as numpy). */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if ((a === "int32" && b === "float32") || (a === "float32" && b === "int32")) return "float64";
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype a JS number takes next to an array of dtype `d` (weak scalar). */
export function scalarDType(v: number, d: DType): DType {
  if (isFloat(d)) return d;
  if (!Number.isInteger(v)) return "float64";
  return d === "bool" ? "int32" : d;
}

const fitsInt32 = (v: number) => Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 31 - 1;

/**
 * Promotion of an operand list where numbers are weak scalars. With no array among them (where(c, 1, 2)),
 * integers give int32 (numpy: int64, which tessera lacks) unless one is outside int32, then float64 as
 * any non-integral number does.
 */
export function resultType(operands: readonly (DType | number)[]): DType {
  const arrays = operands.filter((o): o is DType => typeof o === "string");
  if (!arrays.length) return operands.length && (operands as number[]).every(fitsInt32) ? "int32" : "float64";
  let d: DType = arrays.reduce(promote);
  for (const o of operands) if (typeof o === "number") d = promote(d, scalarDType(o, d));
  return d;
}

/** dtype of a float-valued function (sqrt, exp, true division...) of dtype d: ints go to float64. */
export function floatResult(d: DType): DType {
  return d === "float32" || d === "bool" ? "float32" : "float64";
}

/** Checks an integer scalar fits int32 when it is combined with int32 arrays (numpy 2 raises too). */
export function checkScalarFits(v: number, d: DType): void {
  if (d === "int32" && Number.isInteger(v) && (v < -(2 ** 31) || v > 2 ** 31 - 1)) {
    throw invalid("INVALID_ARGUMENT", `scalar ${v} is out of bounds for int32`);
  }
}
