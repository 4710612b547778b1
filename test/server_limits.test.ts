// Per-tenant limits: defaults and overrides, and the token-bucket rate
// limiter under a fake clock, checked against a simple reference model
// (one request costs 60 s / N of refill time, capacity N).
import assert from "node:assert/strict";
import { parseAuthConfig } from "../src/server/auth/auth_file.ts";
import { HttpError } from "../src/server/http/errors.ts";
import {
  enforce,
  perMinuteFor,
  RateLimiter,
} from "../src/server/limits/rate_limiter.ts";
import type { LimitClass } from "../src/server/limits/rate_limiter.ts";
import {
  DEFAULT_LIMITS_WITH_AUTH,
  DEFAULT_LIMITS_WITHOUT_AUTH,
  limitsFor,
} from "../src/server/limits/tenant_limits.ts";
import { Prng } from "../src/util/prng.ts";

const MiB = 1 << 20;
const T0 = 1_700_000_000_000;

Deno.test("limitsFor: contract defaults and per-tenant overrides", () => {
  assert.deepEqual(limitsFor(null, "default"), {
    batchPerMinute: 0,
    batchMaxItems: 500,
    queryPerMinute: 0,
    writePerMinute: 0,
    maxBodyBytes: 32 * MiB,
    maxDecodedBytes: 256 * MiB,
    maxActiveSeries: 0,
  });
  const config = parseAuthConfig({
    tenants: {
      acme: { tokens: ["a"] },
      globex: { tokens: ["g"], limits: { queryPerMinute: 600 } },
      initech: {
        tokens: ["i"],
        limits: {
          batchPerMinute: 0,
          batchMaxItems: 50,
          writePerMinute: 1,
          maxBodyBytes: 1024,
          maxDecodedBytes: 4096,
          maxActiveSeries: 1000,
        },
      },
    },
  });
  const withAuth = {
    batchPerMinute: 10,
    batchMaxItems: 500,
    queryPerMinute: 60,
    writePerMinute: 6000,
    maxBodyBytes: 32 * MiB,
    maxDecodedBytes: 256 * MiB,
    maxActiveSeries: 0,
  };
  assert.deepEqual(limitsFor(config, "acme"), withAuth);
  assert.deepEqual(limitsFor(config, "globex"), {
    ...withAuth,
    queryPerMinute: 600,
  });
  assert.deepEqual(limitsFor(config, "initech"), {
    batchPerMinute: 0,
    batchMaxItems: 50,
    queryPerMinute: 60,
    writePerMinute: 1,
    maxBodyBytes: 1024,
    maxDecodedBytes: 4096,
    maxActiveSeries: 1000,
  });
  assert.deepEqual(limitsFor(config, "unlisted"), withAuth);
  // Fresh objects: a caller's mutation leaks nowhere.
  const l = limitsFor(config, "acme");
  l.queryPerMinute = 1;
  assert.equal(limitsFor(config, "acme").queryPerMinute, 60);
  assert.equal(DEFAULT_LIMITS_WITH_AUTH.queryPerMinute, 60);
  assert.ok(Object.isFrozen(DEFAULT_LIMITS_WITHOUT_AUTH));
  assert.equal(perMinuteFor(limitsFor(config, "globex"), "query"), 600);
  assert.equal(perMinuteFor(limitsFor(config, "initech"), "write"), 1);
  assert.equal(perMinuteFor(limitsFor(config, "acme"), "batch"), 10);
});

