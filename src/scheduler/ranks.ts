/**
 * Rank-partitioned runs. Every rank lowers the same graph to the same plan (checked by its hash); every
 * chunk has a deterministic owner, the rank that runs the tasks writing it; a rank runs only the tasks
 * it owns, and sends a chunk only to the ranks whose tasks read it (outputs: every rank, since compute()
 * returns on every rank). Sends are batched: when a rank has run all its tasks of a layer, it sends each
 * peer one message with every chunk of that layer the peer needs, in chunk order; the receiver knows
 * from the plan which chunks it holds. Partials are combined in the same fixed tree wherever they are
 * combined, so results are bit-identical for any rank count.
 */
import { ComputeError } from "../errors.js";
import { storageOf } from "../plan/tasks.js";
import type { Plan } from "../plan/types.js";
import type { ChunkMemory } from "./memory.js";
import type { PlanRun, RunHooks } from "./plan-run.js";

/** What the scheduler needs of the rank layer. */
export interface RankComm {
  readonly rank: number;
  readonly size: number;
  allgatherBytes(bytes: Uint8Array): Promise<Uint8Array[]>;
  sendBytes(dest: number, tag: number, bytes: Uint8Array): Promise<void>;
  recvBytes(source: number, tag: number): Promise<Uint8Array>;
}

/** Point-to-point tags of chunk transfers: TAG_BASE + layer (one message per layer and pair of ranks). */
const TAG_BASE = 0x40000000;

/** The owner of chunk k of a buffer with n chunks: contiguous, balanced, the same on every rank. */
export const chunkOwner = (k: number, n: number, size: number): number => Math.min(size - 1, Math.floor((k * size) / Math.max(1, n)));

/** Checks every rank built the same plan. */
export async function checkSamePlan(comm: RankComm, hash: string): Promise<void> {
  const all = await comm.allgatherBytes(new TextEncoder().encode(hash));
  const theirs = all.map((b) => new TextDecoder().decode(b));
  const differ = theirs.flatMap((f, r) => (f !== theirs[0] ? [r] : []));
  if (differ.length) {
    throw new ComputeError("GRAPH_MISMATCH", `ranks ${differ.join(", ")} built a different graph than rank 0: every rank must run the same compute() calls in the same order`);
  }
}

interface Transfer {
  layer: number;
  from: number;
  to: number;
  /** [buffer, chunk] in the order they are packed */
  chunks: [number, number][];
  /** chunks not complete yet (sender side): the message goes when it reaches 0 */
  left: number;
}

/** This rank's share of a run: which tasks it owns, and the transfers in and out. */
export class RankShare {
  private readonly taskOwner: Int32Array[];
  private readonly outgoing: Transfer[] = [];
  /** "buffer:chunk" -> the outgoing transfers that carry it */
  private readonly carriers = new Map<string, Transfer[]>();
  private readonly incoming: Transfer[] = [];
  private readonly sends: Promise<void>[] = [];
  private run: PlanRun | null = null;
  private memory: ChunkMemory | null = null;
  private failed: ((e: unknown) => void) | null = null;

