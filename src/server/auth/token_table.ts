/**
 * Static-token lookup in constant time. Every listed token is stored as
 * HMAC-SHA256 under a per-process random key; a presented token is MACed
 * the same way and compared against every entry with an XOR-accumulate
 * loop that never exits early. What timing could reveal is how many bytes
 * of unpredictable MACs matched, which says nothing about the tokens.
 * @module
 */

const DIGEST_BYTES = 32;

/** Maps tokens to their tenant without data-dependent early exits. */
export class TokenTable {
  private constructor(
    private readonly key: CryptoKey,
    private readonly digests: Uint8Array,
    private readonly tenants: readonly string[],
  ) {}

  /** Builds the table from (tenant, token) pairs under a fresh random key. */
  static async create(
    entries: Iterable<readonly [tenant: string, token: string]>,
  ): Promise<TokenTable> {
    const key = await crypto.subtle.generateKey(
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    ) as CryptoKey;
    const list = [...entries];
    const digests = new Uint8Array(list.length * DIGEST_BYTES);
    for (let i = 0; i < list.length; i++) {
      digests.set(await mac(key, list[i][1]), i * DIGEST_BYTES);
    }
    return new TokenTable(key, digests, list.map(([tenant]) => tenant));
  }

  /** The tenant owning `token`, or null. Scans every entry. */
  async lookup(token: string): Promise<string | null> {
    const d = await mac(this.key, token);
    let found = 0; // index + 1 of the matching entry, 0 for none
    for (let i = 0; i < this.tenants.length; i++) {
      let diff = 0;
      const base = i * DIGEST_BYTES;
      for (let j = 0; j < DIGEST_BYTES; j++) {
        diff |= d[j] ^ this.digests[base + j];
      }
      // mask is all ones when diff === 0, else zero: select without branching.
      const mask = -(((diff - 1) >>> 8) & 1);
      found = (found & ~mask) | ((i + 1) & mask);
    }
    return found === 0 ? null : this.tenants[found - 1];
  }
}

async function mac(key: CryptoKey, token: string): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(token);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes));
}
