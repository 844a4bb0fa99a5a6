/**
 * A deflated zip member read forward from any position, through node:zlib (the same zlib numpy's
 * zipfile writes with; native, several times faster than a JavaScript inflate). The inflater's state
 * is kept between reads, so reads at increasing positions cost one pass over the member in total; a
 * read behind the position starts over from the member's first byte, as deflate cannot be entered in the
 * middle. Memory: what one input slice inflates to past the read's end (the stream is paused there).
 *
 * The cursor holds no file descriptor: each read is handed one, open for that read only.
 */
import { readSync } from "node:fs";
import { createInflateRaw, type InflateRaw } from "node:zlib";
import { TesseraError } from "../errors.js";

const INPUT_SLICE = 256 * 1024;
const OUTPUT_CHUNK = 256 * 1024;

export class InflateCursor {
  private z: InflateRaw | null = null;
  /** inflated bytes not yet passed (pieces[0] starts at member position `base`) */
  private pieces: Buffer[] = [];
  private base = 0;
  private produced = 0;
  private fed = 0;
  private want = 0;
  /** inflated bytes before this position are not kept (a read far ahead holds no more than it needs) */
  private keepFrom = 0;
  /** reads run one at a time: another waits for the one before it */
  private turn: Promise<void> = Promise.resolve();
  private writing = false;
  private ending = false;
  private ended = false;
  private failed: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    /** where the compressed data starts in the file, and its length */
    readonly start: number,
    readonly compressedSize: number,
    /** names the member in errors */
    readonly where: string,
  ) {}

  /** Runs `fn` when the reads and turns before it are done (a task's reads, kept together: no other task's read cuts in). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn);
    this.turn = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** Copies member bytes [pos, pos + n) into `out`, reading compressed input from `fd`. */
  async read(fd: number, pos: number, n: number, out: Uint8Array): Promise<void> {
    if (!this.z || pos < this.base || this.failed) this.restart();
    this.keepFrom = pos;
    this.dropBefore(pos);
    if (this.produced < pos + n) await this.fill(fd, pos + n);
    let at = pos - this.base;
    let done = 0;
    for (const p of this.pieces) {
      if (done === n) break;
      if (at >= p.length) {
        at -= p.length;
        continue;
      }
      const k = Math.min(p.length - at, n - done);
      out.set(p.subarray(at, at + k), done);
      done += k;
      at = 0;
    }
  }

  /** Drops the inflater and what it held; the next read starts over from the member's first byte. */
  close(): void {
    this.z?.destroy();
    this.z = null;
    this.pieces = [];
  }

  private dropBefore(pos: number): void {
    while (this.pieces.length && this.base + this.pieces[0]!.length <= pos) {
      this.base += this.pieces.shift()!.length;
    }
  }

  private restart(): void {
    this.close();
    const z = createInflateRaw({ chunkSize: OUTPUT_CHUNK });
    this.z = z;
    this.base = this.produced = this.fed = this.keepFrom = 0;
    this.writing = this.ending = this.ended = false;
    this.failed = null;
    // events of an inflater replaced since are ignored
    z.on("data", (c: Buffer) => {
      if (this.z !== z) return;
      this.pieces.push(c);
      this.produced += c.length;
      this.dropBefore(this.keepFrom);
      if (this.produced >= this.want) z.pause();
      this.poke();
    });
    z.on("end", () => {
      if (this.z !== z) return;
      this.ended = true;
      this.poke();
    });
    z.on("error", (e) => {
      if (this.z !== z) return;
      this.failed = e;
      this.poke();
    });
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async fill(fd: number, end: number): Promise<void> {
    const z = this.z!;
    this.want = end;
    while (this.produced < end) {
      if (this.failed) throw new TesseraError("FORMAT_ERROR", `${this.where} is damaged: inflate failed (${this.failed.message})`);
      if (this.ended) throw new TesseraError("FORMAT_ERROR", `${this.where} inflates to ${this.produced} bytes, fewer than the ${end} its header promises`);
      if (!this.writing && !this.ending) {
        if (this.fed < this.compressedSize) {
          const k = Math.min(INPUT_SLICE, this.compressedSize - this.fed);
          const buf = Buffer.allocUnsafe(k);
          let got = 0;
          while (got < k) {
            const r = readSync(fd, buf, got, k - got, this.start + this.fed + got);
            if (r === 0) throw new TesseraError("FORMAT_ERROR", `${this.where} ends before its compressed data does (truncated?)`);
            got += r;
          }
          this.fed += k;
          this.writing = true;
          z.write(buf, () => {
            if (this.z !== z) return;
            this.writing = false;
            this.poke();
          });
        } else {
          this.ending = true;
          z.end();
        }
      }
      const woken = new Promise<void>((r) => (this.wake = r));
      z.resume();
      await woken;
    }
  }
}
