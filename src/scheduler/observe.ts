/**
 * Watching runs from outside (the dashboard): a small observer interface the scheduler and the cluster
 * call into, so neither imports what watches them. Work nobody watches costs one check per run: with no
 * observer attached, `watchRun` returns null before building anything, and every call site is `watch?.`
 * with plain numbers, so no event object is made per batch.
 */

/** A run as an observer first sees it: its chunk-task layers (the ones progress counts) and their sizes. */
export interface RunInfo {
  /** per layer of the plan: its label and the chunk tasks of it this process runs (0: host tasks, not counted) */
  layers: { label: string; kind: string; tasks: number }[];
  /** the run's chunk memory now (bytes held, chunks held), read when the observer samples */
  memory?: () => { bytes: number; chunks: number };
}

/** What happens in one run. `worker`: the pool thread (local) or the worker id (cluster). */
export interface RunWatch {
  /** a batch of tasks start..end-1 of `layer` was handed to `worker`; `transfer`: its inputs move there first */
  batch(layer: number, start: number, end: number, worker: number, transfer: boolean): void;
  /** that batch ran */
  done(layer: number, start: number, end: number, worker: number): void;
  /** chunks of `layer` (`bytes` of them) went to rank `peer`, sent from `started` (ms since the epoch) until now */
  sent(peer: number, layer: number, bytes: number, started: number): void;
  /** task `task` of `layer` failed at chunk `block`: `message` names it */
  failed(layer: number, task: number, block: readonly number[] | null, message: string): void;
  /** the run is over: `error` null when it succeeded */
  ended(error: Error | null): void;
}

export interface RunObserver {
  run(info: RunInfo): RunWatch;
}

const observers = new Set<RunObserver>();

/** Sees every run of this process's engine from now on; returns the function that stops it. */
export function observeRuns(o: RunObserver): () => void {
  observers.add(o);
  return () => observers.delete(o);
}

/** The watch of a new run, or null (nothing built) when no one observes. `info` is called only when someone does. */
export function watchRun(info: () => RunInfo): RunWatch | null {
  if (observers.size === 0) return null;
  try {
    return fanOut([...observers], info());
  } catch {
    return null; // an observer that cannot take the run does not stop it
  }
}

/** One watch that tells each observer (an observer that throws does not stop the run or the others). */
export function fanOut(list: readonly RunObserver[], info: RunInfo): RunWatch {
  const watches = list.map((o) => o.run(info));
  const each = (f: (w: RunWatch) => void) => {
    for (const w of watches) {
      try {
        f(w);
      } catch {
        /* an observer's fault is not the run's */
      }
    }
  };
  return {
    batch: (l, s, e, w, t) => each((x) => x.batch(l, s, e, w, t)),
    done: (l, s, e, w) => each((x) => x.done(l, s, e, w)),
    sent: (p, l, b, t) => each((x) => x.sent(p, l, b, t)),
    failed: (l, t, b, m) => each((x) => x.failed(l, t, b, m)),
    ended: (err) => each((x) => x.ended(err)),
  };
}
