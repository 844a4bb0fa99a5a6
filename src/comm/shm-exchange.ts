/**
 * The shared-memory exchange of one rank with the other ranks of its host: posts messages into the ring
 * to each peer, drains the rings from them and hands each whole message to the world (which files it in
 * the same mailbox as messages that came over WebSockets, so collectives, their order of combination and
 * their failures are the same on both transports).
 *
 * Progress is made by whoever needs it, like an MPI progress engine: a rank that waits for a message
 * first spins for a short while (TESSERA_SHM_SPIN_US, default 1000 µs: a peer on another core answers
 * in well under a microsecond, and a futex wake-up costs tens), draining and writing as it goes; then a
 * futex wait on its doorbell on a libuv thread takes over (waitAsync), woken by a peer's write, with a
 * timeout so that the world's failure (a lost rank, seen on its WebSocket link) is always noticed. So no
 * rank spins for more than the spin budget when idle, and none ever blocks its event loop for longer.
 * Large messages are cut into pieces of a quarter ring, so writer and reader copy at the same time; a
 * message that does not fit at once is queued and written as the reader frees room; a collective can ask
 * for a message to be assembled in its result (receiveInto). Collectives of one number skip the mailbox:
 * sendNumber/takeNumber write and read their records in place (shm-numbers.ts); a large reduction can
 * combine its peers' records where they lie in the rings (a RingConsumer, shm-reduce.ts).
 */
import { DType, type CollectiveMsg, type PointToPointMsg } from "../protocol/messages.js";
import type { ShmAddon } from "../transport/shm-addon.js";
import type { RecordHead, RingRecord, ShmSegment } from "../transport/shm-segment.js";
import type { Call, Header } from "./call-header.js";
import { uninitBytes, type Payload } from "./payload.js";
import { LOOP_HOLD_MS, SPIN_TURNS, TAKE_SPIN_TURNS, spinTurns } from "./shm-spin.js";

/** A whole message from a local peer, as if it came over a WebSocket link (its payload is this rank's own copy). */
export type LocalMessage = CollectiveMsg | PointToPointMsg;
const COLLECTIVE = 1;
const P2P = 2;
/** a collective's message whose bytes lie in its sender's area (the record carries none; its total is their length) */
const AREA = 3;
/** Messages to several local ranks at once this large or larger go through the sender's area, if it has room. */
const AREA_MIN = 64 * 1024;
const NO_BYTES = new Uint8Array(0);
/** Pieces at least this large ring the reader's doorbell each (smaller ones once, after the last one written). */
const RING_EACH_PIECE = 32 * 1024;

interface Outgoing {
  head: RecordHead;
  bytes: Uint8Array;
  /** bytes[0] is the payload's byte `base` */
  base: number;
  /** next byte of bytes to write */
  pos: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

interface Assembly {
  head: RecordHead;
  bytes: Uint8Array;
  got: number;
}

/**
 * A reader of records straight from the rings (shm-reduce.ts): progress() leaves the records it claims at
 * the heads of their rings (those behind them wait) and lets it take them in step(), through takeRecord().
 */
export interface RingConsumer {
  claims(from: number, rec: RingRecord): boolean;
  /** takes what it can of the claimed records; whether it took any */
  step(): boolean;
}

export interface ShmExchangeOptions {
  /** spin this long in a wait before sleeping, µs */
  spinUs: number;
  /** each futex sleep of the watcher lasts at most this long, ms */
  sleepMs: number;
  /** more local ranks than cores: yield at every spin turn */
  oversubscribed: boolean;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A whole message's own copy of a record's payload (in `into` when given). */
function copyOf(payload: Uint8Array, into: Uint8Array | undefined): Uint8Array {
  const out = into ?? uninitBytes(payload.length);
  out.set(payload);
  return out;
}

export class ShmExchange {
  /** world ranks of the local ranks, in local order */
  readonly ranks: readonly number[];
  private readonly localOf = new Map<number, number>();
  private readonly queues: Outgoing[][];
  private readonly partial: (Assembly | null)[];
  /** receiveInto()'s destinations, by "local rank:seq:step" */
  private readonly into = new Map<string, { bytes: Uint8Array; dtype: DType }>();
  private readonly peers: number[];
  private queued = 0;
  private failed: Error | null = null;
  private watching = false;
  /** whether the watcher sleeps in a futex, and on which doorbell value */
  private watcherAsleep = false;
  private watcherBell = 0;
  private readonly bellOffset: number;
  /** the head of sendNumber's records (reused: tryWriteNumber reads it at once) */
  private readonly numberHead: RecordHead = { kind: COLLECTIVE, dtype: DType.Number, op: 0, reduce: 0, seq: 0, step: 0, root: 0, tag: 0, offset: 0, total: 8, parts: [] };
  private readonly emptyHead: RecordHead = { ...this.numberHead, dtype: DType.None, total: 0, parts: [] };
  /** when a run of synchronous collectives began without the event loop turning since (-1: it turned) */
  private heldSince = -1;
  private readonly loopTurned = () => {
    this.heldSince = -1;
  };
  /** the doorbell when takeNumber last drained every ring */
  private lastBell = -1;
  /** the records of the ring consumer, if one is set, are left to it */
  private consumer: RingConsumer | null = null;
  private poller: (() => boolean) | null = null;

