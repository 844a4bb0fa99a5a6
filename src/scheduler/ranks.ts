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
import type { TaskGraph } from "../plan/task-graph.js";
import type { ChunkMemory } from "./memory.js";
import type { RunWatch } from "./observe.js";
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
  private watch: RunWatch | null = null;

  constructor(
    graph: TaskGraph,
    private readonly comm: RankComm,
  ) {
    const plan = graph.plan;
    const size = comm.size;
    const nchunks = (b: number) => plan.buffers[b]!.chunks.reduce((a, c) => a * c.length, 1);
    const arrayChunk = (c: number) => plan.buffers[graph.chunkBuffer[c]!]!.components === undefined;
    // a task belongs to the owner of the first array chunk it writes (all writers of a chunk agree),
    // else (it writes only its own partials) to its share of the layer
    this.taskOwner = plan.layers.map((layer, l) => {
      const count = graph.tasks[l]!.count;
      const owners = new Int32Array(count);
      const firstWrite = layer.kind === "program" ? plan.kernels[layer.kernel]!.slots.find((s) => s.kind === "write") : undefined;
      for (let t = 0; t < count; t++) {
        const i = graph.task(l, t);
        const writesNothing = graph.writeStart[i] === graph.writeStart[i + 1];
        if ((layer.kind === "program" && !firstWrite) || layer.kind === "write" || writesNothing) owners[t] = chunkOwner(t, count, size);
        else {
          let c = graph.writes[graph.writeStart[i]!]!;
          for (let w = graph.writeStart[i]!; w < graph.writeStart[i + 1]!; w++) {
            if (arrayChunk(graph.writes[w]!)) {
              c = graph.writes[w]!;
              break;
            }
          }
          owners[t] = chunkOwner(graph.chunkIndex[c]!, nchunks(graph.chunkBuffer[c]!), size);
        }
      }
      return owners;
    });
    // who writes each chunk, which ranks read it (only tasks the outputs need: culled ones never run)
    const writerLayer = new Int32Array(graph.chunkCount).fill(-1);
    const writerRank = new Int32Array(graph.chunkCount);
    const readersOf = new Map<number, Set<number>>();
    const readBy = (c: number, r: number) => {
      let set = readersOf.get(c);
      if (!set) readersOf.set(c, (set = new Set()));
      set.add(r);
    };
    plan.layers.forEach((_, l) => {
      for (let t = 0; t < graph.tasks[l]!.count; t++) {
        const i = graph.task(l, t);
        if (!graph.needed[i]) continue;
        const r = this.taskOwner[l]![t]!;
        for (let w = graph.writeStart[i]!; w < graph.writeStart[i + 1]!; w++) {
          writerLayer[graph.writes[w]!] = l;
          writerRank[graph.writes[w]!] = r;
        }
        for (let x = graph.readStart[i]!; x < graph.readStart[i + 1]!; x++) readBy(graph.reads[x]!, r);
      }
    });
    for (const o of plan.outputs) {
      const b = storageOf(plan, o.buffer);
      for (let k = 0; k < nchunks(b); k++) for (let r = 0; r < size; r++) readBy(graph.chunkBase[b]! + k, r);
    }
    // global chunk numbers go in buffer order, then chunk order: the order chunks are packed in
    const groups = new Map<string, Transfer>();
    for (let c = 0; c < graph.chunkCount; c++) {
      const layer = writerLayer[c]!;
      if (layer < 0) continue;
      const from = writerRank[c]!;
      for (const to of readersOf.get(c) ?? []) {
        if (to === from) continue;
        const gk = `${layer}:${from}:${to}`;
        let g = groups.get(gk);
        if (!g) groups.set(gk, (g = { layer, from, to, chunks: [], left: 0 }));
        g.chunks.push([graph.chunkBuffer[c]!, graph.chunkIndex[c]!]);
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
  attach(run: PlanRun, memory: ChunkMemory, onError: (e: unknown) => void, watch: RunWatch | null = null): void {
    this.watch = watch;
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
    const started = this.watch ? Date.now() : 0;
    const p = this.comm.sendBytes(g.to, TAG_BASE + g.layer, bytes);
    p.then(() => this.watch?.sent(g.to, g.layer, total, started), (e) => this.failed?.(e));
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
