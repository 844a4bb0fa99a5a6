/**
 * Runs the tasks of a storage layer in a worker: chunk t of a buffer read from a file region, or written
 * to one. The format code is loaded on the first storage task (most workers never need it).
 */
import { withTask } from "./task-failure.js";
import { typedArrayFor } from "../dtype.js";
import { Grid } from "../grid.js";
import { ZSTD_ENCODE_WINDOW_BYTES as WINDOW, ZSTD_ENCODE_WORK_BYTES, ZSTD_PART_BYTES, ZSTD_PART_OUT_BYTES as OUT_BYTES, kernelModule, zstdEncoderOnOwnMemory, zstdOnOwnMemory } from "../kernels/wasm.js";
import type { ChunkDecoders, ChunkEncoders, SinkSpec, SourceSpec } from "../storage/types.js";
import type { StorageTaskSpec } from "./messages.js";
import type { ExecContext } from "./program-task.js";

let io: Promise<typeof import("../storage/io.js")> | null = null;
let decoders: Promise<ChunkDecoders> | null = null;
let encoders: Promise<ChunkEncoders> | null = null;

/**
 * This thread's decoders: zstd in place in the kernel memory (tasks' chunks are there) with the worker's
 * zstd area, and in a small memory of its own (made on first use): streamed through its stages, or whole
 * (grown to the chunk's size) for frames the streamed decoder leaves; null where the kernel module cannot
 * load (numcodecs then).
 */
async function threadDecoders(ctx: ExecContext): Promise<ChunkDecoders> {
  const { ZstdChunkReader } = await import("../storage/zstd.js");
  let zstd: InstanceType<typeof ZstdChunkReader> | null = null;
  try {
    kernelModule();
    zstd = new ZstdChunkReader(() => zstdOnOwnMemory());
  } catch {
    zstd = null;
  }
  const k = ctx.kernels.zstd;
  const work = ctx.areas.zstd;
  const { nativeZstdReader } = await import("../storage/native-zstd.js");
  const readFd = nativeZstdReader(ctx.memory) ?? undefined;
  return { zstd, zstdInPlace: zstd && k && work ? { decompress: k, work, ...(readFd ? { readFd } : {}) } : null };
}

/**
 * This thread's encoders: zstd in the kernel memory (a write task's chunk is there, as stored) with the
 * worker's zstd area (the workspace, then one part's output), and staged in a small memory of its own (made
 * on first use) for chunks not in memory as stored; null where the kernel module cannot load (numcodecs then).
 */
async function threadEncoders(ctx: ExecContext): Promise<ChunkEncoders> {
  const { ZstdChunkWriter } = await import("../storage/zstd-write.js");
  let own: InstanceType<typeof ZstdChunkWriter> | null = null;
  try {
    kernelModule();
    own = new ZstdChunkWriter(() => zstdEncoderOnOwnMemory(), { workBytes: ZSTD_ENCODE_WORK_BYTES, partBytes: ZSTD_PART_BYTES, outBytes: OUT_BYTES, window: WINDOW });
  } catch {
    own = null;
  }
  const k = ctx.kernels.zstdCompress;
  const area = ctx.areas.zstd;
  if (!own || !k || !area) return { zstd: own, zstdInPlace: null };
  return { zstd: own, zstdInPlace: { memory: ctx.memory, compress: k, work: area, out: area + ZSTD_ENCODE_WORK_BYTES, outBytes: OUT_BYTES, partBytes: ZSTD_PART_BYTES } };
}

export class StorageTasks {
  private readonly grid: Grid;

  constructor(
    readonly spec: StorageTaskSpec,
    private readonly ctx: ExecContext,
  ) {
    this.grid = new Grid(spec.buffer);
  }

  /** Runs tasks [start, end). Throws with `.task` set to the failing task. */
  async run(start: number, end: number): Promise<void> {
    const { readRegion, writeRegion } = await (io ??= import("../storage/io.js"));
    const s = this.spec;
    const aids = s.kind === "read" ? await (decoders ??= threadDecoders(this.ctx)) : undefined;
    const encs = s.kind === "write" ? await (encoders ??= threadEncoders(this.ctx)) : undefined;
    for (let t = start; t < end; t++) {
      try {
        const c = this.grid.chunk(t);
        const addr = new Float64Array(this.ctx.memory.buffer, s.buffer.table + t * 8, 1)[0]!;
        const view = typedArrayFor(s.buffer.dtype, this.ctx.memory.buffer, addr, this.grid.chunkSize(t));
        if (s.kind === "read") await readRegion(s.storage as SourceSpec, c.start, c.shape, view, aids);
        else await writeRegion(s.storage as SinkSpec, c.start, c.shape, view, encs);
      } catch (e) {
        throw withTask(e, t);
      }
    }
  }
}