  constructor(
    private readonly seg: ShmSegment,
    private readonly addon: ShmAddon,
    ranks: number[],
    private readonly deliver: (src: number, m: LocalMessage) => void,
    /** whether the world waits for any message (the watcher runs while it does, or while sends are queued) */
    private readonly busy: () => boolean,
    private readonly opts: ShmExchangeOptions,
  ) {
    this.ranks = ranks;
    ranks.forEach((r, i) => this.localOf.set(r, i));
    this.queues = ranks.map(() => []);
    this.partial = ranks.map(() => null);
    this.peers = ranks.map((_, i) => i).filter((i) => i !== seg.me);
    this.bellOffset = seg.bellOffset(seg.me);
  }

  isLocal(rank: number): boolean {
    return this.localOf.has(rank);
  }

  /**
   * Posts a message to local rank `rank`: null when written whole at once, else a promise settled when
   * its last piece is. `copy`: the caller may change `bytes` afterwards (send()), so a queued rest is copied.
   */
  post(rank: number, head: RecordHead, bytes: Uint8Array, copy: boolean): Promise<void> | null {
    if (this.failed) return Promise.reject(this.failed);
    const to = this.localOf.get(rank)!;
    const q = this.queues[to]!;
    let pos = 0;
    if (q.length === 0) {
      pos = this.write(to, head, bytes, 0, 0);
      if (pos > bytes.length) return null;
    }
    return new Promise((resolve, reject) => {
      const o = copy ? { bytes: bytes.slice(pos), base: pos, pos: 0 } : { bytes, base: 0, pos };
      q.push({ head: { ...head }, ...o, resolve, reject });
      this.queued++;
      void this.watch();
    });
  }

  /** Posts a collective's message to `dests`: see postMany. */
  postCollective(dests: number[], h: Header, p: Payload): { remote: number[]; queued: Promise<unknown> | null } {
    const head = { kind: COLLECTIVE, dtype: p.dtype, op: h.op, reduce: h.reduce, seq: h.seq, step: h.step, root: h.root, tag: h.tag, offset: 0, total: p.bytes.length, parts: p.parts ?? [] };
    return this.postMany(dests, head, p.bytes, false); // collectives leave their inputs alone until they resolve
  }

  /** send(): a point-to-point message to local rank `dest` (its bytes are copied if it must wait for room). */
  send(dest: number, p: Payload, tag: number): Promise<void> | null {
    return this.post(dest, { kind: P2P, dtype: p.dtype, op: 0, reduce: 0, seq: 0, step: 0, root: 0, tag, offset: 0, total: p.bytes.length, parts: [] }, p.bytes, true);
  }

