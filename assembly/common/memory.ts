// Linear-memory helpers shared by all kernels. Only unmanaged memory is used
// (heap.alloc/heap.free, load/store): no managed objects, so nothing ever
// needs the garbage collector and no call allocates on its own.

/** Bytes of slack every input buffer must have after its end: a bit reader may run one sample (up to 19 bytes) past a truncated end and loads 9 bytes at a time. */
export const READ_SLACK: usize = 32;

/** True when [ptr, ptr + len + slack) lies inside linear memory. */
// @ts-ignore: decorator
@inline
export function inBounds(ptr: usize, len: usize, slack: usize): bool {
  const size = <u64>memory.size() << 16;
  return <u64>ptr + <u64>len + <u64>slack <= size;
}

/** Largest single allocation the module accepts (1 GiB). */
export const MAX_ALLOC: usize = 1 << 30;

/**
 * Allocate `size` bytes (16-byte aligned) for the caller; 0 for sizes over
 * MAX_ALLOC. When linear memory cannot grow any further the allocator traps,
 * which reaches JavaScript as a RuntimeError (the bindings turn it into an
 * EngineError with code ERR_NOMEM).
 */
export function alloc(size: usize): usize {
  if (size > MAX_ALLOC) return 0;
  return heap.alloc(size);
}

/** Release memory obtained from `alloc`. */
export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}
