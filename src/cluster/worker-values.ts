/**
 * The values of submitted calls that a worker keeps (dask keeps a future's data on the worker that
 * computed it): serialized, by call id, until the scheduler says to drop them. They leave the worker
 * only when asked: to the scheduler when the client wants the value (`future.result()`), or to another
 * worker whose call takes it as an argument (fetched over the peer link, as chunks are).
 */
import type { Link } from "../transport/link.js";
import { Parts, send, sendParts, type PeerMsg, type ValueFrom } from "./messages.js";

interface Pending {
  link: Link;
  left: Set<number>;
  got: Map<number, Uint8Array>;
  resolve: (values: Map<number, Uint8Array>) => void;
  reject: (e: Error) => void;
}

export class KeptValues {
  private readonly values = new Map<number, Uint8Array>();
  private readonly pending = new Map<number, Pending>();
  private readonly parts = new Parts();

  constructor(
    private readonly selfId: () => number,
    private readonly nextReq: () => number,
    private readonly maxPayload: number,
  ) {}

  /** Bytes kept (for the worker's own accounting). */
  get bytes(): number {
    let n = 0;
    for (const v of this.values.values()) n += v.length;
    return n;
  }

  keep(call: number, value: Uint8Array): void {
    this.values.set(call, value);
  }

  get(call: number): Uint8Array | undefined {
    return this.values.get(call);
  }

  drop(calls: readonly number[]): void {
    for (const c of calls) this.values.delete(c);
  }

  /**
   * The values a call's arguments need: those kept here, and those fetched from the workers keeping them
   * (`peer(from)` gives the link). Rejects with `from` set on the error when a holder cannot give one.
   */
  async gather(deps: readonly ValueFrom[], peer: (d: ValueFrom) => Promise<Link>): Promise<{ arg: number; value: Uint8Array }[]> {
    const byHolder = new Map<number, ValueFrom[]>();
    for (const d of deps) {
      if (d.from === this.selfId() && this.values.has(d.call)) continue;
      let list = byHolder.get(d.from);
      if (!list) byHolder.set(d.from, (list = []));
      list.push(d);
    }
    const fetched = new Map<number, Uint8Array>();
    await Promise.all(
      [...byHolder].map(async ([from, list]) => {
        const fail = (e: unknown) => Object.assign(e instanceof Error ? e : new Error(String(e)), { from });
        if (from === this.selfId()) throw fail(new Error(`worker ${from} does not keep the values of calls ${list.map((d) => d.call).join(", ")}`));
        let link: Link;
        try {
          link = await peer(list[0]!);
        } catch (e) {
          throw fail(e);
        }
        const req = this.nextReq();
        const calls = [...new Set(list.map((d) => d.call))];
        const got = await new Promise<Map<number, Uint8Array>>((resolve, reject) => {
          this.pending.set(req, { link, left: new Set(calls), got: new Map(), resolve, reject });
          send(link, { kind: "fetchValues", req, calls }).catch((e: Error) => this.settle(req, e));
        }).catch((e) => Promise.reject(fail(e)));
        for (const [c, v] of got) fetched.set(c, v);
      }),
    );
    return deps.map((d) => ({ arg: d.arg, value: fetched.get(d.call) ?? this.values.get(d.call)! }));
  }

  private settle(req: number, e: Error | null): void {
    const p = this.pending.get(req);
    if (!p) return;
    this.pending.delete(req);
    this.parts.drop(`v${req}:`);
    if (e) p.reject(e);
    else if (p.left.size) p.reject(new Error(`a peer answered without the values of calls ${[...p.left].join(", ")}`));
    else p.resolve(p.got);
  }

  /** A peer message about values: true if it was one (and is handled). */
  onPeerMessage(link: Link, m: PeerMsg, payload: Uint8Array): boolean {
    switch (m.kind) {
      case "fetchValues":
        void this.serve(link, m);
        return true;
      case "valuePart": {
        const p = this.pending.get(m.req);
        if (!p) return true;
        const whole = this.parts.add(`v${m.req}:${m.call}`, m.offset, m.total, payload);
        if (whole) {
          // a view into the frame when it came whole: the value is kept, so copy it out
          p.got.set(m.call, whole.slice());
          p.left.delete(m.call);
        }
        return true;
      }
      case "fetched":
        if (!this.pending.has(m.req)) return false;
        this.settle(m.req, null);
        return true;
      case "fetchError":
        if (!this.pending.has(m.req)) return false;
        this.settle(m.req, new Error(m.message));
        return true;
      default:
        return false;
    }
  }

  /** A peer link closed: the value fetches on it fail. */
  linkClosed(link: Link, reason: string): void {
    for (const [req, p] of [...this.pending]) if (p.link === link) this.settle(req, new Error(`the link to a peer closed: ${reason}`));
  }

  private async serve(link: Link, m: Extract<PeerMsg, { kind: "fetchValues" }>): Promise<void> {
    try {
      for (const c of m.calls) {
        const v = this.values.get(c);
        if (!v) throw new Error(`worker ${this.selfId()} does not keep the value of call ${c}`);
        await sendParts(link, v, this.maxPayload, (offset, total) => ({ kind: "valuePart", req: m.req, call: c, offset, total }));
      }
      await send(link, { kind: "fetched", req: m.req });
    } catch (e) {
      await send(link, { kind: "fetchError", req: m.req, message: (e as Error).message }).catch(() => {});
    }
  }
}
