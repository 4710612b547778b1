import assert from "node:assert/strict";
import {
  ExpositionError,
  type MetricFamily,
  parseExposition,
  parseExpositionText,
} from "../src/ingest/exposition.ts";
import {
  formatGoFloat,
  parseGoFloat,
  parseGoInt64,
} from "../src/ingest/go_float.ts";
import { Prng } from "../src/util/prng.ts";

Deno.test("go floats: ParseFloat syntax", async (t) => {
  const good: [string, number][] = [
    ["1", 1],
    ["+1", 1],
    ["-1.5", -1.5],
    ["1.", 1],
    [".5", 0.5],
    ["1e3", 1000],
    ["1E-3", 0.001],
    ["1.458255915e9", 1458255915],
    ["007", 7],
    ["1e-400", 0], // underflow is not an error in Go
    ["Inf", Infinity],
    ["+Inf", Infinity],
    ["-Inf", -Infinity],
    ["inf", Infinity],
    ["-infinity", -Infinity],
    ["INFINITY", Infinity],
  ];
  for (const [s, v] of good) {
    await t.step(`accepts ${s}`, () => assert.equal(parseGoFloat(s), v));
  }
  for (const s of ["NaN", "nan", "NAN"]) {
    assert.ok(Number.isNaN(parseGoFloat(s)), s);
  }
  const bad = [
    "",
    ".",
    "1e",
    "1e+",
    "e1",
    "1_000",
    "0x10",
    "0x1p3",
    "+nan",
    "-NaN",
    "infin",
    "1e400",
    "-1e400",
    " 1",
    "1 ",
    "1,5",
    "\u0661",
    "1\r",
  ];
  for (const s of bad) {
    await t.step(
      `rejects ${JSON.stringify(s)}`,
      () => assert.equal(parseGoFloat(s), null),
    );
  }
});

Deno.test("go floats: ParseInt(s, 10, 64)", () => {
  assert.equal(parseGoInt64("1395066363000"), 1395066363000);
  assert.equal(parseGoInt64("-3982045"), -3982045);
  assert.equal(parseGoInt64("+5"), 5);
  assert.equal(parseGoInt64("9223372036854775807"), 9223372036854775807);
  assert.equal(parseGoInt64("-9223372036854775808"), -9223372036854775808);
  for (const s of ["", "9223372036854775808", "1.0", "1e3", "0x10", "1_0"]) {
    assert.equal(parseGoInt64(s), null, s);
  }
});

