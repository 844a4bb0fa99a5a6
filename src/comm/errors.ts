/** Errors of the rank layer: TesseraErrors with the stable codes this layer raises. */
import { TesseraError, type ErrorCode } from "../errors.js";

export type CommErrorCode =
  | "RANK_LOST" // a peer exited, crashed, was killed or stopped answering heartbeats
  | "AUTH_FAILED" // a connection presented a wrong or no token
  | "RENDEZVOUS_FAILED" // this rank could not find or reach rank 0 (or rank 0 its peers) in time
  | "COMM_TIMEOUT" // a collective or recv waited longer than its configured timeout
  | "COLLECTIVE_MISMATCH" // ranks called different collectives, or with incompatible arguments
  | "WORLD_CLOSED" // an operation on a world that was closed
  | "INVALID_ARGUMENT"
  | "TOO_LARGE";

export class CommError extends TesseraError {
  constructor(code: CommErrorCode, message: string, options?: { cause?: unknown }) {
    super(code satisfies ErrorCode, message, options);
  }
}

export const commError = (code: CommErrorCode, message: string, cause?: unknown): CommError =>
  new CommError(code, message, cause === undefined ? undefined : { cause });

/** Throws INVALID_ARGUMENT unless `r` is a rank of a world of `size`. */
export function checkRank(r: unknown, size: number, what: string): asserts r is number {
  if (typeof r !== "number" || !Number.isInteger(r) || r < 0 || r >= size) {
    throw commError("INVALID_ARGUMENT", `${what} ${String(r)} is not a rank of a world of size ${size}`);
  }
}
