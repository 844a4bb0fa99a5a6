/**
 * Every error tessera raises on purpose is a TesseraError with a stable `code`. Codes are part of the
 * public contract (README lists them); messages name the offending value.
 */
export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "INVALID_SHAPE"
  | "INVALID_CHUNKS"
  | "INVALID_AXIS"
  | "INVALID_DTYPE"
  | "SHAPE_MISMATCH"
  | "DTYPE_MISMATCH"
  | "EMPTY_REDUCTION"
  | "TOO_LARGE"
  | "TASK_FAILED"
  | "WORKER_DIED"
  | "ABORTED"
  | "KERNEL_FAILED";

export class TesseraError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad values given to the API: shapes, chunks, axes, dtypes, options. */
export class ValidationError extends TesseraError {}

/** Something failed while computing: a user function threw, a worker died, a kernel refused a program. */
export class ComputeError extends TesseraError {}

/** compute() was cancelled through its AbortSignal. */
export class AbortError extends TesseraError {
  constructor(message = "compute() was aborted") {
    super("ABORTED", message);
  }
}

export const invalid = (code: ErrorCode, message: string): ValidationError => new ValidationError(code, message);

/** Formats a value for an error message: short, unambiguous. */
export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === undefined || v === null) return String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "a function";
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? s.slice(0, 77) + "..." : s;
  } catch {
    return Object.prototype.toString.call(v);
  }
}
