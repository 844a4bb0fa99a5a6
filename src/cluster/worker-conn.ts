/**
 * A connected worker as the scheduler sees it: what it registered (info, where peers reach it), its link,
 * and the scheduler's counts of what it runs and holds.
 */
import type { Link } from "../transport/link.js";
import type { WorkerView } from "./cluster-run.js";
import type { WorkerInfo } from "./worker-registry.js";

export interface WorkerConn extends WorkerView {
  info: WorkerInfo;
  link: Link;
  inflight: number;
  /** calls it runs (at most one per thread: a worker has one call thread per thread) */
  calls: number;
  exclusive: boolean;
  plans: Set<string>;
  runs: Set<number>;
  /** why it asked to leave (its lifetime), or null */
  retiring: string | null;
  /** hand-offs of its chunks still to be confirmed (-1: not started) */
  handoffs: number;
}
