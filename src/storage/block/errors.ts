/**
 * The one error a damaged block raises. Callers that open many blocks
 * report it and skip the block; nothing read from a block that failed a
 * check is ever returned.
 * @module
 */

/** A block's files fail a check: checksum, size, magic, version or structure. */
export class BlockCorruptError extends Error {
  /** The block directory (may be "" when not known where the bytes came from). */
  readonly block: string;
  /** The file that failed (meta.json, index, chunks), when known. */
  readonly file: string;

  constructor(block: string, file: string, message: string) {
    super(`block ${block || "?"}: ${file ? file + ": " : ""}${message}`);
    this.name = "BlockCorruptError";
    this.block = block;
    this.file = file;
  }
}

/**
 * Raised by byte decoders without knowing which block they read; the block
 * code converts it into a BlockCorruptError naming the block and file.
 */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}
