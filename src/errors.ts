/**
 * Every error tessera raises on purpose is a TesseraError with a stable `code`. Codes are part of the
 * public contract (README lists them); messages name the offending value.
 */
export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "INVALID_SHAPE"
  | "INVALID_CHUNKS"
  | "INVALID_AXIS"
  | "INDEX_ERROR"
  | "INVALID_DTYPE"
  | "SHAPE_MISMATCH"
  | "DTYPE_MISMATCH"
  | "EMPTY_REDUCTION"
  | "TOO_LARGE"
  | "TASK_FAILED"
  | "WORKER_DIED"
  | "ABORTED"
  | "KERNEL_FAILED"
  | "RELEASED"
  | "GRAPH_MISMATCH"
  | "RANK_LOST"
  | "AUTH_FAILED"
  | "RENDEZVOUS_FAILED"
  | "COMM_TIMEOUT"
  | "COLLECTIVE_MISMATCH"
  | "WORLD_CLOSED"
  | "IO_ERROR"
  | "FORMAT_ERROR"
  | "DTYPE_OVERFLOW"
  | "ALREADY_EXISTS"
  | "NOT_FOUND"
  | "KILLED_WORKER"
  | "WORKER_LOST"
  | "CANCELLED"
  | "CLIENT_CLOSED"
  | "CLUSTER_CLOSED"
  | "TIMEOUT"
  | "SLURM_FAILED";

/** Every code, for checks at boundaries (a worker's error crossing to the main thread keeps its code). */
export const ERROR_CODES: readonly ErrorCode[] = [
  "INVALID_ARGUMENT", "INVALID_SHAPE", "INVALID_CHUNKS", "INVALID_AXIS", "INDEX_ERROR", "INVALID_DTYPE", "SHAPE_MISMATCH", "DTYPE_MISMATCH", "EMPTY_REDUCTION", "TOO_LARGE", "TASK_FAILED", "WORKER_DIED", "ABORTED", "KERNEL_FAILED", "RELEASED", "GRAPH_MISMATCH", "RANK_LOST", "AUTH_FAILED", "RENDEZVOUS_FAILED", "COMM_TIMEOUT", "COLLECTIVE_MISMATCH", "WORLD_CLOSED", "IO_ERROR", "FORMAT_ERROR", "DTYPE_OVERFLOW", "ALREADY_EXISTS", "NOT_FOUND",
  "KILLED_WORKER", "WORKER_LOST", "CANCELLED", "CLIENT_CLOSED", "CLUSTER_CLOSED", "TIMEOUT", "SLURM_FAILED",
];

export const isErrorCode = (c: unknown): c is ErrorCode => typeof c === "string" && (ERROR_CODES as readonly string[]).includes(c);

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

/**
 * The cluster's errors (src/cluster/): a task that killed its workers (KILLED_WORKER), work lost with the
 * cluster or its workers (WORKER_LOST, CLUSTER_CLOSED), a cancelled future (CANCELLED), a closed client
 * (CLIENT_CLOSED), a wait that timed out (TIMEOUT), a worker refused (AUTH_FAILED).
 */
export class ClusterError extends TesseraError {}

export const invalid = (code: ErrorCode, message: string): ValidationError => new ValidationError(code, message);

/** Formats a value for an error message: compact JSON, but NaN, Infinity and -0 as themselves. */
export function show(v: unknown): string {
  const s = format(v, 0);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

function format(v: unknown, depth: number): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "boolean" || v === undefined || v === null) return String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "a function";
  if (typeof v === "symbol") return v.toString();
  if (depth > 3) return "...";
  if (Array.isArray(v)) return `[${v.slice(0, 20).map((x) => format(x, depth + 1)).join(",")}${v.length > 20 ? ",..." : ""}]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length?: number }).length ?? v.byteLength})`;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return `a ${(v as object).constructor?.name ?? "object"}`;
  const entries = Object.entries(v as object).slice(0, 10);
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${format(x, depth + 1)}`).join(",")}}`;
}
