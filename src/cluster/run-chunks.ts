/**
 * Where a cluster run's chunks are, and what is still owed on each: its holder (the worker that wrote it,
 * the scheduler for user data), copies other workers fetched, the bytes each worker holds for the run
 * (the scheduler's memory budget per worker), writers and reads still to come, outputs not yet gathered,
 * chunks released everywhere, and per worker the releases and output requests to send (the outbox the
 * scheduler drains). The tasks' side (readiness, queues, batches) is ClusterRun's (cluster-run.ts).
 */
import type { TaskGraph } from "../plan/task-graph.js";
import type { ClusterStore } from "./cluster-store.js";
import type { RunData } from "./run-data.js";
import { RunIndex } from "./run-index.js";

/** Where a chunk is held: by the scheduler (an input), by no one, or by a worker id (>= 1). */
export const SCHEDULER = 0;
export const NOBODY = -1;

/** What a batch's worker must receive before it runs: chunks pushed by the scheduler, fetched from workers, or from resident runs. */
export class BatchTransfers {
  /** input chunks of user data the scheduler pushes */
  readonly push = new Set<number>();
  /** chunks to fetch, per worker holding them */
  readonly fetch = new Map<number, Set<number>>();
  /** chunks of arrays persisted on the cluster, per holder and resident run: [this run's chunk, the resident run's chunk] */
  readonly fetchResident = new Map<string, { from: number; run: number; pairs: [number, number][] }>();
  /** every chunk the batch reads that its worker did not hold */
  readonly copies = new Set<number>();

  /** The fetches as the worker is told them (`src`: chunks of another, resident, run). */
  fetchList(): { from: number; chunks: number[]; src?: { run: number; chunks: number[] } }[] {
    const out: { from: number; chunks: number[]; src?: { run: number; chunks: number[] } }[] = [...this.fetch].map(([from, s]) => ({ from, chunks: [...s] }));
    for (const e of this.fetchResident.values()) out.push({ from: e.from, chunks: e.pairs.map((p) => p[0]), src: { run: e.run, chunks: e.pairs.map((p) => p[1]) } });
    return out;
  }
}

export class RunChunks extends RunIndex {
  readonly writersLeft: Int32Array;
  readonly readersLeft: Int32Array;
  readonly holder: Int32Array;
  readonly copies = new Map<number, number[]>();
  /** 1: released everywhere (its bytes exist nowhere) */
  readonly gone: Uint8Array;
  /** 1: an output chunk not gathered yet (it counts as one more read); 2: asked for; 3: persisted, held for good */
  readonly outputHold: Uint8Array;
  /** input chunks that are chunks of an array persisted on the cluster: where they come from */
  readonly external = new Map<number, { store: ClusterStore; chunk: number }>();
  /** per worker: chunks to release there, outputs to ask for */
  readonly outbox = new Map<number, { release: number[]; send: number[] }>();
  /** per worker: bytes of this run's chunks it holds (written there, or copies), as the scheduler counts them */
  readonly heldBytes = new Map<number, number>();

  constructor(graph: TaskGraph, data: RunData) {
    super(graph, data);
    const nc = graph.chunkCount;
    this.writersLeft = new Int32Array(nc);
    this.readersLeft = new Int32Array(nc);
    this.holder = new Int32Array(nc).fill(NOBODY);
    for (let c = 0; c < nc; c++) if (this.isInput[c]) this.holder[c] = SCHEDULER;
    this.gone = new Uint8Array(nc);
    this.outputHold = new Uint8Array(nc);
  }

  /** A chunk's bytes exist somewhere a reader can get them. */
  available(c: number): boolean {
    const ext = this.external.get(c);
    if (ext) return !ext.store.released && ext.store.run.available(ext.chunk);
    if (this.isInput[c]) return true;
    return this.writersLeft[c] === 0 && !this.gone[c] && (this.holder[c]! > 0 || (this.copies.get(c)?.length ?? 0) > 0);
  }

  /** The workers holding chunk c (its holder first, then copies; a persisted input's are its resident run's). */
  holders(c: number): number[] {
    const ext = this.external.get(c);
    if (ext) return ext.store.run.holders(ext.chunk);
    const h = this.holder[c]!;
    const copies = this.copies.get(c) ?? [];
    return h > 0 ? [h, ...copies] : [...copies];
  }

  /** The first worker holding chunk c, or NOBODY (SCHEDULER for user data). */
  protected where(c: number): number {
    if (!this.external.has(c)) return this.holder[c]!;
    return this.holders(c)[0] ?? NOBODY;
  }

