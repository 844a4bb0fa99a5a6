/**
 * A script whose promise never settles, with nothing left that could settle it. The event loop empties (the
 * world's connections do not hold it: WsWorld.holdProcess) and Node would exit 13 without a word; caught
 * here at 'beforeExit', unless an operation of the world still waits for a peer (its wait may have no
 * timer, with no collective timeout: the world then keeps the loop and looks again, comm/index.ts).
 *
 * Under several ranks a second check, by resources, covers what holds the loop but cannot settle the
 * script (a dashboard's server, listening since before the script started): "nothing left" means no
 * operation of the world waits for a peer, and nothing keeps the loop alive but the connections and
 * servers there were when the script started (and stdout and stderr): no timer, worker, file or network
 * request, child process or other socket of the script's. That is checked every CHECK_MS, and must hold
 * twice in a row.
 */
import { pendingOperations } from "../comm/index.js";

const CHECK_MS = 1000;
/** resources the run owns (a dashboard's server and its connections): counted when the script starts */
const WORLD_TYPES = new Set(["TCPSocketWrap", "TCPServerWrap"]);
/** stdout and stderr (pipes or a terminal) once written to; they do not wait for anything */
const STDIO_TYPES = new Set(["PipeWrap", "TTYWrap"]);

const countTypes = (types: string[]) => {
  const m = new Map<string, number>();
  for (const t of types) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
};

export const NEVER_SETTLED = "the script's promise never settled: nothing was left that could settle it (no timer, I/O, computation or message from another rank pending)";

/**
 * Calls `onStuck` (once) if `promise` is still pending when nothing can settle it any more. `ranks`: the
 * process is one of several ranks (the world is connected). Returns a function that stops watching.
 */
export function watchUnsettled(promise: Promise<unknown>, ranks: boolean, onStuck: () => void): () => void {
  let settled = false;
  const stop = () => {
    settled = true;
    process.off("beforeExit", onBeforeExit);
    clearInterval(timer);
  };
  // the loop emptied while the script still waits
  const onBeforeExit = () => {
    if (pendingOperations() > 0) return; // a wait for a peer: the world keeps the loop (comm/index.ts atLoopEnd)
    if (!settled) {
      stop();
      onStuck();
    }
  };
  process.on("beforeExit", onBeforeExit);
  void promise.then(stop, stop);

  const base = countTypes(process.getActiveResourcesInfo().filter((t) => WORLD_TYPES.has(t)));
  let strikes = 0;
  const onlyTheWorldIsLeft = () => {
    if (pendingOperations() > 0) return false;
    for (const [t, n] of countTypes(process.getActiveResourcesInfo())) {
      if (WORLD_TYPES.has(t) ? n > (base.get(t) ?? 0) : !STDIO_TYPES.has(t) || n > 2) return false;
    }
    return true;
  };
  const timer = setInterval(() => {
    strikes = ranks && onlyTheWorldIsLeft() ? strikes + 1 : 0;
    if (strikes >= 2 && !settled) {
      stop();
      onStuck();
    }
  }, CHECK_MS);
  timer.unref(); // the watch itself keeps nothing alive
  return stop;
}