  /**
   * Posts one message to each of `dests` that is local; returns the others (for the WebSocket links)
   * and, when some local post is queued, a promise settled once all are written.
   */
  postMany(dests: number[], head: RecordHead, bytes: Uint8Array, copy: boolean): { remote: number[]; queued: Promise<unknown> | null } {
    let remote: number[] | null = null;
    let locals: number[] | null = null;
    for (const d of dests) (this.localOf.has(d) ? (locals ??= []) : (remote ??= [])).push(d);
    let queued: Promise<void>[] | null = null;
    if (locals) {
      // one copy into this rank's area for all the local readers, instead of one into each ring
      const area = head.kind === COLLECTIVE && locals.length >= 2 && bytes.length >= AREA_MIN && this.mayPublish(locals) && this.seg.publishArea(bytes, locals.length);
      const h = area ? { ...head, kind: AREA } : head;
      for (let i = 0; i < locals.length; i++) {
        const q = this.post(locals[i]!, i === locals.length - 1 ? h : { ...h }, area ? NO_BYTES : bytes, copy);
        if (q) (queued ??= []).push(q);
      }
    }
    return { remote: remote ?? [], queued: queued && Promise.all(queued) };
  }

  /** Whether a message to `locals` may go through this rank's area now: nothing is queued to them (it would overtake it). */
  private mayPublish(locals: number[]): boolean {
    if (this.failed || this.seg.areaBytes === 0) return false;
    for (const d of locals) if (this.queues[this.localOf.get(d)!]!.length) return false;
    return true;
  }

  /**
   * Writes pieces of `bytes` (payload byte `base` is bytes[0]) from bytes[pos] while they fit; rings the
   * reader if any was written. Returns the next position, or bytes.length + 1 once the last piece is written.
   */
  private write(to: number, head: RecordHead, bytes: Uint8Array, base: number, pos: number): number {
    const max = this.seg.maxPiece(head.parts.length);
    const end = bytes.length;
    let unrung = false;
    for (;;) {
      const len = Math.min(max, end - pos);
      head.offset = base + pos;
      if (!this.seg.tryWrite(to, head, bytes, pos, len)) break;
      unrung = true;
      pos += len;
      if (pos >= end) {
        pos = end + 1;
        break;
      }
      // a piece of a large message: the reader copies it out while this rank writes the next
      if (len >= RING_EACH_PIECE) {
        this.ringBell(to);
        unrung = false;
      }
    }
    if (unrung) this.ringBell(to);
    return pos;
  }

  private ringBell(to: number): void {
    if (this.seg.ring(to)) this.wakeRank(to);
  }

  /** Wakes local rank `to` from its futex sleep on its doorbell (after ringing it, having seen it asleep). */
  wakeRank(to: number): void {
    this.addon.wake(this.seg.buf, this.seg.bellOffset(to), 1);
  }

  /**
   * Asks for local rank `rank`'s message of step `step` of call `seq` to be assembled in `bytes` (when it is
   * of that exact length and of type `dtype`) instead of a buffer of its own, if its first piece has not come yet; returns the function
   * that withdraws the request (once the message is taken).
   */
  receiveInto(rank: number, seq: number, step: number, bytes: Uint8Array, dtype: DType): () => void {
    const key = `${this.localOf.get(rank)}:${seq}:${step}`;
    this.into.set(key, { bytes, dtype });
    return () => this.into.delete(key);
  }

  /** receiveInto()'s destination of a message's first record: only when its type and length are the message's, so another value never lands there. */
  private takeDestination(from: number, rec: RingRecord): Uint8Array | undefined {
    if (rec.kind !== COLLECTIVE && rec.kind !== AREA) return undefined;
    const key = `${from}:${rec.seq}:${rec.step}`;
    const into = this.into.get(key);
    if (!into || into.bytes.length !== rec.total || into.dtype !== rec.dtype) return undefined;
    this.into.delete(key);
    return into.bytes;
  }

  /** The segment (for a RingConsumer's peeks) and this rank's local index in it. */
  get segment(): ShmSegment {
    return this.seg;
  }