  /**
   * Chunks that only worker w holds and that are still needed (a reader not done, an output not
   * gathered): what it hands off before it leaves.
   */
  heldOnlyBy(w: number): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.graph.chunkCount; c++) {
      if (this.holder[c] !== w || this.isInput[c] || this.gone[c] || this.writersLeft[c]! > 0 || this.readersLeft[c] === 0) continue;
      if ((this.copies.get(c)?.length ?? 0) > 0) continue;
      out.push(c);
    }
    return out;
  }

  protected hold(w: number, bytes: number): void {
    this.heldBytes.set(w, (this.heldBytes.get(w) ?? 0) + bytes);
  }

  /** Worker w holds a copy of chunk c now (fetched, pushed, handed off to it). */
  addCopy(c: number, w: number): void {
    const list = this.copies.get(c);
    if (list?.includes(w)) return;
    if (!list) this.copies.set(c, [w]);
    else list.push(w);
    this.hold(w, this.bytes[c]!);
  }

  protected removeCopy(c: number, w: number): void {
    const list = this.copies.get(c);
    const at = list?.indexOf(w) ?? -1;
    if (at < 0) return;
    list!.splice(at, 1);
    if (!list!.length) this.copies.delete(c);
    this.hold(w, -this.bytes[c]!);
  }

  /** Counts again what every worker holds (after recovery changed holders and copies). */
  recountHeld(): void {
    this.heldBytes.clear();
    for (let c = 0; c < this.graph.chunkCount; c++) {
      const h = this.holder[c]!;
      if (h > 0 && !this.gone[c]) this.hold(h, this.bytes[c]!);
    }
    for (const [c, list] of this.copies) for (const w of list) this.hold(w, this.bytes[c]!);
  }

  protected box(w: number) {
    let b = this.outbox.get(w);
    if (!b) this.outbox.set(w, (b = { release: [], send: [] }));
    return b;
  }

  protected requestOutput(c: number): void {
    const h = this.holder[c]! > 0 ? this.holder[c]! : (this.copies.get(c) ?? [])[0];
    if (h === undefined || h <= 0) return;
    this.outputHold[c] = 2;
    this.box(h).send.push(c);
  }

  /** Nothing reads chunk c any more: every holder frees it. */
  protected release(c: number): void {
    const h = this.holder[c]!;
    if (h > 0) {
      this.box(h).release.push(c);
      if (!this.isInput[c]) this.hold(h, -this.bytes[c]!);
    }
    for (const w of [...(this.copies.get(c) ?? [])]) {
      this.box(w).release.push(c);
      this.removeCopy(c, w);
    }
    if (!this.isInput[c]) {
      this.gone[c] = 1;
      this.holder[c] = NOBODY;
    }
  }

  /**
   * Task i runs on worker w: w holds what i writes from now on; what i reads that w lacks goes into
   * `moves` (a chunk written by the same batch, a scan's carry from the task before, moves nowhere).
   */
  protected placeTask(i: number, w: number, moves: BatchTransfers): void {
    const g = this.graph;
    for (let x = g.writeStart[i]!; x < g.writeStart[i + 1]!; x++) {
      const c = g.writes[x]!;
      if (this.holder[c] !== w) this.hold(w, this.bytes[c]!);
      this.holder[c] = w;
    }
    for (let r = g.readStart[i]!; r < g.readStart[i + 1]!; r++) {
      const c = g.reads[r]!;
      const h = this.holder[c]!;
      if (h === w || (this.copies.get(c) ?? []).includes(w) || moves.copies.has(c)) continue;
      if (this.writersLeft[c]! > 0) continue;
      moves.copies.add(c);
      const ext = this.external.get(c);
      if (ext) {
        const hs = ext.store.run.holders(ext.chunk);
        const from = hs.includes(w) ? w : hs[0]!;
        const key = `${from}:${ext.store.run.id}`;
        let e = moves.fetchResident.get(key);
        if (!e) moves.fetchResident.set(key, (e = { from, run: ext.store.run.id, pairs: [] }));
        e.pairs.push([c, ext.chunk]);
      } else if (this.isInput[c]) moves.push.add(c);
      else {
        const from = h > 0 ? h : this.copies.get(c)![0]!;
        let set = moves.fetch.get(from);
        if (!set) moves.fetch.set(from, (set = new Set()));
        set.add(c);
      }
    }
  }
}
