// Authentication: the auth file's schema, static bearer tokens, Basic
// credentials, HS256 JWTs (signed here with node:crypto, an implementation
// independent of the WebCrypto verifier), and seeded garbage headers that
// must only ever yield a 401.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { loadAuthFile, parseAuthConfig } from "../src/server/auth/auth_file.ts";
import {
  Authenticator,
  WWW_AUTHENTICATE,
} from "../src/server/auth/authenticate.ts";
import { decodeBase64, decodeBase64Url } from "../src/server/auth/base64.ts";
import { HttpError } from "../src/server/http/errors.ts";
import { promError } from "../src/server/http/envelope.ts";
import { Prng } from "../src/util/prng.ts";

const SECRET = "change-me";
const NOW_MS = 1_800_000_000_000;
const NOW_S = NOW_MS / 1000;

const CONTRACT_EXAMPLE = {
  tenants: {
    acme: { tokens: ["sk_live_acme_1"] },
    globex: {
      tokens: ["sk_live_globex_1"],
      limits: { queryPerMinute: 600 },
    },
  },
  jwt: { hs256Secret: SECRET, tenantClaim: "tenant" },
};

const b64u = (s: string | Buffer) => Buffer.from(s).toString("base64url");
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** A compact JWS signed with node:crypto's HMAC. */
function jwt(
  header: unknown,
  payload: unknown,
  { secret = SECRET, hash = "sha256" } = {},
): string {
  const enc = (v: unknown) =>
    b64u(typeof v === "string" ? v : JSON.stringify(v));
  const signingInput = `${enc(header)}.${enc(payload)}`;
  const sig = createHmac(hash, secret).update(signingInput).digest();
  return `${signingInput}.${b64u(sig)}`;
}

const HS256 = { alg: "HS256", typ: "JWT" };