Deno.test("go floats: the text writer's formatting", () => {
  // Expected strings are Go's strconv.FormatFloat(f, 'g', -1, 64) outputs.
  const cases: [number, string][] = [
    [1, "1"],
    [0, "0"],
    [-0, "0"],
    [-1, "-1"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [0.05, "0.05"],
    [2.5, "2.5"],
    [100000, "100000"],
    [123456, "123456"],
    [1e6, "1e+06"],
    [1234567, "1.234567e+06"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [2.5e-7, "2.5e-07"],
    [1e21, "1e+21"],
    [1e100, "1e+100"],
    [0.1 + 0.2, "0.30000000000000004"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [-0.25, "-0.25"],
    [-1234567.5, "-1.2345675e+06"],
  ];
  for (const [f, s] of cases) assert.equal(formatGoFloat(f), s, String(f));
});

/** Parses and returns a plain object for deep comparison. */
function parsed(text: string): unknown {
  return JSON.parse(JSON.stringify(
    [...parseExpositionText(text).values()],
    (_k, v) => typeof v === "number" && !Number.isFinite(v) ? `num:${v}` : v,
  ));
}

Deno.test("exposition: valid bodies", async (t) => {
  const cases: { name: string; text: string; want: unknown }[] = [
    { name: "empty body", text: "", want: [] },
    { name: "only blank lines", text: "\n  \n\t\n", want: [] },
    {
      name: "final blank line without newline",
      text: "a 1\n  ",
      want: [{
        name: "a",
        type: "untyped",
        metrics: [{ labels: [], value: 1 }],
      }],
    },
    {
      name: "HELP and TYPE",
      text: '# HELP c_total Count of\\n things \\\\ \\"x\\".\n' +
        '# TYPE c_total counter\nc_total{a="1"} 3\nc_total{a="2"} 4.5\n',
      want: [{
        name: "c_total",
        type: "counter",
        help: 'Count of\n things \\ "x".',
        metrics: [
          { labels: [["a", "1"]], value: 3 },
          { labels: [["a", "2"]], value: 4.5 },
        ],
      }],
    },
    {
      name: "escapes in label values, spaces around tokens, trailing comma",
      text: 'm { a = "x\\\\y" , b="q\\"\\n" , } -2e-3\n',
      want: [{
        name: "m",
        type: "untyped",
        metrics: [{ labels: [["a", "x\\y"], ["b", 'q"\n']], value: -0.002 }],
      }],
    },
    {
      name: "special values and timestamps",
      text: "a NaN\nb +Inf 1395066363000\nc -Inf -1\nd{} 1\n",
      want: [
        {
          name: "a",
          type: "untyped",
          metrics: [{ labels: [], value: "num:NaN" }],
        },
        {
          name: "b",
          type: "untyped",
          metrics: [{
            labels: [],
            value: "num:Infinity",
            timestampMs: 1395066363000,
          }],
        },
        {
          name: "c",
          type: "untyped",
          metrics: [{ labels: [], value: "num:-Infinity", timestampMs: -1 }],
        },
        { name: "d", type: "untyped", metrics: [{ labels: [], value: 1 }] },
      ],
    },
    {
      name: "comments ignored, TYPE case-insensitive, empty family dropped",
      text: "# just a comment\n#\n# TYPE g GAUGE\n# TYPE unused counter\n" +
        "# HELP\n# HELP onlyname\ng 7\n",
      want: [{ name: "g", type: "gauge", metrics: [{ labels: [], value: 7 }] }],
    },
    {
      name: "histogram lines grouped by label set",
      text: "# TYPE h histogram\n" +
        'h_bucket{x="1",le="0.5"} 1\nh_bucket{le="+Inf",x="1"} 2\n' +
        'h_sum{x="1"} 3.5\nh_count{x="1"} 2\nh_bucket{x="2",le="1"} 0\n' +
        'h_count{x="2"} 0\n',
      want: [{
        name: "h",
        type: "histogram",
        metrics: [
          {
            labels: [["x", "1"]],
            buckets: [{ le: 0.5, count: 1 }, { le: "num:Infinity", count: 2 }],
            sum: 3.5,
            count: 2,
          },
          { labels: [["x", "2"]], buckets: [{ le: 1, count: 0 }], count: 0 },
        ],
      }],
    },
    {
      name:
        "summary with quantiles, _sum and _count; count truncated as Go's uint64",
      text: "# TYPE s summary\n" +
        's{quantile="0.5"} 4773\ns{quantile="0.99"} 76656\n' +
        "s_sum 1.7560473e+07\ns_count 2693.9\n",
      want: [{
        name: "s",
        type: "summary",
        metrics: [{
          labels: [],
          quantiles: [{ quantile: 0.5, value: 4773 }, {
            quantile: 0.99,
            value: 76656,
          }],
          sum: 17560473,
          count: 2693,
        }],
      }],
    },
    {
      name: "_count of an untyped family is its own family",
      text: "x 1\nx_count 2\n",
      want: [
        { name: "x", type: "untyped", metrics: [{ labels: [], value: 1 }] },
        {
          name: "x_count",
          type: "untyped",
          metrics: [{ labels: [], value: 2 }],
        },
      ],
    },
    {
      name: "HELP after samples is allowed",
      text: "a 1\n# HELP a late\n",
      want: [{
        name: "a",
        type: "untyped",
        help: "late",
        metrics: [{ labels: [], value: 1 }],
      }],
    },
    {
      name: "UTF-8 label values and colons in metric names",
      text: 'ns:m{v="ΩΣ\u{1F600}"} 1\n',
      want: [{
        name: "ns:m",
        type: "untyped",
        metrics: [{ labels: [["v", "ΩΣ\u{1F600}"]], value: 1 }],
      }],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => assert.deepEqual(parsed(c.text), c.want));
  }
});

Deno.test("exposition: invalid bodies name the line", async (t) => {
  const cases: [string, string, number, RegExp][] = [
    ["no final newline", "a 1\nb 2", 2, /unexpected end of input stream/],
    ["comment without final newline", "# x", 1, /unexpected end/],
    ["CRLF", "a 1\r\n", 1, /carriage return/],
    ["CRLF blank line", "a 1\n\r\n", 2, /carriage return/],
    ["CRLF after TYPE", "# TYPE a gauge\r\n", 1, /carriage return/],
    ["bad metric name", "1a 1\n", 1, /invalid metric name/],
    ["quoted metric name", '{"a"} 1\n', 1, /quoted names are not supported/],
    ["bad label name", 'a{1x="y"} 1\n', 1, /invalid label name/],
    ["quoted label name", 'a{"x"="y"} 1\n', 1, /quoted names/],
    ["missing =", 'a{x "y"} 1\n', 1, /expected '='/],
    ["unquoted value", "a{x=y} 1\n", 1, /expected '"'/],
    ["unterminated value", 'a{x="y} 1\n', 1, /unescaped new-line/],
    ["bad escape", 'a{x="\\t"} 1\n', 1, /invalid escape sequence/],
    ["bad HELP escape", "# HELP a x\\t\n", 1, /invalid escape sequence/],
    ["HELP ends in backslash", "# HELP a x\\\n", 1, /invalid escape/],
    ["duplicate label", 'a{x="1",x="2"} 1\n', 1, /duplicate label names/],
    [
      "duplicate le",
      '# TYPE h histogram\nh_bucket{le="1",le="2"} 1\n',
      2,
      /duplicate/,
    ],
    ["reserved __name__", 'a{__name__="b"} 1\n', 1, /reserved/],
    ["missing value", "a\n", 1, /expected float as value, got ""/],
    ["bad value", "a x\n", 1, /expected float as value, got "x"/],
    ["hex value", "a 0x1p3\n", 1, /expected float/],
    ["out-of-range value", "a 1e999\n", 1, /expected float/],
    [
      "trailing blank after value",
      "a 1 \n",
      1,
      /expected integer as timestamp/,
    ],
    ["float timestamp", "a 1 1.5\n", 1, /expected integer as timestamp/],
    ["int64 overflow", "a 1 9223372036854775808\n", 1, /expected integer/],
    ["junk after timestamp", "a 1 2 3\n", 1, /spurious string after timestamp/],
    ["second HELP", "# HELP a x\n# HELP a y\n", 2, /second HELP/],
    ["second TYPE", "# TYPE a gauge\n# TYPE a gauge\n", 2, /second TYPE/],
    [
      "TYPE after samples",
      "a 1\n# TYPE a gauge\n",
      2,
      /TYPE reported after samples/,
    ],
    ["unknown type", "# TYPE a meter\n", 1, /unknown metric type/],
    ["gauge histogram", "# TYPE a gaugehistogram\n", 1, /gauge histograms/],
    [
      "bad name in comment",
      "# TYPE a-b gauge\n",
      1,
      /invalid metric name in comment/,
    ],
    ["bad le", '# TYPE h histogram\nh_bucket{le="x"} 1\n', 2, /'le' label/],
    [
      "bucket without le",
      "# TYPE h histogram\nh_bucket 1\n",
      2,
      /without an 'le'/,
    ],
    [
      "negative bucket",
      '# TYPE h histogram\nh_bucket{le="1"} -1\n',
      2,
      /negative bucket/,
    ],
    ["negative count", "# TYPE h histogram\nh_count -2\n", 2, /negative count/],
    ["quantile missing", "# TYPE s summary\ns 1\n", 2, /without a 'quantile'/],
    [
      "bad quantile",
      '# TYPE s summary\ns{quantile="q"} 1\n',
      2,
      /'quantile' label/,
    ],
    ["unclosed label set", 'a{x="1"\n', 1, /unexpected end of label set/],
    [
      "junk after label value",
      'a{x="1"y} 1\n',
      1,
      /unexpected end of label value/,
    ],
    ["invalid UTF-8 value", 'a{x="\xff"} 1\n', 1, /UTF-8/],
  ];
  for (const [name, text, line, re] of cases) {
    await t.step(name, () => {
      const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
      // UTF-8 encode except for the deliberate invalid byte case.
      const body = name.includes("invalid UTF-8")
        ? bytes
        : new TextEncoder().encode(text);
      assert.throws(() => parseExposition(body), (e: unknown) => {
        assert.ok(e instanceof ExpositionError, String(e));
        assert.equal(e.line, line, e.message);
        assert.match(e.message, re);
        assert.match(e.message, new RegExp(`in line ${line}:`));
        return true;
      });
    });
  }
});

/** A random valid family set and its text, built independently of the parser. */
function randomBody(rng: Prng): { text: string; families: MetricFamily[] } {
  const families: MetricFamily[] = [];
  let text = "";
  const nFam = rng.int(1, 5);
  const valueText = (v: number) =>
    Number.isNaN(v)
      ? "NaN"
      : v === Infinity
      ? "+Inf"
      : v === -Infinity
      ? "-Inf"
      : rng.u32() % 2
      ? String(v)
      : v.toExponential();
  const esc = (s: string) =>
    s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  const randValue = () => {
    const k = rng.u32() % 10;
    if (k === 0) return NaN;
    if (k === 1) return Infinity;
    if (k === 2) return -Infinity;
    return k < 6 ? rng.int(-1000, 1000) : rng.normal() * 10 ** rng.int(-20, 20);
  };
  const labelValue = () =>
    rng.pick(["", "a", 'q"uote', "back\\slash", "new\nline", "ünï", "x y"]);
  for (let f = 0; f < nFam; f++) {
    const name = `fam_${f}_${rng.pick(["a", "b:c", "_d"])}`;
    const type = rng.pick(["counter", "gauge", "untyped"] as const);
    const help = rng.u32() % 2 ? `help ${f} \\ "x"\nnext` : undefined;
    if (help !== undefined) {
      text += `# HELP ${name} ${
        help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
      }\n`;
    }
    text += `# TYPE ${name} ${type}\n`;
    const metrics = [];
    for (let m = 0; m < rng.int(1, 4); m++) {
      const labels: [string, string][] = [["idx", String(m)]];
      if (rng.u32() % 2) labels.push(["lv", labelValue()]);
      const value = randValue();
      const body = labels.map(([n, v]) => `${n}="${esc(v)}"`).join(",");
      text += `${name}{${body}} ${valueText(value)}\n`;
      metrics.push({ labels, value });
    }
    const fam: MetricFamily = { name, type, metrics };
    if (help !== undefined) fam.help = help;
    families.push(fam);
  }
  return { text, families };
}

Deno.test("exposition: random valid bodies parse to what was written", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rng = new Prng(seed);
    const { text, families } = randomBody(rng);
    const got = [...parseExpositionText(text).values()];
    assert.deepEqual(got, families, `seed ${seed}\n${text}`);
  }
});

Deno.test("exposition: seeded fuzz never throws anything but ExpositionError", () => {
  const alphabet = new TextEncoder().encode(
    'abc_:{}="\\, \t\n#HELPTYPE0123456789.e+-InfNa\r\xff',
  );
  let accepted = 0;
  for (let seed = 1; seed <= 4000; seed++) {
    const rng = new Prng(seed);
    let body: Uint8Array;
    if (seed % 2) {
      // Mutations of a valid body.
      body = new TextEncoder().encode(randomBody(rng).text);
      for (let k = rng.int(1, 6); k > 0; k--) {
        const at = rng.int(0, Math.max(0, body.length - 1));
        const op = rng.u32() % 3;
        if (op === 0) body[at] = rng.pick([...alphabet]);
        else if (op === 1) body = body.subarray(0, at);
        else body[at] = rng.u32() & 0xff;
      }
    } else {
      body = new Uint8Array(rng.int(0, 200));
      for (let i = 0; i < body.length; i++) {
        body[i] = rng.u32() % 4 ? rng.pick([...alphabet]) : rng.u32() & 0xff;
      }
    }
    try {
      parseExposition(body);
      accepted++;
    } catch (e) {
      if (!(e instanceof ExpositionError)) {
        throw new Error(`seed ${seed}: ${e}`);
      }
      assert.ok(e.line >= 1, `seed ${seed}`);
    }
  }
  assert.ok(accepted > 0);
});

Deno.test("exposition: long names and values do not overflow the stack", () => {
  const name = "m".repeat(300_000);
  const value = "v".repeat(300_000);
  const fams = parseExpositionText(`${name}{l="${value}"} 1\n`);
  assert.equal(fams.get(name)?.metrics[0].labels[0][1].length, 300_000);
});
