/**
 * Every message of the cluster, in one place: between the scheduler and its workers, and between workers
 * (chunk fetches). On the wire each is the protocol's Cluster table (protocol/tessera.fbs): the message as
 * JSON in `header`, the bytes it carries in `payload`. A payload larger than the frame limit is sent in
 * parts (`offset`, `total`), reassembled by the receiver (Parts below).
 *
 * Run ids are the scheduler's (one per compute); chunk numbers are global chunk numbers of the run's task
 * graph (plan/task-graph.ts), the same in every process that builds the graph from the same plan.
 */
import { decodeFragments, encode, encodeHead } from "../protocol/messages.js";
import type { Frame, Link } from "../transport/link.js";

/** The job labels both sides of a cluster's connections prove (they are in every proof's transcript). */
export const SCHEDULER_JOB = "tessera-cluster";
export const PEER_JOB = "tessera-cluster-peer";
/** Workers say this rank in their Hello to the scheduler (rank 0); workers' own servers are rank 0 too. */
export const WORKER_RANK = 1;

/** Where a worker gets input chunks it does not hold: from worker `from`, listening at host:port. */
export interface FetchFrom {
  from: number;
  host: string;
  port: number;
  /** where they go (chunks of the assigned run) */
  chunks: number[];
  /** they are chunks `chunks` of (resident) run `run` there (an array persisted on the cluster); `from` may be this worker */
  src?: { run: number; chunks: number[] };
}

/** Where a call's argument comes from when it is another call's value: worker `from` keeps it (`from` may be the caller). */
export interface ValueFrom {
  /** the argument's position */
  arg: number;
  call: number;
  from: number;
  host: string;
  port: number;
}

/** The scheduler to a worker. */
export type ToWorkerMsg =
  /** the worker's id (after it registered) */
  | { kind: "welcome"; id: number }
  /** a plan's canonical text (payload), once per worker and plan hash */
  | { kind: "plan"; hash: string }
  /** a compute starts on this worker: its chunk memory is made from the plan of `hash` */
  | { kind: "begin"; run: number; hash: string }
  /** an input chunk (user data held by the client), or a part of it */
  | { kind: "data"; run: number; chunk: number; offset: number; total: number }
  /** tasks [start, end) of a layer; first get the chunks in `fetch` from the workers holding them */
  | { kind: "assign"; run: number; batch: number; layer: number; start: number; end: number; fetch: FetchFrom[] }
  /** these chunks are read by nothing any more: free them */
  | { kind: "release"; run: number; chunks: number[] }
  /** send these chunks (outputs) to the scheduler */
  | { kind: "send"; run: number; chunks: number[] }
  /** the compute is over here (finished, failed or cancelled): free all it holds */
  | { kind: "end"; run: number }
  /** get these chunks from the workers holding them and keep them (a retiring worker hands them off) */
  | { kind: "replicate"; handoff: number; run: number; fetch: FetchFrom[] }
  /**
   * call a function (source text) with the arguments in the payload (serialized values); the arguments
   * in `deps` are other calls' values, kept by the workers named (null in the payload): fetched first
   */
  | { kind: "call"; call: number; fn: string; deps?: ValueFrom[] }
  /** send the value of a call this worker keeps to the scheduler (its client asked for it) */
  | { kind: "sendValue"; call: number }
  /** forget the values of these calls (no future refers to them, no call waits for them) */
  | { kind: "dropValues"; calls: number[] }
  /** stop: the cluster is closing, or this worker is retired */
  | { kind: "shutdown"; reason: string };

/** A worker to the scheduler. */
export type ToSchedulerMsg =
  /** first message after authenticating: who it is and where its peers reach it */
  | { kind: "register"; pid: number; host: string; threads: number; memory: number; listenHost: string; listenPort: number; name: string }
  | { kind: "done"; run: number; batch: number }
  /** a task of the batch failed (its code and message; the batch's other tasks are lost with it) */
  | { kind: "failed"; run: number; batch: number; task: number; code: string; message: string; stack?: string }
  /**
   * an input chunk could not be fetched from worker `from` (-1: an input chunk is missing here); the batch
   * did not run. `have`: the batch's inputs that are here all the same
   */
  | { kind: "fetchFailed"; run: number; batch: number; from: number; message: string; have: number[] }
  /** chunks the scheduler asked for (send) that this worker does not hold (its bookkeeping is wrong) */
  | { kind: "missing"; run: number; chunks: number[] }
  /** a chunk the scheduler asked for (send), or a part of it */
  | { kind: "chunk"; run: number; chunk: number; offset: number; total: number }
  /** the worker reached its lifetime: it wants to leave once its chunks still needed are handed off */
  | { kind: "retiring"; reason: string }
  /** the chunks of a replicate are here (ok), or could not be fetched */
  | { kind: "replicated"; handoff: number; run: number; chunks: number[]; ok: boolean; message: string }
  /** a call finished: this worker keeps its value (`bytes` of it, serialized) until told to drop it */
  | { kind: "callDone"; call: number; bytes: number }
  /** a kept value the scheduler asked for (sendValue), or a part of it; `missing`: it is not here */
  | { kind: "value"; call: number; offset: number; total: number; missing?: boolean }
  /** a call failed: its function threw (code, message), or (`from`) an argument's value could not be fetched from worker `from` */
  | { kind: "callFailed"; call: number; code: string; message: string; stack?: string; from?: number }

