/**
 * A rank's links to its peers: at most one authenticated link per peer, made at start-up (a full mesh, or
 * the start-up tree) or on demand, when a collective or send first needs a peer (`ensure`).
 *
 * Two ranks may dial each other at the same moment. The rule that keeps one link per pair: a rank that is
 * dialing a higher rank refuses that rank's incoming connection (CROSSING, mesh.ts); the higher rank
 * accepts the lower one's. The refused dialer then waits for the peer's link to arrive instead.
 */
import { ConnectError } from "../transport/client.js";
import type { Link } from "../transport/link.js";
import { commError } from "./errors.js";

/** Connects to `rank` and authenticates (retrying until its own deadline); rejects with why it could not. */
export type Dial = (rank: number) => Promise<Link>;

/** The refusal a rank gives a peer it is dialing itself (the lower rank's link wins). */
export const CROSSING = "crossing: this rank is connecting to you";
/** The refusal a rank gives a peer it has a link to already. */
export const CONNECTED = "connected already";

interface Waiter {
  need: () => boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class PeerLinks {
  private readonly links = new Map<number, Link>();
  private readonly waiters: Waiter[] = [];
  private readonly dialing = new Map<number, Promise<void>>();
  /** how links are made on demand; null: every link is made at start-up (a full mesh) */
  dial: Dial | null = null;
  /** how long a dialer refused as CROSSING waits for the peer's own link before dialing again, ms */
  crossingWaitMs = 5000;
  /** whether the links keep the process running (holdProcess) */
  private holding = true;

  constructor(private readonly started: (link: Link) => void) {}

  has(rank: number): boolean {
    return this.links.has(rank);
  }

  get(rank: number): Link | undefined {
    return this.links.get(rank);
  }

  /** Whether the link to `rank` is this one (a closed duplicate is not a lost rank). */
  isCurrent(rank: number, link: Link): boolean {
    return this.links.get(rank) === link;
  }

  entries(): [number, Link][] {
    return [...this.links];
  }

  ranks(): number[] {
    return [...this.links.keys()].sort((a, b) => a - b);
  }

  get size(): number {
    return this.links.size;
  }

  /** Whether the links, those here and those attached later, keep the process running. */
  holdProcess(hold: boolean): void {
    this.holding = hold;
    for (const link of this.links.values()) link.holdProcess(hold);
  }

  /** Operations waiting for a link. */
  get waiting(): number {
    return this.waiters.length + this.dialing.size;
  }

  isDialing(rank: number): boolean {
    return this.dialing.has(rank);
  }

  /** Takes over an authenticated link; false (the link not taken) when there is one to that peer already. */
  attach(link: Link): boolean {
    if (this.links.has(link.peer)) return false;
    this.links.set(link.peer, link);
    if (!this.holding) link.holdProcess(false);
    this.started(link);
    for (const w of this.waiters.slice()) if (!w.need()) this.settle(w, null);
    return true;
  }

  private settle(w: Waiter, err: Error | null): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
    if (err) w.reject(err);
    else w.resolve();
  }

  /** Fails every wait for a link with `err`. */
  rejectAll(err: Error): void {
    for (const w of this.waiters.slice()) this.settle(w, err);
  }

  /** Resolves when links to all `ranks` exist; rejects at `deadline` with RENDEZVOUS_FAILED `describe(missing)`. */
  waitFor(ranks: number[], deadline: number, describe: (missing: number[]) => string): Promise<void> {
    const missing = () => ranks.filter((q) => !this.links.has(q));
    return new Promise((resolve, reject) => {
      if (missing().length === 0) return resolve();
      const t = setTimeout(() => this.settle(w, commError("RENDEZVOUS_FAILED", describe(missing()))), Math.max(0, deadline - Date.now()));
      const w: Waiter = {
        need: () => missing().length > 0,
        resolve: () => (clearTimeout(t), resolve()),
        reject: (e) => (clearTimeout(t), reject(e)),
      };
      this.waiters.push(w);
    });
  }

  /** Makes sure there is a link to `rank`, dialing it when there is none (once, however many callers wait). */
  async ensure(rank: number): Promise<void> {
    if (this.links.has(rank) || !this.dial) return;
    let p = this.dialing.get(rank);
    if (!p) {
      p = this.connect(rank).finally(() => this.dialing.delete(rank));
      this.dialing.set(rank, p);
    }
    await p;
  }

  private async connect(rank: number): Promise<void> {
    for (;;) {
      let link: Link;
      try {
        link = await this.dial!(rank);
      } catch (e) {
        // refused because the peer dials us too (or has just connected): its link is the one
        if (!(e instanceof ConnectError) || (e.refusal !== CROSSING && e.refusal !== CONNECTED)) throw e;
        if (this.links.has(rank)) return;
        try {
          await this.waitFor([rank], Date.now() + this.crossingWaitMs, () => "");
          return;
        } catch (w) {
          if ((w as { code?: string }).code !== "RENDEZVOUS_FAILED") throw w;
          continue; // its dial failed after all: dial again
        }
      }
      if (!this.attach(link)) link.terminate(); // cannot happen by the rule above; never two links
      return;
    }
  }
}
