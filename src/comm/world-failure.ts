/**
 * How a world breaks, once: the first failure (a lost rank, a mismatch of collectives, a timeout) becomes
 * the error every pending and later operation fails with; the other ranks are told why (an Abort frame,
 * also told to a peer that connects afterwards), and the world's failure handlers are called. WsWorld owns
 * one and gives it the means: what fails its pending operations, and how to send a frame to its peers.
 */
import { encode, type AbortMsg } from "../protocol/messages.js";
import { commError, type CommError } from "./errors.js";

/** `unresponsive`: the peer stopped answering heartbeats (frozen or on a dead host), it did not just disconnect. */
export type RankLostHandler = (rank: number, reason: string, how: { unresponsive: boolean }) => void;

/** Told once when the world breaks, with the error every pending and later operation fails with. */
export type WorldFailureHandler = (err: CommError) => void;

export interface FailureMeans {
  /** this rank */
  rank: number;
  /** whether the world is closing (a failure then breaks nothing) */
  closing(): boolean;
  /** fails every pending operation with `err` (messages, links, the shared-memory exchange, the address table) */
  failPending(err: CommError): void;
  /** sends `frame` to every peer with an open link but `except`; settles when all were written (or could not be) */
  tell(frame: Uint8Array, except: number): Promise<void>;
}

export class WorldFailure {
  /** the error that broke the world, if one did */
  broken: CommError | null = null;
  /** the lost rank, when the world broke with RANK_LOST */
  private lost: { rank: number; reason: string; unresponsive: boolean } | null = null;
  /** settles when the Abort telling the other ranks why this world broke was written (or could not be) */
  private told: Promise<void> = Promise.resolve();
  /** the Abort this rank sent when its world broke: also told to a peer that connects afterwards */
  abortFrame: Uint8Array | null = null;
  private readonly handlers: WorldFailureHandler[] = [];

  constructor(private readonly means: FailureMeans) {}

  /** Registers a callback for the first lost rank (called at once if one was lost already). */
  onRankLost(cb: RankLostHandler): () => void {
    return this.onFailure(() => {
      if (this.lost) cb(this.lost.rank, this.lost.reason, { unresponsive: this.lost.unresponsive });
    });
  }

  /** Registers a callback for the failure that breaks this world, whatever its code (called at once if it broke already). */
  onFailure(cb: WorldFailureHandler): () => void {
    this.handlers.push(cb);
    if (this.broken) {
      const err = this.broken;
      queueMicrotask(() => cb(err));
    }
    return () => {
      const i = this.handlers.indexOf(cb);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  /** Settles once the other ranks were sent why this world broke (at most `ms` later). */
  sent(ms: number): Promise<void> {
    return Promise.race([this.told, new Promise<void>((r) => setTimeout(r, ms).unref())]);
  }

  /**
   * Breaks the world with `err`: fails every pending and later operation, sends `abort` to the other ranks
   * (unless they told this one), and calls the failure handlers.
   */
  breakWith(err: CommError, abort: AbortMsg | null, except = -1): void {
    if (this.broken || this.means.closing()) return;
    this.broken = err;
    this.means.failPending(err);
    if (abort) {
      const frame = encode(abort);
      this.abortFrame = frame;
      this.told = this.means.tell(frame, except);
    }
    for (const cb of this.handlers.slice()) {
      try {
        cb(err);
      } catch (e) {
        process.stderr.write(`tessera: a world failure callback threw: ${(e as Error).stack ?? e}\n`);
      }
    }
  }

  /** Declares `rank` lost: fails every pending and later operation, tells the peers it has links to (unless told). */
  markLost(rank: number, reason: string, tellOthers: boolean, unresponsive: boolean): void {
    if (this.broken || this.means.closing()) return;
    this.lost = { rank, reason, unresponsive };
    const err = commError("RANK_LOST", rank === this.means.rank ? `this rank aborted: ${reason}` : `rank ${rank} was lost: ${reason}`);
    this.breakWith(err, tellOthers ? { kind: "abort", rank, reason } : null, rank);
  }

  /** Fails every rank's world with `code` and `message`; returns the error. */
  failWorld(code: "COLLECTIVE_MISMATCH" | "COMM_TIMEOUT", message: string, tellOthers: boolean): CommError {
    this.breakWith(commError(code, message), tellOthers ? { kind: "abort", rank: this.means.rank, reason: message, code } : null);
    return this.broken ?? commError(code, message);
  }
}