  /** Local index of world rank `rank`. */
  localIndex(rank: number): number {
    return this.localOf.get(rank)!;
  }

  /** Whether a message of step `step` of call `seq` from local rank `rank` is being assembled already (its first pieces came). */
  assembling(rank: number, seq: number, step: number): boolean {
    const a = this.partial[this.localOf.get(rank)!];
    return !!a && a.head.kind === COLLECTIVE && a.head.seq === seq && a.head.step === step;
  }

  /** Lets `c` read the records it claims from now on (false when another consumer is set); null removes it. */
  setConsumer(c: RingConsumer | null): boolean {
    if (c && (this.consumer || this.failed)) return false;
    this.consumer = c;
    return true;
  }

  /** Frees the record at the head of the ring from local rank `from` (a RingConsumer took it), ringing its writer if it waits for room. */
  takeRecord(from: number): void {
    if (this.seg.consume(from) && this.seg.ring(from)) this.addon.wake(this.seg.buf, this.seg.bellOffset(from), 1);
  }

  /** Writes what the rings have room for of the queued messages. */
  private pump(): boolean {
    let moved = false;
    for (const to of this.peers) {
      const q = this.queues[to]!;
      while (q.length) {
        const o = q[0]!;
        const pos = this.write(to, o.head, o.bytes, o.base, o.pos);
        if (pos !== o.pos) moved = true;
        if (pos <= o.bytes.length) {
          o.pos = pos;
          break;
        }
        q.shift();
        this.queued--;
        o.resolve();
      }
    }
    return moved;
  }

  /** Drains every ring to this rank and writes what it can of the queued messages; whether anything moved. */
  progress(): boolean {
    if (this.failed) return false;
    let moved = false;
    const seg = this.seg;
    for (const from of this.peers) {
      for (let rec = seg.peek(from); rec; rec = seg.peek(from)) {
        if (this.consumer?.claims(from, rec)) break; // it stays at the head of its ring for the consumer
        moved = true;
        const whole = rec.offset === 0 && rec.payload.length === rec.total;
        const into = rec.offset === 0 && this.into.size > 0 ? this.takeDestination(from, rec) : undefined;
        let done: Assembly | null = null;
        if (rec.kind === AREA) {
          const bytes = into ?? uninitBytes(rec.total);
          seg.readArea(from, bytes);
          done = { head: rec, bytes, got: rec.total };
        } else if (whole) done = { head: rec, bytes: copyOf(rec.payload, into), got: rec.total };
        else {
          const a = rec.offset === 0 ? (this.partial[from] = { head: rec, bytes: into ?? uninitBytes(rec.total), got: 0 }) : this.partial[from]!;
          a.bytes.set(rec.payload, rec.offset);
          a.got += rec.payload.length;
          if (a.got >= a.bytes.length) {
            done = a;
            this.partial[from] = null;
          }
        }
        if (seg.consume(from) && seg.ring(from)) this.addon.wake(seg.buf, seg.bellOffset(from), 1);
        if (done) {
          const h = done.head;
          const src = this.ranks[from]!;
          const { dtype, tag, seq } = h;
          const common = { src, dtype, tag, seq, shape: [], offset: 0, total: done.bytes.length, payload: done.bytes };
          this.deliver(src, h.kind !== P2P
            ? { kind: "collective", op: h.op, root: h.root, step: h.step, reduce: h.reduce, parts: h.parts, ...common }
            : { kind: "p2p", dst: this.ranks[this.seg.me]!, ...common });
          if (this.failed) return true;
        }
      }
    }
    if (this.consumer?.step()) moved = true;
    if (this.queued && this.pump()) moved = true;
    if (this.poller?.()) moved = true;
    return moved;
  }

  /** Called at the end of every progress(), e.g. the number slots' look (SlotBoard.poll): whether it completed something. */
  setPoller(poll: (() => boolean) | null): void {
    this.poller = poll;
  }