Deno.test("rate limiter: a burst of exactly N, then one per 60/N s", async (t) => {
  for (const n of [1, 6, 10, 60, 7, 6000]) {
    await t.step(`N=${n}`, () => {
      const rl = new RateLimiter();
      let passed = 0;
      for (let i = 0; i < n + 5; i++) {
        if (rl.take("acme", "query", n, T0).ok) passed++;
      }
      assert.equal(passed, n);
      // The next request passes exactly 60000/N ms later, not a ms sooner.
      const interval = 60_000 / n;
      const before = rl.take("acme", "query", n, T0 + Math.ceil(interval) - 1);
      if (Number.isInteger(interval)) assert.equal(before.ok, false);
      assert.equal(
        rl.take("acme", "query", n, T0 + Math.ceil(interval)).ok,
        true,
      );
      // A full minute of idleness refills exactly N again.
      const later = T0 + 10 * 60_000;
      let again = 0;
      for (let i = 0; i < n + 5; i++) {
        if (rl.take("acme", "query", n, later).ok) again++;
      }
      assert.equal(again, n);
    });
  }
});

Deno.test("rate limiter: steady arrivals get N per minute in the long run", () => {
  const rl = new RateLimiter();
  const n = 10;
  // One request every second for 10 minutes: 10 up front (the bucket),
  // then one per 6 s.
  let passed = 0;
  for (let s = 0; s < 600; s++) {
    if (rl.take("acme", "batch", n, T0 + s * 1000).ok) passed++;
  }
  // Refill over 599 s at 1 per 6 s = 99 more; plus the initial 10.
  assert.equal(passed, 10 + Math.floor(599 / 6));
});

Deno.test("rate limiter: Retry-After is the real wait, rounded up", () => {
  const cases: [number, number][] = [[10, 6], [60, 1], [1, 60], [7, 9], [
    6000,
    1,
  ], [2, 30]];
  for (const [n, expected] of cases) {
    const rl = new RateLimiter();
    for (let i = 0; i < n; i++) assert.ok(rl.take("t", "write", n, T0).ok);
    const r = rl.take("t", "write", n, T0);
    assert.ok(!r.ok);
    // 60/N s rounded up, at least 1.
    assert.equal(r.retryAfterSeconds, expected, `N=${n}`);
    // Waiting that long is enough; one second less is not (unless it was 1).
    assert.ok(rl.take("t", "write", n, T0 + r.retryAfterSeconds * 1000).ok);
  }
  // Part-way through the refill, the wait shrinks accordingly.
  const rl = new RateLimiter();
  for (let i = 0; i < 10; i++) rl.take("t", "batch", 10, T0);
  const a = rl.take("t", "batch", 10, T0 + 2500); // 3.5 s to go
  assert.deepEqual(a, { ok: false, retryAfterSeconds: 4 });
  const b = rl.take("t", "batch", 10, T0 + 5000); // 1 s to go
  assert.deepEqual(b, { ok: false, retryAfterSeconds: 1 });
  const c = rl.take("t", "batch", 10, T0 + 5999); // 1 ms to go
  assert.deepEqual(c, { ok: false, retryAfterSeconds: 1 });
  assert.deepEqual(rl.take("t", "batch", 10, T0 + 6000), { ok: true });
});

Deno.test("rate limiter: tenants and classes are isolated; 0 is unlimited", () => {
  const rl = new RateLimiter();
  for (let i = 0; i < 3; i++) assert.ok(rl.take("acme", "query", 3, T0).ok);
  assert.ok(!rl.take("acme", "query", 3, T0).ok);
  // Same tenant, other classes: untouched.
  assert.ok(rl.take("acme", "write", 3, T0).ok);
  assert.ok(rl.take("acme", "batch", 3, T0).ok);
  // Other tenant, same class: untouched.
  for (let i = 0; i < 3; i++) assert.ok(rl.take("globex", "query", 3, T0).ok);
  assert.ok(!rl.take("globex", "query", 3, T0).ok);
  // Names that could collide if keys were naively concatenated.
  const r2 = new RateLimiter();
  assert.ok(r2.take("a", "query", 1, T0).ok);
  assert.ok(r2.take("aquery", "batch", 1, T0).ok);
  assert.ok(r2.take("a.query", "batch", 1, T0).ok);
  // Unlimited: nothing refused, nothing stored.
  const r3 = new RateLimiter();
  for (let i = 0; i < 10_000; i++) {
    assert.ok(r3.take("acme", "query", 0, T0).ok);
  }
  assert.equal(r3.size, 0);
});

