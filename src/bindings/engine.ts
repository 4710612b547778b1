/**
 * Loads the engine module (build/engine.wasm) in Deno or a browser with one
 * code path, and gives typed views over its linear memory.
 *
 * Views are rebuilt lazily whenever the memory has grown (growing detaches
 * the old ArrayBuffer), so always read them through the getters right before
 * use and never keep a view across a call that may allocate.
 * @module
 */
import { EngineError, ERR_NOMEM } from "./errors.ts";

/** The raw exports of engine.wasm: numbers in, numbers out. */
// deno-lint-ignore no-explicit-any
export type RawExports = Record<string, any> & {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  free(ptr: number): void;
};

/** Where engine.wasm is found when no source is given (the build output). */
export const defaultWasmUrl: URL = new URL(
  "../../build/engine.wasm",
  import.meta.url,
);

/** A loaded engine module with typed memory views. */
export class Engine {
  readonly raw: RawExports;
  #buffer: ArrayBuffer | null = null;
  #u8!: Uint8Array;
  #i32!: Int32Array;
  #u32!: Uint32Array;
  #f64!: Float64Array;
  #i64!: BigInt64Array;
  #dv!: DataView;

  constructor(instance: WebAssembly.Instance) {
    this.raw = instance.exports as unknown as RawExports;
  }

  #refresh(): void {
    const buf = this.raw.memory.buffer;
    if (buf === this.#buffer) return;
    this.#buffer = buf;
    this.#u8 = new Uint8Array(buf);
    this.#i32 = new Int32Array(buf);
    this.#u32 = new Uint32Array(buf);
    this.#f64 = new Float64Array(buf);
    this.#i64 = new BigInt64Array(buf);
    this.#dv = new DataView(buf);
  }

  /** Byte view of all memory. */
  get u8(): Uint8Array {
    this.#refresh();
    return this.#u8;
  }
  /** Int32 view of all memory (index = byteOffset >> 2). */
  get i32(): Int32Array {
    this.#refresh();
    return this.#i32;
  }
  /** Uint32 view of all memory (index = byteOffset >> 2). */
  get u32(): Uint32Array {
    this.#refresh();
    return this.#u32;
  }
  /** Float64 view of all memory (index = byteOffset >> 3). */
  get f64(): Float64Array {
    this.#refresh();
    return this.#f64;
  }
  /** BigInt64 view of all memory (index = byteOffset >> 3). */
  get i64(): BigInt64Array {
    this.#refresh();
    return this.#i64;
  }
  /** DataView of all memory. */
  get view(): DataView {
    this.#refresh();
    return this.#dv;
  }

  /**
   * Allocates `size` bytes (16-byte aligned) of engine memory owned by the
   * caller, who must `free` it. Throws EngineError(ERR_NOMEM) when memory is
   * exhausted.
   */
  alloc(size: number): number {
    let ptr = 0;
    try {
      ptr = this.raw.alloc(size >>> 0);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        throw new EngineError(ERR_NOMEM, `alloc(${size})`);
      }
      throw e;
    }
    if (ptr === 0) throw new EngineError(ERR_NOMEM, `alloc(${size})`);
    return ptr;
  }

  /** Releases memory obtained from `alloc`. */
  free(ptr: number): void {
    if (ptr !== 0) this.raw.free(ptr);
  }
}

/** Anything the engine can be loaded from. */
export type EngineSource =
  | URL
  | string
  | Response
  | BufferSource
  | WebAssembly.Module;

/**
 * Instantiates the engine module. In Deno the default source is the build
 * output on disk (fetched through a file: URL); in a browser pass the URL the
 * page serves it from. A Response served as application/wasm is compiled
 * while it streams.
 *
 * @example
 * ```ts
 * import { loadEngine } from "./engine.ts";
 * const engine = await loadEngine();
 * const p = engine.alloc(64);
 * engine.free(p);
 * ```
 */
export async function loadEngine(
  source: EngineSource = defaultWasmUrl,
): Promise<Engine> {
  let instance: WebAssembly.Instance;
  if (source instanceof WebAssembly.Module) {
    instance = await WebAssembly.instantiate(source, {});
  } else if (source instanceof URL || typeof source === "string") {
    return loadEngine(await fetch(source));
  } else if (source instanceof Response) {
    if (!source.ok) {
      throw new Error(`cannot load engine module: HTTP ${source.status}`);
    }
    const streaming = source.headers.get("content-type") ===
        "application/wasm" && typeof WebAssembly.instantiateStreaming ===
        "function";
    instance = streaming
      ? (await WebAssembly.instantiateStreaming(source, {})).instance
      : (await WebAssembly.instantiate(await source.arrayBuffer(), {}))
        .instance;
  } else {
    instance = (await WebAssembly.instantiate(source, {})).instance;
  }
  return new Engine(instance);
}
