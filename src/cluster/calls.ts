/**
 * A worker's call threads (client.submit): as many as the worker has threads, each running one call at
 * a time (call-entry.ts); calls wait for a free thread. A thread that dies (the function exited it) fails
 * its call and is replaced.
 */
import { Worker } from "node:worker_threads";
import type { CallReply, CallRequest } from "./call-entry.js";

interface Thread {
  worker: Worker;
  busy: { call: number; resolve: (r: CallReply) => void } | null;
}

const ENTRY = new URL("./call-entry.js", import.meta.url);

export class CallThreads {
  private readonly threads: (Thread | null)[];
  private readonly queue: { req: CallRequest; resolve: (r: CallReply) => void }[] = [];
  private closed = false;

  constructor(private readonly size: number) {
    this.threads = new Array<Thread | null>(size).fill(null);
  }

  private spawn(i: number): Thread {
    const worker = new Worker(ENTRY);
    const t: Thread = { worker, busy: null };
    worker.on("message", (r: CallReply) => {
      const b = t.busy;
      t.busy = null;
      worker.unref();
      b?.resolve(r);
      this.next();
    });
    const died = (why: string) => {
      if (this.threads[i] !== t) return;
      this.threads[i] = null;
      const b = t.busy;
      t.busy = null;
      b?.resolve({ call: b.call, ok: false, code: "TASK_FAILED", message: `the function's thread ${why}` });
      this.next();
    };
    worker.on("error", (e) => died(`threw ${e.message}`));
    worker.on("exit", (code) => died(`exited with code ${code}`));
    worker.unref();
    return t;
  }

  /** Runs one call; resolves with its reply (never rejects). */
  run(req: CallRequest): Promise<CallReply> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ call: req.call, ok: false, code: "CLUSTER_CLOSED", message: "the worker is closing" });
      this.queue.push({ req, resolve });
      this.next();
    });
  }

  private next(): void {
    while (this.queue.length && !this.closed) {
      let i = this.threads.findIndex((t) => t === null || t.busy === null);
      if (i < 0) return;
      const t = (this.threads[i] ??= this.spawn(i));
      const { req, resolve } = this.queue.shift()!;
      t.busy = { call: req.call, resolve };
      t.worker.ref();
      t.worker.postMessage(req);
      i = -1;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t?.worker.terminate()));
  }

  get threadCount(): number {
    return this.size;
  }
}