  /**
   * Spins on this rank's doorbell until `done()`, for at most the spin budget from the start (the event loop
   * is never held longer), draining the rings whenever the doorbell rang (a peer's message, e.g. the news
   * of a mismatch, is filed as usual meanwhile); whether `done()` became true. takeNumber's loop, for a
   * condition on the segment instead of a ring's next record.
   */
  spinOnBell(done: () => boolean): boolean {
    if (this.failed) return false;
    const seg = this.seg;
    if (this.watcherAsleep) seg.setSleeping(false); // this thread drains the rings while it spins (see spinUntil)
    const t0 = performance.now();
    const deadline = t0 + this.opts.spinUs / 1000;
    let ok = false;
    for (;;) {
      const bell = seg.bell(seg.me);
      if ((ok = done())) break;
      if (bell !== this.lastBell || this.queued) {
        this.progress();
        if (this.failed) break;
      }
      this.lastBell = bell;
      const now = performance.now();
      if (now > deadline) {
        ok = !this.failed && done(); // what the last spin saw come
        break;
      }
      const [turns, every] = spinTurns(this.opts.oversubscribed, t0, now, TAKE_SPIN_TURNS);
      this.addon.spin(seg.buf, this.bellOffset, bell, turns, every);
    }
    this.resumeWatcher();
    return ok;
  }

  /**
   * Whether the event loop should turn before the next collective completes synchronously: collectives
   * that find their peers ready never return to it (their promises resolve in microtasks), so a loop of
   * them would hold off timers and sockets (heartbeats, a lost peer's news) for as long as it runs.
   * True once LOOP_HOLD_MS passed since the first synchronous completion after the loop last turned.
   */
  holdsLoop(): boolean {
    const now = performance.now();
    if (this.heldSince < 0) {
      this.heldSince = now;
      setImmediate(this.loopTurned);
      return false;
    }
    return now - this.heldSince > LOOP_HOLD_MS;
  }

  /** A promise to await before the next synchronous collective goes on when the event loop must turn first (holdsLoop), else null. */
  loopTurn(): Promise<void> | null {
    return this.holdsLoop() ? new Promise((r) => setImmediate(r)) : null;
  }

  /** Whether nothing is queued to be written (a collective's messages can then be written at once, in order). */
  get idle(): boolean {
    return this.queued === 0 && !this.failed;
  }

  /**
   * Writes a collective's message of one number to local rank `rank` straight into the ring (the record a
   * posted toPayload(value) makes; null: the record of a posted EMPTY_PAYLOAD, a barrier's): true, or false when it must be posted as usual (no room, or queued sends
   * to it go first).
   */
  sendNumber(rank: number, h: Header, value: number | null): boolean {
    const to = this.localOf.get(rank)!;
    if (this.failed || this.queues[to]!.length) return false;
    const head = value === null ? this.emptyHead : this.numberHead;
    head.op = h.op;
    head.reduce = h.reduce;
    head.seq = h.seq;
    head.step = h.step;
    head.root = h.root;
    head.tag = h.tag;
    if (!this.seg.tryWriteNumber(to, head, value)) return false;
    if (this.seg.ring(to)) this.addon.wake(this.seg.buf, this.seg.bellOffset(to), 1);
    return true;
  }