  constructor(
    private readonly plan: Plan,
    private readonly comm: RankComm,
    private readonly counts: number[],
    accesses: (l: number, t: number) => { reads: { buffer: number; chunk: number }[]; writes: { buffer: number; chunk: number }[] },
  ) {
    const size = comm.size;
    const nchunks = (b: number) => plan.buffers[b]!.chunks.reduce((a, c) => a * c.length, 1);
    // a task belongs to the owner of the first array chunk it writes (all writers of a chunk agree),
    // else (it writes only its own partials) to its share of the layer
    this.taskOwner = plan.layers.map((layer, l) => {
      const owners = new Int32Array(counts[l]!);
      const firstWrite = layer.kind === "program" ? plan.kernels[layer.kernel]!.slots.find((s) => s.kind === "write") : undefined;
      for (let t = 0; t < counts[l]!; t++) {
        if ((layer.kind === "program" && !firstWrite) || layer.kind === "write") owners[t] = chunkOwner(t, counts[l]!, size);
        else {
          const w = accesses(l, t).writes.find((a) => plan.buffers[a.buffer]!.components === undefined) ?? accesses(l, t).writes[0]!;
          owners[t] = chunkOwner(w.chunk, nchunks(w.buffer), size);
        }
      }
      return owners;
    });
    // who writes each chunk, who reads it
    const writerOf = new Map<string, { layer: number; rank: number }>();
    const readersOf = new Map<string, Set<number>>();
    plan.layers.forEach((_, l) => {
      for (let t = 0; t < counts[l]!; t++) {
        const a = accesses(l, t);
        const r = this.taskOwner[l]![t]!;
        for (const w of a.writes) writerOf.set(`${w.buffer}:${w.chunk}`, { layer: l, rank: r });
        for (const x of a.reads) {
          const key = `${x.buffer}:${x.chunk}`;
          let s = readersOf.get(key);
          if (!s) readersOf.set(key, (s = new Set()));
          s.add(r);
        }
      }
    });
    for (const o of plan.outputs) {
      const b = storageOf(plan, o.buffer);
      for (let k = 0; k < nchunks(b); k++) {
        const key = `${b}:${k}`;
        let s = readersOf.get(key);
        if (!s) readersOf.set(key, (s = new Set()));
        for (let r = 0; r < size; r++) s.add(r);
      }
    }
    const groups = new Map<string, Transfer>();
    const keys = [...writerOf.keys()].sort((a, b) => {
      const [ab, ak] = a.split(":").map(Number);
      const [bb, bk] = b.split(":").map(Number);
      return ab! - bb! || ak! - bk!;
    });
    for (const key of keys) {
      const w = writerOf.get(key)!;
      const [buffer, chunk] = key.split(":").map(Number) as [number, number];
      for (const to of readersOf.get(key) ?? []) {
        if (to === w.rank) continue;
        const gk = `${w.layer}:${w.rank}:${to}`;
        let g = groups.get(gk);
        if (!g) groups.set(gk, (g = { layer: w.layer, from: w.rank, to, chunks: [], left: 0 }));
        g.chunks.push([buffer, chunk]);
      }
    }
    for (const g of groups.values()) {
      if (g.from === comm.rank) {
        this.outgoing.push(g);
        g.left = g.chunks.length;
        for (const [b, k] of g.chunks) {
          const key = `${b}:${k}`;
          const list = this.carriers.get(key) ?? [];
          list.push(g);
          this.carriers.set(key, list);
        }
      } else if (g.to === comm.rank) this.incoming.push(g);
    }
  }

  /** Hooks for the run: ownership, and completions (a transfer goes once all its chunks are complete). */
  hooks(): Omit<RunHooks, "onOutput"> {
    return {
      owns: (l, t) => this.taskOwner[l]![t] === this.comm.rank,
      onComplete: (b, k) => {
        for (const g of this.carriers.get(`${b}:${k}`) ?? []) if (--g.left === 0) this.send(g);
      },
    };
  }

  /** Attaches to the run: holds outgoing chunks until sent, posts the receives. */
  attach(run: PlanRun, memory: ChunkMemory, onError: (e: unknown) => void): void {
    this.run = run;
    this.memory = memory;
    this.failed = onError;
    for (const g of this.outgoing) for (const [b, k] of g.chunks) run.hold(b, k);
  }

  /**
   * This rank has nothing left to run until chunks come from others: wait for them now. (The receives are
   * posted here, not up front, so the collective timeout measures a wait for another rank, not this
   * rank's own work; messages that came earlier are queued by the rank layer meanwhile.)
   */
  idle(): void {
    for (const g of this.incoming.splice(0)) {
      this.comm.recvBytes(g.from, TAG_BASE + g.layer).then(
        (bytes) => this.unpack(g, bytes),
        (e) => this.failed?.(e),
      );
    }
  }

  private send(g: Transfer): void {
    const total = g.chunks.reduce((a, [b, k]) => a + this.memory!.chunkBytes(b, k), 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const [b, k] of g.chunks) {
      const v = this.memory!.view(b, k);
      bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
      at += v.byteLength;
    }
    for (const [b, k] of g.chunks) this.run!.unhold(b, k);
    const p = this.comm.sendBytes(g.to, TAG_BASE + g.layer, bytes);
    p.catch((e) => this.failed?.(e));
    this.sends.push(p);
  }

  private unpack(g: Transfer, bytes: Uint8Array): void {
    const want = g.chunks.reduce((a, [b, k]) => a + this.memory!.chunkBytes(b, k), 0);
    if (bytes.byteLength !== want) {
      this.failed?.(new ComputeError("GRAPH_MISMATCH", `rank ${g.from} sent ${bytes.byteLength} bytes for layer ${g.layer}, expected ${want}: ranks run different graphs`));
      return;
    }
    try {
      let at = 0;
      for (const [b, k] of g.chunks) {
        this.memory!.allocate(b, k);
        const v = this.memory!.view(b, k);
        new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(bytes.subarray(at, at + v.byteLength));
        at += v.byteLength;
      }
      for (const [b, k] of g.chunks) this.run!.arrive(b, k);
    } catch (e) {
      this.failed?.(e);
    }
  }

  /** Resolves when every send of this run is through. */
  async settle(): Promise<void> {
    await Promise.all(this.sends);
  }
}
