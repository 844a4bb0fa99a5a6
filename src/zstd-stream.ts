/**
 * The streamed zstd decoder of assembly/zstd-stream.ts as the kernels bind it (kernels/wasm.ts) and the
 * storage layer drives it (storage/zstd.ts): a type both sibling layers share, so it is a root module.
 */
export interface ZstdStreamFns {
  begin(): void;
  /** zstdStream(outBase, outEnd, more, inBase, inEnd, final, maxWindow, work): 0 done, 1 needs input, 2 needs output room, or a negative code */
  step(outBase: number, outEnd: number, more: boolean, inBase: number, inEnd: number, final: boolean, maxWindow: number, work: number): number;
  consumed(): number;
  made(): number;
  window(): number;
}