  /**
   * The number local rank `rank` sent in step `step` of call `h` (sendNumber's record, or a posted
   * toPayload(number)'s), read straight from the ring: spins for it in this thread for at most the spin
   * budget (from the start: the event loop is never held longer), draining what comes before it through
   * the usual path. Undefined when it did not come as such a record in time, or when `inMailbox()` says the
   * usual path delivered it (the caller then takes it from the mailbox, or waits for it as usual).
   * `empty`: the message is an empty one (sendNumber(null)'s, a barrier's): 0 when it came.
   */
  takeNumber(rank: number, h: Call, step: number, inMailbox: () => boolean, empty = false): number | undefined {
    if (this.failed) return undefined;
    const from = this.localOf.get(rank)!;
    const seg = this.seg;
    if (this.watcherAsleep) seg.setSleeping(false); // this thread drains the rings while it spins (see spinUntil)
    const t0 = performance.now();
    const deadline = t0 + this.opts.spinUs / 1000;
    let got: number | undefined;
    for (;;) {
      const bell = seg.bell(seg.me);
      const rec = seg.next(from);
      if (rec >= 0 && seg.isNumberOf(rec, COLLECTIVE, empty ? DType.None : DType.Number, h.seq, step, h.op, h.root, h.reduce, h.tag, empty ? 0 : 8)) {
        got = empty ? 0 : seg.numberAt(rec);
        if (seg.consume(from) && seg.ring(from)) this.addon.wake(seg.buf, seg.bellOffset(from), 1);
        break;
      }
      // something else first (or from another peer): the usual path files it, and perhaps ours with it
      if (rec >= 0 || bell !== this.lastBell || this.queued) {
        const moved = this.progress();
        if (this.failed || (moved && inMailbox())) break;
      }
      this.lastBell = bell;
      const now = performance.now();
      if (now > deadline) break;
      const [turns, every] = spinTurns(this.opts.oversubscribed, t0, now, TAKE_SPIN_TURNS);
      this.addon.spin(seg.buf, this.bellOffset, bell, turns, every);
    }
    this.resumeWatcher();
    return got;
  }

  /** Spins until `done()`, making progress, for at most the spin budget after the last progress; whether it became true. */
  spinUntil(done: () => boolean): boolean {
    if (done()) return true;
    // while this thread spins, writers need not wake a sleeping watcher: it drains the rings itself
    if (this.watcherAsleep) this.seg.setSleeping(false);
    const budget = this.opts.spinUs / 1000;
    const t0 = performance.now();
    let deadline = t0 + budget;
    let ok = false;
    for (;;) {
      const bell = this.seg.bell(this.seg.me);
      // the budget bounds idle spinning: while bytes move (a large message streams), it starts again
      if (this.progress()) deadline = performance.now() + budget;
      if ((ok = done()) || this.failed) break;
      const now = performance.now();
      if (now > deadline) break;
      const [turns, every] = spinTurns(this.opts.oversubscribed, t0, now, SPIN_TURNS);
      this.addon.spin(this.seg.buf, this.bellOffset, bell, turns, every);
    }
    this.resumeWatcher();
    return ok;
  }

  /**
   * After a spin in this thread: a watcher asleep in its futex is again the one writers wake, and is woken
   * now if a write came that it was not woken for (so it sees what is queued now).
   */
  private resumeWatcher(): void {
    if (this.watcherAsleep && !this.failed) {
      this.seg.setSleeping(true);
      if (this.seg.bell(this.seg.me) !== this.watcherBell) this.addon.wake(this.seg.buf, this.bellOffset, 1);
    }
  }

  /** Makes progress without blocking the event loop while the world waits or sends are queued. */
  async watch(): Promise<void> {
    if (this.watching || this.failed) return;
    this.watching = true;
    try {
      while (!this.failed && (this.queued > 0 || this.busy())) {
        const bell = this.seg.bell(this.seg.me);
        if (this.progress()) {
          await tick(); // the continuations of what was delivered run (and may make progress themselves)
          continue;
        }
        this.seg.setSleeping(true); // before the last look: a writer after it sees the flag and wakes us
        if (this.seg.bell(this.seg.me) === bell) {
          this.watcherBell = bell;
          this.watcherAsleep = true;
          try {
            await this.addon.waitAsync(this.seg.buf, this.bellOffset, bell, this.opts.sleepMs);
          } finally {
            this.watcherAsleep = false;
          }
        }
        this.seg.setSleeping(false);
      }
    } finally {
      this.watching = false;
    }
  }

  /** Fails every queued send with `err`; later posts fail with it too. */
  fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const q of this.queues) for (const o of q.splice(0)) o.reject(err);
    this.queued = 0;
    this.consumer = null;
    this.seg.setSleeping(false);
  }
}
