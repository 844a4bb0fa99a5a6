/**
 * A staging buffer per thread for chunk bytes that cannot be written from where they were computed (an
 * edge chunk padded to full size, a dtype converted on disk): reused from chunk to chunk. A new 32 MiB
 * Buffer per edge chunk left the garbage collector a dozen of them to find (writing a 14,000² float64
 * array in 2,048² chunks peaked at 493 MiB instead of 287). Taken while in use, so a write that awaits
 * (a numcodecs codec) while another runs gets a buffer of its own.
 */
let spare: Buffer | null = null;

/** A buffer of at least `bytes` bytes (its contents are stale); give it back when done. */
export function takeStaging(bytes: number): Buffer {
  const b = spare && spare.length >= bytes ? spare : Buffer.allocUnsafeSlow(bytes);
  if (b === spare) spare = null;
  return b;
}

export function giveBackStaging(b: Buffer): void {
  if (!spare || b.length > spare.length) spare = b;
}
