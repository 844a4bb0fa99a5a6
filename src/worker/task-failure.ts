/**
 * How a task runner reports which task failed: the error it throws carries `.task`, which the worker
 * loop sends with the failure so the scheduler can name the task and its block.
 */
export function withTask(e: unknown, task: number): Error {
  return Object.assign(e instanceof Error ? e : new Error(String(e)), { task });
}

/** Runs tasks [start, end) one after another; the first failure is thrown with `.task` set. */
export function runEach(start: number, end: number, runTask: (t: number) => void): void {
  for (let t = start; t < end; t++) {
    try {
      runTask(t);
    } catch (e) {
      throw withTask(e, t);
    }
  }
}
