/**
 * The block adapter workers load for mapBlocks: blocks are NDArrays viewing the shared memory, and
 * NDArray operations during the call allocate in the stage's eager region. When the block is stored
 * the scope closes: its NDArrays become unusable (reading one throws) and the region is reused.
 */
import { NDArray } from "./ndarray.js";
import type { BlockAdapter, BlockScope } from "../worker/map-blocks-task.js";
import { enterBlockContext, RegionHeap, type Scope } from "../scheduler/inthread.js";

export const blockAdapter: BlockAdapter = {
  open(exec, eager): BlockScope {
    const scope: Scope = { alive: true };
    const heap = new RegionHeap(exec.memory, eager.addr, eager.addr + eager.bytes);
    const leave = enterBlockContext({ ...exec, heap, scope });
    return {
      wrap: (data, shape, dtype, addr) => NDArray.fromRaw(data, shape, dtype, { home: exec.memory, addr, scope }),
      unwrap: (v) => (v instanceof NDArray ? { data: v.data, shape: v.shape, dtype: v.dtype, addr: v.addressIn(exec.memory) } : null),
      close() {
        scope.alive = false;
        leave();
      },
    };
  },
};