Deno.test("rate limiter: matches a reference model on seeded random traffic", () => {
  for (const seed of [1, 2, 3, 42, 0xdead]) {
    const prng = new Prng(seed);
    const rl = new RateLimiter(prng.int(1000, 120_000));
    const classes: LimitClass[] = ["batch", "query", "write"];
    const tenants = ["a", "b", "c"];
    const limits = new Map<string, number>();
    // Reference: remaining "request-ms" as the exact rational units/N.
    const model = new Map<string, { units: number; last: number }>();
    let now = T0;
    for (let i = 0; i < 4000; i++) {
      now += prng.pick([0, 0, 1, 10, 250, 1000, 6000, 30_000, 200_000]);
      const tenant = prng.pick(tenants);
      const cls = prng.pick(classes);
      const key = `${tenant}/${cls}`;
      if (!limits.has(key)) limits.set(key, prng.pick([1, 3, 10, 60, 600]));
      const n = limits.get(key)!;
      const m = model.get(key) ?? { units: n * 60_000, last: now };
      m.units = Math.min(n * 60_000, m.units + (now - m.last) * n);
      m.last = now;
      let expected: { ok: true } | { ok: false; retryAfterSeconds: number };
      if (m.units >= 60_000) {
        m.units -= 60_000;
        expected = { ok: true };
      } else {
        const waitMs = (60_000 - m.units) / n;
        expected = {
          ok: false,
          retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
        };
      }
      model.set(key, m);
      assert.deepEqual(
        rl.take(tenant, cls, n, now),
        expected,
        `seed ${seed} step ${i} ${key}`,
      );
    }
  }
});

Deno.test("rate limiter: memory stays bounded as tenants come and go", () => {
  const rl = new RateLimiter(60_000);
  let now = T0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 200; i++) {
      rl.take(`tenant-${round}-${i}`, "query", 60, now);
    }
    // After a minute idle, every bucket has refilled and can be dropped.
    now += 61_000;
  }
  rl.take("probe", "query", 60, now);
  assert.ok(rl.size <= 201, `size ${rl.size}`);
  // A busy bucket survives the sweep with its state.
  const busy = new RateLimiter(1000);
  for (let i = 0; i < 5; i++) busy.take("hot", "write", 5, T0);
  busy.take("other", "write", 5, T0 + 2000); // triggers a sweep
  assert.ok(!busy.take("hot", "write", 5, T0 + 2000).ok);
});

Deno.test("rate limiter: a clock stepping back refills nothing", () => {
  const rl = new RateLimiter();
  for (let i = 0; i < 2; i++) assert.ok(rl.take("t", "query", 2, T0).ok);
  assert.ok(!rl.take("t", "query", 2, T0 - 3_600_000).ok);
  assert.ok(!rl.take("t", "query", 2, T0 + 29_999).ok);
  assert.ok(rl.take("t", "query", 2, T0 + 30_000).ok);
});

Deno.test("enforce: 429 with Retry-After in the route's code", () => {
  const rl = new RateLimiter();
  enforce(rl, "acme", "batch", 1, T0);
  for (const code of ["too_many_requests", "rate_limited"] as const) {
    assert.throws(
      () => enforce(rl, "acme", "batch", 1, T0 + 500, code),
      (e: unknown) => {
        assert.ok(e instanceof HttpError);
        assert.equal(e.status, 429);
        assert.equal(e.code, code);
        assert.deepEqual(e.headers, { "Retry-After": "60" });
        assert.match(e.message, /1 batch requests per minute/);
        return true;
      },
    );
  }
  enforce(rl, "acme", "batch", 0, T0); // unlimited never throws
  enforce(rl, "acme", "batch", 1, T0 + 60_000);
});