/** A worker to another worker (the fetching one opens the link). */
export type PeerMsg =
  | { kind: "fetch"; req: number; run: number; chunks: number[] }
  /** one of the chunks asked for, or a part of it */
  | { kind: "chunk"; req: number; run: number; chunk: number; offset: number; total: number }
  | { kind: "fetched"; req: number }
  | { kind: "fetchError"; req: number; message: string }
  /** the values of calls that worker keeps (arguments of a call here) */
  | { kind: "fetchValues"; req: number; calls: number[] }
  /** one of the values asked for, or a part of it */
  | { kind: "valuePart"; req: number; call: number; offset: number; total: number };

export type ClusterMessage = ToWorkerMsg | ToSchedulerMsg | PeerMsg;

const KINDS = new Set([
  "welcome", "plan", "begin", "data", "assign", "release", "send", "end", "replicate", "call", "sendValue", "dropValues", "shutdown",
  "register", "done", "failed", "fetchFailed", "missing", "chunk", "retiring", "replicated", "callDone", "callFailed", "value",
  "fetch", "fetched", "fetchError", "fetchValues", "valuePart",
]);

/** A received message: the message and its payload (a view into the received frame). */
export interface Received<M> {
  msg: M;
  payload: Uint8Array;
}

export class MessageError extends Error {}

/** Decodes a frame (as the link delivers it, in fragments) into a cluster message. */
export function decodeMessage<M extends ClusterMessage>(fragments: Uint8Array[]): Received<M> {
  const m = decodeFragments(fragments);
  if (m.kind !== "cluster") throw new MessageError(`a ${m.kind} message where a cluster message was due`);
  let msg: unknown;
  try {
    msg = JSON.parse(m.header);
  } catch {
    throw new MessageError("a cluster message whose header is not JSON");
  }
  const kind = (msg as { kind?: unknown } | null)?.kind;
  if (typeof kind !== "string" || !KINDS.has(kind)) throw new MessageError(`a cluster message of unknown kind ${JSON.stringify(kind)}`);
  return { msg: msg as M, payload: m.payload };
}

/** Payloads above this go as a second fragment, from where they lie (no copy into the frame). */
const INLINE_BYTES = 64 * 1024;
/** Room left in a frame for the header of a part. */
const HEADER_ROOM = 64 * 1024;

/** The frame(s) of a message without parts. */
function frameOf(msg: ClusterMessage, payload: Uint8Array): Frame {
  const header = JSON.stringify(msg);
  if (payload.length <= INLINE_BYTES) return encode({ kind: "cluster", header, payload });
  return { fragments: [encodeHead({ kind: "cluster", header, payload }), payload] };
}

/** Sends a message (with its payload, if any) on a link. */
export function send(link: Link, msg: ClusterMessage, payload: Uint8Array = EMPTY): Promise<void> {
  return link.send(frameOf(msg, payload));
}

const EMPTY = new Uint8Array(0);

/**
 * Sends `bytes` as one message or, when they do not fit a frame of `maxPayload`, as parts: `make(offset,
 * total)` gives each part's message (it must carry `offset` and `total`).
 */
export function sendParts(link: Link, bytes: Uint8Array, maxPayload: number, make: (offset: number, total: number) => ClusterMessage): Promise<void> {
  const part = Math.max(64 * 1024, maxPayload - HEADER_ROOM);
  const total = bytes.length;
  const frames: Frame[] = [];
  for (let at = 0; at === 0 || at < total; at += part) frames.push(frameOf(make(at, total), bytes.subarray(at, Math.min(total, at + part))));
  return link.send(frames);
}

/**
 * Reassembles payloads sent in parts. `add` returns the whole payload once its last part is in (at once
 * for a payload in one part: the received view itself, no copy), else null.
 */
export class Parts {
  private readonly open = new Map<string, { bytes: Uint8Array; got: number }>();

  add(key: string, offset: number, total: number, payload: Uint8Array): Uint8Array | null {
    if (offset === 0 && payload.length === total) return payload;
    if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(total) && offset >= 0 && offset + payload.length <= total)) {
      throw new MessageError(`a part at ${offset} of ${payload.length} bytes does not fit a payload of ${total}`);
    }
    let p = this.open.get(key);
    if (!p) this.open.set(key, (p = { bytes: new Uint8Array(total), got: 0 }));
    p.bytes.set(payload, offset);
    p.got += payload.length;
    if (p.got < total) return null;
    this.open.delete(key);
    return p.bytes;
  }

  /** Forgets the parts of a run (it ended). */
  drop(prefix: string): void {
    for (const k of [...this.open.keys()]) if (k.startsWith(prefix)) this.open.delete(k);
  }
}
