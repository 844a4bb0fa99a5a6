/**
 * Rank 0's address table as a non-zero rank of a full mesh awaits it (mesh.ts): it may arrive before or
 * after the wait starts, and the wait ends at a deadline or when the world breaks.
 */
import type { AddressTableMsg } from "../protocol/messages.js";
import { commError } from "./errors.js";

export class AddressTableWait {
  /** the table, once it arrived */
  table: AddressTableMsg | null = null;
  private waiter: ((t: AddressTableMsg) => void) | null = null;
  private failer: ((e: Error) => void) | null = null;

  /** Whether a wait for it is pending. */
  get waiting(): boolean {
    return this.waiter !== null;
  }

  arrived(t: AddressTableMsg): void {
    this.table = t;
    this.waiter?.(t);
  }

  /** Fails a pending wait with `err` (the world broke). */
  fail(err: Error): void {
    this.failer?.(err);
  }

  /** The table; rejects with RENDEZVOUS_FAILED (`what`) at `deadline`. */
  wait(deadline: number, what: string): Promise<AddressTableMsg> {
    if (this.table) return Promise.resolve(this.table);
    return new Promise((resolve, reject) => {
      const end = (settle: () => void) => {
        clearTimeout(t);
        this.waiter = this.failer = null;
        settle();
      };
      const t = setTimeout(() => end(() => reject(commError("RENDEZVOUS_FAILED", what))), Math.max(0, deadline - Date.now()));
      this.waiter = (tab) => end(() => resolve(tab));
      this.failer = (err) => end(() => reject(err));
    });
  }
}
