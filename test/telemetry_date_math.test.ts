// Date math and steps for the telemetry API, against a fixed clock; every
// expectation is written out by hand (ISO strings), not computed by the code under test.
import assert from "node:assert/strict";
import { DateMathError, resolveTime } from "../src/telemetry/date_math.ts";
import { parseStep, StepError } from "../src/telemetry/step.ts";

// Thursday 29 February 2024 (a leap day), 13:45:30.123 UTC.
const NOW = Date.parse("2024-02-29T13:45:30.123Z");
const iso = (s: string) => Date.parse(s);

Deno.test("date math: relative, rounding, chaining, calendar units", async (t) => {
  const cases: [string, number, number?][] = [
    ["now", NOW],
    ["now-1h", iso("2024-02-29T12:45:30.123Z")],
    ["now+30m", iso("2024-02-29T14:15:30.123Z")],
    ["-1d", iso("2024-02-28T13:45:30.123Z")],
    ["+2s", iso("2024-02-29T13:45:32.123Z")],
    ["now/s", iso("2024-02-29T13:45:30Z")],
    ["now/m", iso("2024-02-29T13:45:00Z")],
    ["now/h", iso("2024-02-29T13:00:00Z")],
    ["now/d", iso("2024-02-29T00:00:00Z")],
    ["now-7d/d", iso("2024-02-22T00:00:00Z")],
    ["now-1d-2h/h", iso("2024-02-28T11:00:00Z")],
    ["now/d+1d", iso("2024-03-01T00:00:00Z")],
    ["-1d/d-1h", iso("2024-02-27T23:00:00Z")],
    ["now/w", iso("2024-02-26T00:00:00Z")], // Monday of the ISO week
    ["now-1w/w", iso("2024-02-19T00:00:00Z")],
    ["now/M", iso("2024-02-01T00:00:00Z")],
    ["now/y", iso("2024-01-01T00:00:00Z")],
    ["now-1M", iso("2024-01-29T13:45:30.123Z")],
    ["now+1M", iso("2024-03-29T13:45:30.123Z")],
    ["now-13M", iso("2023-01-29T13:45:30.123Z")],
    ["now+1y", iso("2025-02-28T13:45:30.123Z")], // no 29 Feb 2025: clamped
    ["now-4y", iso("2020-02-29T13:45:30.123Z")],
    ["now-2000y", iso("0024-02-29T13:45:30.123Z")], // not 1924: no two-digit-year quirk
    ["now-1M/M", iso("2024-01-01T00:00:00Z")],
    ["now+10M/y", iso("2024-01-01T00:00:00Z")],
    ["now+11M/y", iso("2025-01-01T00:00:00Z")],
    // other clocks
    ["now+1M", iso("2024-02-29T08:00:00Z"), iso("2024-01-31T08:00:00Z")],
    ["now+1M+1M", iso("2024-03-29T08:00:00Z"), iso("2024-01-31T08:00:00Z")],
    ["now+2M", iso("2024-03-31T08:00:00Z"), iso("2024-01-31T08:00:00Z")],
    ["now-1M", iso("2023-11-30T08:00:00Z"), iso("2023-12-31T08:00:00Z")],
    ["now/w", iso("2024-02-26T00:00:00Z"), iso("2024-03-03T10:00:00Z")], // Sunday
    ["now/w", iso("2024-03-04T00:00:00Z"), iso("2024-03-04T00:00:00Z")], // Monday 00:00
    ["now/w", iso("1969-12-29T00:00:00Z"), iso("1970-01-01T05:00:00Z")], // before the epoch's Thursday
    ["now/d", iso("1969-07-20T00:00:00Z"), iso("1969-07-20T20:17:40Z")], // negative ms floor
    ["now-1h/h", iso("2024-12-31T23:00:00Z"), iso("2025-01-01T00:30:00Z")],
  ];
  for (const [text, want, clock] of cases) {
    await t.step(`${text} @ ${new Date(clock ?? NOW).toISOString()}`, () => {
      const r = resolveTime(text, clock ?? NOW);
      assert.equal(
        new Date(r.ms).toISOString(),
        new Date(want).toISOString(),
      );
      assert.equal(r.epoch, false);
    });
  }
});

Deno.test("date math: epoch milliseconds as numbers and digit strings", () => {
  assert.deepEqual(resolveTime(1700000000000, NOW), {
    ms: 1700000000000,
    epoch: true,
  });
  assert.deepEqual(resolveTime("1700000000000", NOW), {
    ms: 1700000000000,
    epoch: true,
  });
  assert.deepEqual(resolveTime(0, NOW), { ms: 0, epoch: true });
  assert.deepEqual(resolveTime("0", NOW), { ms: 0, epoch: true });
  assert.deepEqual(resolveTime(-5, NOW), { ms: -5, epoch: true });
});

Deno.test("date math: unparsable input is refused", async (t) => {
  const bad: (string | number)[] = [
    "",
    "now-1",
    "now-1x",
    "now-1.5h",
    "now - 1h",
    " now",
    "now/",
    "now//d",
    "nowx",
    "yesterday",
    "2024-01-01",
    "1.5",
    "1e12",
    "now-1Y",
    "now-1D",
    "now+1ms",
    "d",
    "-",
    "now+300000y",
    "now+999999999999999999d",
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 60,
    9e15,
  ];
  for (const input of bad) {
    await t.step(JSON.stringify(String(input)), () => {
      assert.throws(() => resolveTime(input, NOW), DateMathError);
    });
  }
});

Deno.test("step: durations and milliseconds", async (t) => {
  const cases: [string | number, number][] = [
    ["1h", 3_600_000],
    ["15m", 900_000],
    ["1d", 86_400_000],
    ["1w", 604_800_000],
    ["30s", 30_000],
    ["250ms", 250],
    ["1h30m", 5_400_000],
    ["1d12h", 129_600_000],
    [3_600_000, 3_600_000],
    ["60000", 60_000],
    [1, 1],
  ];
  for (const [input, want] of cases) {
    await t.step(String(input), () => assert.equal(parseStep(input), want));
  }
  for (
    const input of [
      "0",
      0,
      -1,
      "-1h",
      "0h",
      "1M",
      "1y",
      "1.5h",
      1.5,
      "",
      "h",
      "1 h",
      2 ** 60,
      "1H",
    ]
  ) {
    await t.step(`refuses ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseStep(input), StepError);
    });
  }
});