async function expect401(
  auth: Authenticator,
  header: string | null,
  what: string,
  messageIncludes?: string,
): Promise<void> {
  try {
    const r = await auth.authenticate(header, NOW_MS);
    assert.fail(`${what}: accepted as ${JSON.stringify(r)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e instanceof HttpError, `${what}: threw ${e}`);
    assert.equal(e.status, 401, what);
    assert.equal(e.code, "unauthorized", what);
    assert.equal(e.headers["WWW-Authenticate"], WWW_AUTHENTICATE, what);
    if (messageIncludes) {
      assert.ok(e.message.includes(messageIncludes), `${what}: ${e.message}`);
    }
  }
}

async function tenantOf(auth: Authenticator, header: string | null) {
  return (await auth.authenticate(header, NOW_MS)).tenant;
}

Deno.test("auth file: the contract's example parses", () => {
  const c = parseAuthConfig(CONTRACT_EXAMPLE);
  assert.deepEqual([...c.tenants.keys()], ["acme", "globex"]);
  assert.deepEqual(c.tenants.get("acme"), {
    tokens: ["sk_live_acme_1"],
    limits: {},
  });
  assert.deepEqual(c.tenants.get("globex")?.limits, { queryPerMinute: 600 });
  assert.deepEqual(c.jwt, { hs256Secret: SECRET, tenantClaim: "tenant" });
  const noJwt = parseAuthConfig({ tenants: { a: { tokens: ["x"] } } });
  assert.equal(noJwt.jwt, null);
  const defClaim = parseAuthConfig({
    tenants: { a: { tokens: [] } },
    jwt: { hs256Secret: "s" },
  });
  assert.equal(defClaim.jwt?.tenantClaim, "tenant");
  // A token listed twice for the same tenant is harmless and kept once.
  const dup = parseAuthConfig({ tenants: { a: { tokens: ["x", "x"] } } });
  assert.deepEqual(dup.tenants.get("a")?.tokens, ["x"]);
  // Names that are Object.prototype members are ordinary tenants.
  const proto = parseAuthConfig({
    tenants: { constructor: { tokens: ["c"] }, toString: { tokens: ["t"] } },
  });
  assert.deepEqual([...proto.tenants.keys()], ["constructor", "toString"]);
});

Deno.test("auth file: each schema problem names its field", async (t) => {
  const ok = { tokens: ["tok"] };
  const cases: [string, unknown, string][] = [
    ["top level not an object", [], "(top level)"],
    ["null", null, "(top level)"],
    ["tenants missing", {}, "tenants"],
    ["tenants empty", { tenants: {} }, "tenants: at least one tenant"],
    ["unknown top-level key", { tenants: { a: ok }, tenant: {} }, "tenant"],
    ["tenant name with slash", { tenants: { "a/b": ok } }, "tenants.a/b"],
    ["tenant name ..", { tenants: { "..": ok } }, "tenants..."],
    ["tenant name .", { tenants: { ".": ok } }, "tenants.."],
    ["tenant name empty", { tenants: { "": ok } }, "tenants."],
    ["tenant name too long", {
      tenants: { ["x".repeat(129)]: ok },
    }, "tenant names must match"],
    ["tenant name with space", { tenants: { "a b": ok } }, "tenants.a b"],
    ["tenant name unicode", { tenants: { "é": ok } }, "tenants.é"],
    ["tokens missing", { tenants: { a: {} } }, "tenants.a.tokens"],
    [
      "tokens not array",
      { tenants: { a: { tokens: "x" } } },
      "tenants.a.tokens",
    ],
    [
      "token a number",
      { tenants: { a: { tokens: [1] } } },
      "tenants.a.tokens.0",
    ],
    ["token empty", { tenants: { a: { tokens: [""] } } }, "tenants.a.tokens.0"],
    ["token with space", {
      tenants: { a: { tokens: ["ok", "a b"] } },
    }, "tenants.a.tokens.1"],
    ["token non-ASCII", { tenants: { a: { tokens: ["tök"] } } }, "tokens.0"],
    ["unknown tenant key", {
      tenants: { a: { tokens: [], limts: {} } },
    }, "tenants.a"],
    ["unknown limit", {
      tenants: { a: { tokens: [], limits: { queriesPerMinute: 1 } } },
    }, "tenants.a.limits"],
    ["negative rate", {
      tenants: { a: { tokens: [], limits: { batchPerMinute: -1 } } },
    }, "tenants.a.limits.batchPerMinute"],
    ["fractional rate", {
      tenants: { a: { tokens: [], limits: { queryPerMinute: 1.5 } } },
    }, "tenants.a.limits.queryPerMinute"],
    ["rate as string", {
      tenants: { a: { tokens: [], limits: { writePerMinute: "10" } } },
    }, "tenants.a.limits.writePerMinute"],
    ["batchMaxItems 0", {
      tenants: { a: { tokens: [], limits: { batchMaxItems: 0 } } },
    }, "tenants.a.limits.batchMaxItems"],
    ["maxBodyBytes 0", {
      tenants: { a: { tokens: [], limits: { maxBodyBytes: 0 } } },
    }, "tenants.a.limits.maxBodyBytes"],
    ["maxActiveSeries negative", {
      tenants: { a: { tokens: [], limits: { maxActiveSeries: -5 } } },
    }, "tenants.a.limits.maxActiveSeries"],
    ["limits not object", {
      tenants: { a: { tokens: [], limits: 5 } },
    }, "tenants.a.limits"],
    ["jwt secret empty", {
      tenants: { a: ok },
      jwt: { hs256Secret: "" },
    }, "jwt.hs256Secret: the secret must not be empty"],
    ["jwt secret missing", { tenants: { a: ok }, jwt: {} }, "jwt.hs256Secret"],
    ["jwt secret number", {
      tenants: { a: ok },
      jwt: { hs256Secret: 5 },
    }, "jwt.hs256Secret"],
    ["jwt claim empty", {
      tenants: { a: ok },
      jwt: { hs256Secret: "s", tenantClaim: "" },
    }, "jwt.tenantClaim"],
    ["jwt unknown key", {
      tenants: { a: ok },
      jwt: { hs256Secret: "s", alg: "HS512" },
    }, "jwt"],
    ["duplicate token across tenants", {
      tenants: {
        a: { tokens: ["shared-secret"] },
        b: { tokens: ["shared-secret"] },
      },
    }, "tenants.b.tokens: a token is also listed for tenant a"],
  ];
  for (const [name, json, expected] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseAuthConfig(json), (e: Error) => {
        assert.ok(
          e.message.startsWith(expected) || e.message.includes(expected),
          `${name}: got "${e.message}", want "${expected}"`,
        );
        assert.ok(!e.message.includes("\n"), `${name}: multi-line message`);
        assert.ok(!e.message.includes("shared-secret"), "token leaked");
        return true;
      });
    });
  }
  await t.step("__proto__ tenant from JSON text", () => {
    const json = JSON.parse('{"tenants":{"__proto__":{"tokens":["x"]}}}');
    assert.throws(() => parseAuthConfig(json), /tenants.__proto__/);
  });
});

Deno.test("auth file: loadAuthFile reads, and fails in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/auth.json`;
    await Deno.writeTextFile(good, JSON.stringify(CONTRACT_EXAMPLE, null, 2));
    const c = await loadAuthFile(good);
    assert.deepEqual([...c.tenants.keys()], ["acme", "globex"]);

    const failures: [string, string | null, RegExp][] = [
      ["missing.json", null, /^auth file .*missing\.json: cannot read: /],
      ["bad.json", '{"tenants": {', /^auth file .*bad\.json: not valid JSON: /],
      ["trailing.json", '{"tenants":{}}}', /not valid JSON/],
      ["empty.json", "", /not valid JSON/],
      [
        "schema.json",
        '{"tenants":{"a":{"tokens":["x"],"limits":{"batchPerMinute":-1}}}}',
        /^auth file .*schema\.json: tenants\.a\.limits\.batchPerMinute: /,
      ],
      [
        "secret.json",
        '{"tenants":{"a":{"tokens":["x"]}},"jwt":{"hs256Secret":""}}',
        /jwt\.hs256Secret: the secret must not be empty/,
      ],
    ];
    for (const [name, text, re] of failures) {
      const path = `${dir}/${name}`;
      if (text !== null) await Deno.writeTextFile(path, text);
      await assert.rejects(loadAuthFile(path), (e: Error) => {
        assert.match(e.message, re, name);
        assert.ok(!e.message.includes("\n"), `${name}: ${e.message}`);
        return true;
      });
    }
    // A directory is unreadable as a file.
    await assert.rejects(loadAuthFile(dir), /cannot read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("base64 decoders are strict and agree with node's Buffer", () => {
  const prng = new Prng(0xb64);
  for (let i = 0; i < 500; i++) {
    const bytes = new Uint8Array(prng.int(0, 40)).map(() => prng.int(0, 255));
    const buf = Buffer.from(bytes);
    assert.deepEqual(decodeBase64Url(buf.toString("base64url")), bytes);
    const std = buf.toString("base64");
    assert.deepEqual(decodeBase64(std), bytes, `seed 0xb64 case ${i}`);
    assert.deepEqual(decodeBase64(std.replace(/=+$/, "")), bytes);
  }
  // Non-zero trailing bits, bad lengths, stray characters, wrong padding.
  for (
    const bad of [
      "QR",
      "QUJDRE",
      "A",
      "QQ=",
      "QUJ==",
      "QQ==QQ==",
      "Q Q=",
      "QQ==",
    ]
  ) {
    assert.equal(decodeBase64Url(bad), null, bad);
  }
  for (const bad of ["QR==", "A", "QQ=", "QUJ==", "QUJD=", "Q-==", "QQ\n=="]) {
    assert.equal(decodeBase64(bad), null, bad);
  }
});

Deno.test("authenticate without an auth file: everyone is 'default'", async () => {
  const auth = await Authenticator.create(null);
  assert.equal(auth.enabled, false);
  for (
    const h of [
      null,
      "",
      "Bearer x",
      "Basic !!!",
      "garbage\u0000",
      "Bearer a.b.c",
    ]
  ) {
    assert.equal(await tenantOf(auth, h), "default", String(h));
  }
});

Deno.test("authenticate: static bearer tokens", async () => {
  const auth = await Authenticator.create(parseAuthConfig({
    tenants: {
      acme: { tokens: ["sk_live_acme_1", "sk_live_acme_2"] },
      globex: { tokens: ["sk_live_globex_1"] },
      // A static token may look like a JWT; the static match wins.
      odd: { tokens: ["aaa.bbb.ccc"] },
    },
    jwt: { hs256Secret: SECRET },
  }));
  assert.equal(auth.enabled, true);
  assert.equal(await tenantOf(auth, "Bearer sk_live_acme_1"), "acme");
  assert.equal(await tenantOf(auth, "Bearer sk_live_acme_2"), "acme");
  assert.equal(await tenantOf(auth, "Bearer sk_live_globex_1"), "globex");
  assert.equal(await tenantOf(auth, "bearer sk_live_globex_1"), "globex");
  assert.equal(await tenantOf(auth, "BEARER  sk_live_globex_1 "), "globex");
  assert.equal(await tenantOf(auth, "Bearer aaa.bbb.ccc"), "odd");
  for (
    const h of [
      "Bearer sk_live_acme_",
      "Bearer sk_live_acme_10",
      "Bearer SK_LIVE_ACME_1",
      "Bearer acme",
      "Bearer ",
      "Bearer",
      "Bearer sk_live_acme_1 extra",
      "sk_live_acme_1",
      "Token sk_live_acme_1",
      "Digest username=acme",
      "Bearer aaa.bbb.ccd",
    ]
  ) {
    await expect401(auth, h, h);
  }
  await expect401(auth, null, "no header", "authentication required");
  await expect401(auth, "", "empty header", "authentication required");
  await expect401(auth, "Token x", "scheme", "unsupported Authorization");
  await expect401(auth, "Bearer nope", "wrong", "invalid credentials");
  await expect401(auth, `Bearer ${"x".repeat(20000)}`, "huge header");
});

Deno.test("authenticate: Basic tenant:token", async () => {
  const auth = await Authenticator.create(parseAuthConfig({
    tenants: {
      acme: { tokens: ["sk_live_acme_1"] },
      globex: { tokens: ["sk_live_globex_1", "with:colon"] },
    },
  }));
  const basic = (s: string) => `Basic ${b64(s)}`;
  assert.equal(await tenantOf(auth, basic("acme:sk_live_acme_1")), "acme");
  assert.equal(
    await tenantOf(auth, basic("globex:sk_live_globex_1")),
    "globex",
  );
  // Only the first colon separates (RFC 7617: user-ids have none).
  assert.equal(await tenantOf(auth, basic("globex:with:colon")), "globex");
  // Unpadded base64 is accepted too; scheme is case-insensitive.
  const unpadded = b64("acme:sk_live_acme_1").replace(/=+$/, "");
  assert.equal(await tenantOf(auth, `basic ${unpadded}`), "acme");

  const invalid: [string, string][] = [
    ["other tenant's token", basic("acme:sk_live_globex_1")],
    ["unknown tenant", basic("initech:sk_live_acme_1")],
    ["wrong token", basic("acme:sk_live_acme_2")],
    ["empty token", basic("acme:")],
    ["tenant case", basic("ACME:sk_live_acme_1")],
  ];
  for (const [what, h] of invalid) {
    await expect401(auth, h, what, "invalid credentials");
  }
  const malformed: [string, string][] = [
    ["missing colon", basic("acmesk_live_acme_1")],
    ["empty tenant", basic(":sk_live_acme_1")],
    ["garbage base64", "Basic !!!notbase64"],
    ["base64url alphabet", "Basic " + b64u("acme:sk_live_acme_1>>?")],
    ["bad padding", `Basic ${b64("acme:sk_live_acme_1")}=`],
    [
      "not UTF-8",
      `Basic ${Buffer.from([0x61, 0x3a, 0xff]).toString("base64")}`,
    ],
  ];
  for (const [what, h] of malformed) {
    await expect401(auth, h, what, "malformed Basic");
  }
  await expect401(auth, "Basic", "no credentials", "unsupported");
  // A static token on its own is not Basic credentials.
  await expect401(auth, "Basic sk_live_acme_1", "token as basic");
});

Deno.test("authenticate: HS256 JWTs", async (t) => {
  const config = parseAuthConfig(CONTRACT_EXAMPLE);
  const auth = await Authenticator.create(config);
  const bearer = (tok: string) => `Bearer ${tok}`;
  const good = jwt(HS256, { tenant: "acme", exp: NOW_S + 3600 });

  await t.step("valid tokens", async () => {
    assert.equal(await tenantOf(auth, bearer(good)), "acme");
    const cases: [string, unknown, unknown][] = [
      ["no typ", { alg: "HS256" }, { tenant: "globex" }],
      ["typ first", { typ: "JWT", alg: "HS256" }, { tenant: "globex" }],
      ["typ lower", { alg: "HS256", typ: "jwt" }, { tenant: "globex" }],
      ["no exp", HS256, { tenant: "globex", sub: "x" }],
      ["exp within leeway", HS256, { tenant: "globex", exp: NOW_S - 29 }],
      ["nbf past", HS256, { tenant: "globex", nbf: NOW_S - 10 }],
      ["nbf within leeway", HS256, { tenant: "globex", nbf: NOW_S + 30 }],
      ["fractional dates", HS256, {
        tenant: "globex",
        nbf: NOW_S - 0.5,
        exp: NOW_S + 0.5,
      }],
      ["unicode claims", HS256, { tenant: "globex", name: "Zoë 🙂" }],
    ];
    for (const [what, h, p] of cases) {
      assert.equal(await tenantOf(auth, bearer(jwt(h, p))), "globex", what);
    }
  });

  await t.step("refused tokens", async () => {
    const [h, p, s] = good.split(".");
    const flip = (seg: string, i: number) => {
      const c = seg[i] === "A" ? "B" : "A";
      return seg.slice(0, i) + c + seg.slice(i + 1);
    };
    const tamperedPayload = `${h}.${
      b64u(JSON.stringify({ tenant: "globex", exp: NOW_S + 3600 }))
    }.${s}`;
    // Same signature bytes (a lenient decoder agrees), non-canonical spelling.
    const URL_ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = URL_ALPHABET[URL_ALPHABET.indexOf(s.at(-1)!) ^ 1];
    const nonCanonical = `${h}.${p}.${s.slice(0, -1)}${last}`;
    assert.deepEqual(
      Buffer.from(nonCanonical.split(".")[2], "base64url"),
      Buffer.from(s, "base64url"),
    );
    const cases: [string, string, string?][] = [
      ["expired", jwt(HS256, { tenant: "acme", exp: NOW_S - 31 }), "expired"],
      [
        "expired at leeway edge",
        jwt(HS256, { tenant: "acme", exp: NOW_S - 30 }),
        "expired",
      ],
      [
        "nbf in future",
        jwt(HS256, { tenant: "acme", nbf: NOW_S + 31 }),
        "not yet valid",
      ],
      [
        "exp a string",
        jwt(HS256, { tenant: "acme", exp: String(NOW_S + 99) }),
        "claims",
      ],
      ["nbf null", jwt(HS256, { tenant: "acme", nbf: null }), "claims"],
      [
        "alg none",
        `${b64u('{"alg":"none"}')}.${b64u('{"tenant":"acme"}')}.`,
        "HS256",
      ],
      ["alg none signed", jwt({ alg: "none" }, { tenant: "acme" }), "HS256"],
      [
        "alg HS512",
        jwt({ alg: "HS512" }, { tenant: "acme" }, { hash: "sha512" }),
        "HS256",
      ],
      [
        "alg HS384",
        jwt({ alg: "HS384" }, { tenant: "acme" }, { hash: "sha384" }),
        "HS256",
      ],
      [
        "RS256 header, HS256 signature",
        jwt({ alg: "RS256" }, { tenant: "acme" }),
        "HS256",
      ],
      ["ES256 header", jwt({ alg: "ES256" }, { tenant: "acme" }), "HS256"],
      ["alg lowercase", jwt({ alg: "hs256" }, { tenant: "acme" }), "HS256"],
      ["alg missing", jwt({ typ: "JWT" }, { tenant: "acme" }), "HS256"],
      [
        "extra header kid",
        jwt({ alg: "HS256", kid: "k1" }, { tenant: "acme" }),
        "HS256",
      ],
      [
        "crit header",
        jwt({ alg: "HS256", crit: ["exp"] }, { tenant: "acme" }),
        "HS256",
      ],
      [
        "typ not JWT",
        jwt({ alg: "HS256", typ: "at+jwt" }, { tenant: "acme" }),
        "HS256",
      ],
      ["header array", jwt(["HS256"], { tenant: "acme" }), "malformed"],
      ["header not JSON", jwt("alg:HS256", { tenant: "acme" }), "malformed"],
      ["payload not JSON", jwt(HS256, "tenant=acme"), "malformed"],
      ["payload array", jwt(HS256, [{ tenant: "acme" }]), "malformed"],
      ["payload null", jwt(HS256, "null"), "malformed"],
      ["payload number", jwt(HS256, "42"), "malformed"],
      ["tampered payload", tamperedPayload, "invalid credentials"],
      ["tampered signature", `${h}.${p}.${flip(s, 5)}`, "invalid credentials"],
      ["signature with non-zero trailing bits", nonCanonical],
      [
        "signature truncated",
        `${h}.${p}.${s.slice(0, 20)}`,
        "invalid credentials",
      ],
      ["empty signature", `${h}.${p}.`, "invalid credentials"],
      [
        "wrong secret",
        jwt(HS256, { tenant: "acme" }, { secret: "change-me!" }),
        "invalid credentials",
      ],
      ["unknown tenant", jwt(HS256, { tenant: "initech" }), "not configured"],
      ["tenant not a string", jwt(HS256, { tenant: ["acme"] }), "claims"],
      ["tenant a number", jwt(HS256, { tenant: 1 }), "claims"],
      ["tenant missing", jwt(HS256, { sub: "acme" }), "claims"],
      ["four segments", `${good}.${s}`],
      ["two segments", `${h}.${p}`],
      ["padded segments", `${h}=.${p}.${s}`],
      ["standard alphabet", good.replace(/-/g, "+").replace(/_/g, "/") + "+/"],
      ["empty header segment", `.${p}.${s}`],
    ];
    for (const [what, token, msg] of cases) {
      await expect401(auth, bearer(token), what, msg);
    }
  });

  await t.step("every single-character mutation is refused", async () => {
    const alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
    const prng = new Prng(0x7a3);
    for (let i = 0; i < good.length; i++) {
      let c = prng.pick([...alphabet]);
      while (c === good[i]) c = prng.pick([...alphabet]);
      const mutated = good.slice(0, i) + c + good.slice(i + 1);
      await expect401(
        auth,
        bearer(mutated),
        `seed 0x7a3 position ${i} -> ${c}`,
      );
    }
  });

  await t.step("custom tenant claim, and no JWT without a secret", async () => {
    const custom = await Authenticator.create(parseAuthConfig({
      tenants: { acme: { tokens: [] } },
      jwt: { hs256Secret: "another secret", tenantClaim: "org" },
    }));
    const sign = (p: unknown) => jwt(HS256, p, { secret: "another secret" });
    assert.equal(await tenantOf(custom, bearer(sign({ org: "acme" }))), "acme");
    await expect401(
      custom,
      bearer(sign({ tenant: "acme" })),
      "claim",
      "claims",
    );
    const protoClaim = await Authenticator.create(parseAuthConfig({
      tenants: { acme: { tokens: [] } },
      jwt: { hs256Secret: "s", tenantClaim: "constructor" },
    }));
    // Inherited properties are not claims.
    await expect401(
      protoClaim,
      bearer(jwt(HS256, { sub: "x" }, { secret: "s" })),
      "inherited claim",
      "claims",
    );
    const staticOnly = await Authenticator.create(parseAuthConfig({
      tenants: { acme: { tokens: ["t"] } },
    }));
    await expect401(
      staticOnly,
      bearer(good),
      "no jwt config",
      "invalid credentials",
    );
  });

  await t.step("a JWT is not a Basic password", async () => {
    await expect401(
      auth,
      `Basic ${b64(`acme:${good}`)}`,
      "basic jwt",
      "invalid",
    );
  });
});

Deno.test("authenticate: seeded random headers only ever yield 401", async () => {
  const auth = await Authenticator.create(parseAuthConfig(CONTRACT_EXAMPLE));
  const seed = 0x5eed;
  const prng = new Prng(seed);
  const segment = () => {
    const bytes = new Uint8Array(prng.int(0, 60)).map(() => prng.int(0, 255));
    return Buffer.from(bytes).toString("base64url");
  };
  const generators: (() => string)[] = [
    // Arbitrary code units, including NUL, controls, surrogates.
    () =>
      String.fromCharCode(
        ...Array.from({ length: prng.int(0, 80) }, () => prng.int(0, 0xffff)),
      ),
    // Latin-1 bytes, as a header ByteString may carry.
    () =>
      String.fromCharCode(
        ...Array.from({ length: prng.int(0, 80) }, () => prng.int(0, 255)),
      ),
    () => `Bearer ${segment()}.${segment()}.${segment()}`,
    () =>
      `Bearer ${
        b64u(JSON.stringify({ alg: "HS256" }))
      }.${segment()}.${segment()}`,
    () =>
      `Bearer ${b64u(JSON.stringify({ alg: "HS256" }))}.${
        b64u(JSON.stringify({ tenant: "acme" }))
      }.${segment()}`,
    () => `Basic ${Buffer.from(segment(), "base64url").toString("base64")}`,
    () => `Basic ${b64(`acme:${segment()}`)}`,
    () =>
      `${prng.pick(["Bearer", "Basic", "bearer", "Negotiate"])} ${segment()}`,
  ];
  for (let i = 0; i < 3000; i++) {
    const header = prng.pick(generators)();
    await expect401(
      auth,
      header,
      `seed ${seed} case ${i}: ${JSON.stringify(header)}`,
    );
  }
});

Deno.test("a 401 renders as the Prometheus envelope with the challenge", async () => {
  const auth = await Authenticator.create(parseAuthConfig(CONTRACT_EXAMPLE));
  let err: unknown;
  try {
    await auth.authenticate("Bearer wrong", NOW_MS);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof HttpError);
  const res = promError(err);
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), WWW_AUTHENTICATE);
  assert.deepEqual(await res.json(), {
    status: "error",
    errorType: "unauthorized",
    error: "invalid credentials",
  });
});
