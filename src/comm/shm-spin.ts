/**
 * How a rank that waits for a local peer spins (ShmExchange): native spin calls on its doorbell word (a
 * pause per turn, returning as soon as the word changes), between which it looks at the rings; when it
 * yields the core to others, and how long a run of synchronous collectives may hold the event loop.
 */
/** Native spin turns between two looks at the rings (a pause each, about 10-100 µs in all). */
export const SPIN_TURNS = 2048;
/**
 * A spinning wait yields the core every YIELD_EVERY turns (about a microsecond): a peer running on another
 * core answers well within that, so a wait that lasts longer most likely waits for a peer that is not
 * running, perhaps queued on this very core (more ranks than cores, or other processes): it should run.
 * With more local ranks than cores (as Open MPI does when oversubscribed), every turn yields.
 */
const YIELD_EVERY = 32;
/**
 * ... but not in the first YIELD_AFTER_MS of a wait when there are no more local ranks than cores: a peer
 * on the other core that is about to answer answers within that, and a yield (a system call, and perhaps
 * another process's time slice) would only delay seeing it. Short: when the peer shares this core (another
 * process took the other one), every microsecond spun before yielding is one the peer cannot run (with
 * 50 µs, a round trip between two ranks on one busy core took 100 µs; with 10 µs, 20).
 */
const YIELD_AFTER_MS = 0.01;
/** Native spin turns of one call while a wait may not yield yet (a few µs: the call must not outlast YIELD_AFTER_MS by much). */
const EARLY_TURNS = 64;
/** A run of collectives that complete synchronously lets the event loop turn at least this often, ms. */
export const LOOP_HOLD_MS = 10;

/**
 * The next native spin call of a wait that began at `t0`: [turns, yieldEvery] (addon.spin's arguments;
 * yieldEvery 0 never), `full` turns once it may yield.
 */
export function spinTurns(oversubscribed: boolean, t0: number, now: number, full: number): [number, number] {
  if (oversubscribed) return [full, 1];
  return now - t0 < YIELD_AFTER_MS ? [EARLY_TURNS, 0] : [full, YIELD_EVERY];
}

/** takeNumber's native spin turns between two looks at the ring it waits on (it returns early when the doorbell rings). */
export const TAKE_SPIN_TURNS = 256;
