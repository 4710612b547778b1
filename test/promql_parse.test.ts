/**
 * Table tests of the PromQL parser: accepted expressions with their tree
 * shape (rendered by an independent helper) and canonical printing,
 * precedence and associativity, and rejected expressions with Prometheus'
 * message and column. Expected values are worked out by hand from the
 * Prometheus docs and grammar.
 */
import assert from "node:assert/strict";
import { format, parse, ParseError, pretty } from "../src/promql/mod.ts";
import { shape, strip } from "./_promql_shape.ts";

/** [input, expected shape, expected format() output (defaults to input)] */
type Accept = [string, string, string?];

const ACCEPTED: Accept[] = [
  // Literals.
  ["1", "1"],
  ["1.5", "1.5"],
  [".5", "0.5", "0.5"],
  ["5.", "5", "5"],
  ["1e3", "1000", "1000"],
  ["1E-2", "0.01", "0.01"],
  ["0x1F", "31", "31"],
  ["0X_ff", "255", "255"],
  ["010", "8", "8"], // Go's base-0 ParseInt: a leading 0 is octal
  ["09", "9", "9"], // ...unless it is not valid octal, then it is a float
  ["1_000_000", "1000000", "1000000"],
  ["1_000.5_5", "1000.55", "1000.55"],
  ["Inf", "Infinity", "+Inf"],
  ["-inf", "-Infinity", "-Inf"],
  ["NaN", "NaN"],
  ["nAn", "NaN", "NaN"],
  ["1e300", "1e+300", "1" + "0".repeat(300)],
  ["5m", "300", "5m"],
  ["1h30m", "5400", "1h30m"],
  ["1y", "31536000", "1y"],
  ["2w", "1209600", "2w"],
  ["100ms", "0.1", "100ms"],
  ["90d", "7776000", "90d"], // weeks only when exact
  ["14d", "1209600", "2w"],
  ['"a\\nb"', '"a\\nb"'],
  ["'single \\' quote'", `"single ' quote"`, `"single ' quote"`],
  ["`raw \\n`", '"raw \\\\n"', '"raw \\\\n"'],
  ['"\\u00e9\\x41\\101\\U0001F600"', '"éAA😀"', '"éAA😀"'],
  ['"\\xc3\\xa9"', '"é"', '"é"'], // \x escapes are bytes of UTF-8
  ['"tab\\there"', '"tab\\there"'],
  ['"\\a\\b\\f\\v\\r"', '"\\u0007\\b\\f\\u000b\\r"', '"\\a\\b\\f\\v\\r"'],
  // Selectors.
  ["foo", "foo"],
  ["foo:bar_total", "foo:bar_total"],
  ['foo{a="b"}', 'foo{a="b"}'],
  [
    'foo{a="b",c!~"d",e=~"f.*",g!="h",}',
    'foo{a="b",c!~"d",e=~"f.*",g!="h"}',
    'foo{a="b",c!~"d",e=~"f.*",g!="h"}',
  ],
  ['{__name__="x"}', '{__name__="x"}'],
  ['{__name__=~"x|y"}', '{__name__=~"x|y"}'],
  ['{"my.metric"}', '{__name__="my.metric"}', '{__name__="my.metric"}'],
  [
    '{"my.metric", "a.b"="x"}',
    '{__name__="my.metric",a.b="x"}',
    '{"a.b"="x",__name__="my.metric"}',
  ],
  ["foo{`a`='b'}", 'foo{a="b"}', 'foo{a="b"}'],
  [
    'foo{on="x", by="y", sum="z"}',
    'foo{on="x",by="y",sum="z"}',
    'foo{by="y",on="x",sum="z"}',
  ],
  ["sum", "sum"], // aggregators and keywords double as metric names
  ["by", "by"],
  ["offset", "offset"],
  ["fill + 1", "(+ fill 1)"], // fill is a keyword only before "("
  ["foo offset 5m", "foo offset:300"],
  ["foo offset -5m", "foo offset:-300"],
  ["foo offset 300", "foo offset:300", "foo offset 5m"],
  ["foo offset 0", "foo", "foo"],
  ["foo @ 1609746000", "foo @1609746000000", "foo @ 1609746000.000"],
  ["foo @ -10.5", "foo @-10500", "foo @ -10.500"],
  ["foo @ start()", "foo @start"],
  ["foo @ end()", "foo @end"],
  ["foo offset 1m @ 100", "foo @100000 offset:60", "foo @ 100.000 offset 1m"],
  ["foo @ 100 offset 1m", "foo @100000 offset:60", "foo @ 100.000 offset 1m"],
  ["foo[5m]", "(range foo 300)"],
  ["foo[300]", "(range foo 300)", "foo[5m]"],
  ["foo[1.5]", "(range foo 1.5)", "foo[1s500ms]"],
  ["foo[5m] offset 1h", "(range foo offset:3600 300)"],
  ["foo[5m] @ end() offset -1m", "(range foo @end offset:-60 300)"],
  ["foo[1h:5m]", "(subquery foo 3600 300)"],
  ["foo[1h:]", "(subquery foo 3600 default)"],
  [
    "foo[1h:] offset 5m @ 1",
    "(subquery foo 3600 default @1000 offset:300)",
    "foo[1h:] @ 1.000 offset 5m",
  ],
  ["rate(foo[5m])[30m:1m]", "(subquery (rate (range foo 300)) 1800 60)"],
  ["foo offset 5m[1h:1m]", "(subquery foo offset:300 3600 60)"],
  ["foo[5m] anchored", "(range foo anchored 300)"],
  ["foo[5m] smoothed offset 1m", "(range foo smoothed offset:60 300)"],
  // Duration arithmetic (Prometheus 3 experimental duration expressions).
  ["foo[5m * 2]", "(range foo (* 300 2))"],
  ["foo[26m+4m]", "(range foo (+ 1560 240))", "foo[26m + 4m]"],
  ["foo[60*30]", "(range foo (* 60 30))", "foo[60 * 30]"],
  [
    "foo[2m*(10+5)]",
    "(range foo (* 120 (paren (+ 10 5))))",
    "foo[2m * (10 + 5)]",
  ],
  ["foo[-5m+35m]", "(range foo (+ -300 2100))", "foo[-5m + 35m]"],
  [
    "foo[30m1s-30m1s % 1m]",
    "(range foo (- 1801 (% 1801 60)))",
    "foo[30m1s - 30m1s % 1m]",
  ],
  ["foo[2^3^2]", "(range foo (^ 2 (^ 3 2)))", "foo[2 ^ 3 ^ 2]"],
  ["foo[-2^2+10]", "(range foo (+ (neg (^ 2 2)) 10))", "foo[-2 ^ 2 + 10]"],
  ["foo[step()]", "(range foo (step))"],
  ["foo[STEP() + 1]", "(range foo (+ (step) 1))", "foo[step() + 1]"],
  [
    "foo[max_of(min_of(step()+1,1h),1ms)]",
    "(range foo (max_of (min_of (+ (step) 1) 3600) 0.001))",
    "foo[max_of(min_of(step() + 1, 1h), 1ms)]",
  ],
  ["foo[range()]", "(range foo (range))"],
  [
    "foo[29s+1s:5s+5s]",
    "(subquery foo (+ 29 1) (+ 5 5))",
    "foo[29s + 1s:5s + 5s]",
  ],
  ["foo[(5s)]", "(range foo (paren 5))"],
  ["foo offset (1h + 30m)", "foo offset:(paren (+ 3600 1800))"],
  ["foo offset (5)", "foo offset:(paren 5)"],
  ["foo offset +(5)", "foo offset:(paren 5)", "foo offset (5)"],
  ["foo offset -(5)", "foo offset:(neg (paren 5))"],
  ["foo offset step()", "foo offset:(step)"],
  ["foo offset -step()", "foo offset:(neg (step))"],
  [
    "foo offset (-1^2)",
    "foo offset:(paren (neg (^ 1 2)))",
    "foo offset (-1 ^ 2)",
  ],
  // An offset without parentheses takes one literal or call; the operator
  // after it applies to the selector.
  ["foo offset 100 + 2", "(+ foo offset:100 2)", "foo offset 1m40s + 2"],
  ["foo offset -2 ^ 2", "(^ foo offset:-2 2)", "foo offset -2s ^ 2"],
  ["foo offset step()*0", "(* foo offset:(step) 0)", "foo offset step() * 0"],
  [
    "foo offset -min_of(step(), 1s)+8000",
    "(+ foo offset:(neg (min_of (step) 1)) 8000)",
    "foo offset -min_of(step(), 1s) + 8000",
  ],
  [
    "foo offset -(min_of(step(), 2s)-5)+8000",
    "(+ foo offset:(neg (paren (- (min_of (step) 2) 5))) 8000)",
    "foo offset -(min_of(step(), 2s) - 5) + 8000",
  ],
  // Operators.
  ["a + b", "(+ a b)"],
  ["a atan2 b", "(atan2 a b)"],
  ["a > bool b", "(> bool a b)"],
  ["1 == bool 2", "(== bool 1 2)"],
  ["a and b", "(and a b)"],
  ["a unless b", "(unless a b)"],
  ["a * on(x, y) b", "(* on(x,y) a b)", "a * on (x, y) b"],
  ["a * on() b", "(* on() a b)", "a * on () b"],
  ["a * ignoring(x) b", "(* ignoring(x) a b)", "a * ignoring (x) b"],
  ["a * ignoring() b", "(* a b)", "a * b"],
  [
    "a / on(x) group_left(y, z) b",
    "(/ on(x) group_left(y,z) a b)",
    "a / on (x) group_left (y, z) b",
  ],
  [
    "a / on(x) group_left b",
    "(/ on(x) group_left() a b)",
    "a / on (x) group_left () b",
  ],
  [
    "a - ignoring(x) group_right(y) b",
    "(- ignoring(x) group_right(y) a b)",
    "a - ignoring (x) group_right (y) b",
  ],
  ["a == bool on(x) b", "(== bool on(x) a b)", "a == bool on (x) b"],
  ['a + on("a.b") b', "(+ on(a.b) a b)", 'a + on ("a.b") b'],
  [
    "a + on(by, sum, offset, bool) b",
    "(+ on(by,sum,offset,bool) a b)",
    "a + on (by, sum, offset, bool) b",
  ],
  ["a and on(x) b", "(and on(x) a b)", "a and on (x) b"],
  ["a + fill(0) b", "(+ fill_left(0) fill_right(0) a b)", "a + fill (0) b"],
  [
    "a + fill_left(-1) fill_right(2) b",
    "(+ fill_left(-1) fill_right(2) a b)",
    "a + fill_left (-1) fill_right (2) b",
  ],
  [
    "a + fill_right(1e6) b",
    "(+ fill_right(1000000) a b)",
    "a + fill_right (1e+06) b",
  ],
  ["a </ 5", "(</ a 5)"],
  ["-a", "(neg a)"],
  ["+a", "(pos a)"],
  ["-1", "-1"],
  ["- - 1", "1", "1"],
  ["-(1)", "(neg (paren 1))"],
  // Aggregations.
  ["sum(foo)", "(sum foo)"],
  ["sum by (a, b) (foo)", "(sum by(a,b) foo)"],
  ["sum(foo) by (a)", "(sum by(a) foo)", "sum by (a) (foo)"],
  ["sum without (a) (foo)", "(sum without(a) foo)"],
  ["sum without () (foo)", "(sum without() foo)"],
  ["sum by () (foo)", "(sum foo)", "sum(foo)"],
  ["SUM BY (a) (foo)", "(sum by(a) foo)", "sum by (a) (foo)"],
  ["sum by (a,) (foo)", "(sum by(a) foo)", "sum by (a) (foo)"],
  ['sum by ("a.b", c) (foo)', "(sum by(a.b,c) foo)", 'sum by ("a.b", c) (foo)'],
  ["sum by (a:b) (foo)", "(sum by(a:b) foo)", 'sum by ("a:b") (foo)'],
  ["topk(5, foo)", "(topk 5 foo)"],
  ["bottomk by (a) (1 + 2, foo)", "(bottomk by(a) (+ 1 2) foo)"],
  ["quantile(0.9, foo)", "(quantile 0.9 foo)"],
  ['count_values("v", foo)', '(count_values "v" foo)'],
  ["limitk(2, foo)", "(limitk 2 foo)"],
  ["limit_ratio(0.5, foo)", "(limit_ratio 0.5 foo)"],
  ["group(foo)", "(group foo)"],
  ["stddev(foo) + stdvar(foo)", "(+ (stddev foo) (stdvar foo))"],
  ["count(foo)", "(count foo)"],
  ["avg(min(max(foo)))", "(avg (min (max foo)))"],
  // Functions.
  ["time()", "(time)"],
  ["pi()", "(pi)"],
  ["rate(foo[5m])", "(rate (range foo 300))"],
  ["round(foo)", "(round foo)"],
  ["round(foo, 0.5)", "(round foo 0.5)"],
  ["hour()", "(hour)"],
  ["hour(foo)", "(hour foo)"],
  ['label_join(foo, "d", ",")', '(label_join foo "d" ",")'],
  [
    'label_join(foo, "d", ",", "a", "b", "c")',
    '(label_join foo "d" "," "a" "b" "c")',
  ],
  [
    'label_replace(foo, "a", "$1", "b", "(.*)")',
    '(label_replace foo "a" "$1" "b" "(.*)")',
  ],
  [
    "histogram_quantile(0.9, rate(x[5m]))",
    "(histogram_quantile 0.9 (rate (range x 300)))",
  ],
  ["clamp(foo, -1, 1)", "(clamp foo -1 1)"],
  ["vector(1)", "(vector 1)"],
  ["scalar(foo) * 2", "(* (scalar foo) 2)"],
  ["predict_linear(foo[1h], 3600)", "(predict_linear (range foo 3600) 3600)"],
  [
    "quantile_over_time(0.5, foo[1h:5m])",
    "(quantile_over_time 0.5 (subquery foo 3600 300))",
  ],
  ['sort_by_label(foo, "a", "b")', '(sort_by_label foo "a" "b")'],
  [
    "double_exponential_smoothing(foo[5m], 0.5, 0.5)",
    "(double_exponential_smoothing (range foo 300) 0.5 0.5)",
  ],
  ['info(foo, {k=~".+"})', '(info foo {k=~".+"})'],
  [
    'info(foo, {__name__="target_info"})',
    '(info foo {__name__="target_info"})',
  ],
  ["step() + range()", "(+ (step) (range))"],
  ["min_of(1, 2)", "(min_of 1 2)"],
  ["start() - end()", "(- (start) (end))"],
  ["abs(-foo)", "(abs (neg foo))"],
  // Comments and whitespace.
  ["foo # a comment", "foo", "foo"],
  ["sum(\n  foo # one\n) # two", "(sum foo)", "sum(foo)"],
];

/** [input, expected shape]: precedence and associativity. */
const PRECEDENCE: [string, string][] = [
  ["1 + 2 * 3", "(+ 1 (* 2 3))"],
  ["1 * 2 + 3", "(+ (* 1 2) 3)"],
  ["1 - 2 - 3", "(- (- 1 2) 3)"],
  ["1 / 2 / 3", "(/ (/ 1 2) 3)"],
  ["2 ^ 3 ^ 2", "(^ 2 (^ 3 2))"],
  ["-2 ^ 2", "(neg (^ 2 2))"],
  ["-2 * 3", "(* -2 3)"],
  ["-a * b", "(* (neg a) b)"],
  ["-a ^ b", "(neg (^ a b))"],
  ["2 ^ -1", "(^ 2 -1)"],
  ["2 ^ -a * 3", "(* (^ 2 (neg a)) 3)"],
  ["a % b atan2 c * d", "(* (atan2 (% a b) c) d)"],
  ["a + b > c - d", "(> (+ a b) (- c d))"],
  ["a > b and c < d", "(and (> a b) (< c d))"],
  ["a and b or c and d", "(or (and a b) (and c d))"],
  ["a or b unless c", "(or a (unless b c))"],
  ["a unless b and c", "(and (unless a b) c)"],
  ["a == b != c", "(!= (== a b) c)"],
  ["a </ b + c", "(</ a (+ b c))"],
  ["a + b offset 5m", "(+ a b offset:300)"],
  ["a ^ b @ 5", "(^ a b @5000)"],
  ["-foo offset 1m", "(neg foo offset:60)"],
  ["(a + b) * c", "(* (paren (+ a b)) c)"],
  ["a * (b + c)", "(* a (paren (+ b c)))"],
  ["1 + -2", "(+ 1 -2)"],
  ["1 - -(2)", "(- 1 (neg (paren 2)))"],
  ["a + on(x) b * c", "(+ on(x) a (* b c))"],
  ["a > bool 2 + 1", "(> bool a (+ 2 1))"],
  ["sum(a) by (x) + 1", "(+ (sum by(x) a) 1)"],
];

/** [input, message after "parse error: ", 1-based column] */
const REJECTED: [string, string, number][] = [
  ["", "no expression found in input", 1],
  ["   ", "no expression found in input", 1],
  ["foo{", "unexpected end of input inside braces", 5],
  ["sum(", "unclosed left parenthesis", 5],
  ["(1))", "unexpected right parenthesis ')'", 5],
  ["foo[5m", "unexpected end of input in duration expression", 7],
  ["foo]", "unexpected right bracket ']'", 4],
  ['"abc', "unterminated quoted string", 1],
  ["`abc", "unterminated raw string", 1],
  ['"\\q"', "unknown escape sequence U+0071 'q'", 1],
  ['"\\xZZ"', "illegal character U+005A 'Z' in escape sequence", 1],
  ['"\\ud800"', "escape sequence is an invalid Unicode code point", 1],
  ["5mm", 'bad number or duration syntax: "5mm"', 1],
  ["1.5m", 'unknown unit "." in duration "1.5m"', 1],
  ["1m1h", 'not a valid duration string: "1m1h"', 1],
  ["1hs", 'unknown unit "hs" in duration "1hs"', 1],
  [
    "1e400",
    'error parsing number: strconv.ParseFloat: parsing "1e400": value out of range',
    1,
  ],
  ["1__0", 'bad number or duration syntax: "1__"', 1],
  ["0x1.5", 'bad number or duration syntax: "0x1."', 1],
  ["foo !~ bar", "unexpected character after '!': '~'", 5],
  ["foo =~ bar", "unexpected character after '=': '~'", 5],
  ["foo $ bar", "unexpected character: '$'", 5],
  ["foo bar", 'unexpected identifier "bar"', 5],
  ["1 +", "unexpected end of input", 4],
  [
    "foo{a}",
    'unexpected "}" in label matching, expected label matching operator',
    6,
  ],
  ["foo{a=}", 'unexpected "}" in label matching, expected string', 7],
  [
    "foo{a=b}",
    'unexpected identifier "b" in label matching, expected string',
    7,
  ],
  [
    'foo{a="b" c="d"}',
    'unexpected identifier "c" in label matching, expected "," or "}"',
    11,
  ],
  ["foo{,}", 'unexpected "," in label matching, expected identifier or "}"', 5],
  ["foo{1}", "unexpected character inside braces: '1'", 5],
  ['foo{a="b"}{c="d"}', 'unexpected "{"', 11],
  [
    'foo{a=~"("}',
    'invalid regular expression "(" for label "a": error parsing regexp: missing closing ): `(`',
    5,
  ],
  ["{}", "vector selector must contain at least one non-empty matcher", 1],
  ['{a=""}', "vector selector must contain at least one non-empty matcher", 1],
  [
    '{a=~".*"}',
    "vector selector must contain at least one non-empty matcher",
    1,
  ],
  [
    '{a!~".+"}',
    "vector selector must contain at least one non-empty matcher",
    1,
  ],
  [
    'foo{__name__="bar"}',
    'metric name must not be set twice: "foo" or "bar"',
    1,
  ],
  ['foo{"bar"}', 'metric name must not be set twice: "foo" or "bar"', 1],
  [
    "foo[]",
    'unexpected "]" in subquery or range selector, expected number, duration, step(), or range()',
    5,
  ],
  [
    "foo[step]",
    'unexpected "]" in subquery or range selector, expected number, duration, step(), or range()',
    9,
  ],
  [
    "foo[5m 5m]",
    'unexpected duration "5m" in subquery or range, expected ":" or "]"',
    8,
  ],
  ["foo[5m:1m:1m]", "unexpected colon ':'", 10],
  ["foo[:5m]", "unexpected colon before duration in duration expression", 5],
  ["foo[bar]", "unexpected character in duration expression: 'b'", 5],
  ["foo[5m x]", "unexpected character: 'x', expected ':'", 8],
  ["foo[0]", "duration must be greater than 0", 5],
  ["foo[-5m]", "duration must be greater than 0", 5],
  ["foo[5m:0s]", "duration must be greater than 0", 8],
  ["foo[5m/0]", "division by zero", 7],
  ["foo[5m%0]", "modulo by zero", 7],
  ["foo offset 999999999999s", "duration out of range", 12],
  ["foo[5m][1m]", "ranges only allowed for vector selectors", 8],
  ["(foo)[5m]", "ranges only allowed for vector selectors", 6],
  ["sum(foo)[5m]", "ranges only allowed for vector selectors", 9],
  ["foo offset 1m [5m]", "no offset modifiers allowed before range", 15],
  ["foo @ 1 [5m]", "no @ modifiers allowed before range", 9],
  ["foo offset 1m offset 2m", "offset may not be set multiple times", 1],
  ["foo[5m] offset 1m offset 2m", "offset may not be set multiple times", 1],
  ["foo @ 1 @ 2", "@ <timestamp> may not be set multiple times", 1],
  ["foo @ start() @ end()", "@ <timestamp> may not be set multiple times", 1],
  [
    "sum(foo) offset 1m",
    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    1,
  ],
  [
    "1 @ 5",
    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    1,
  ],
  ["foo @ Inf", "timestamp out of bounds for @ modifier: +Inf", 1],
  ["foo @ bar", 'unexpected identifier "bar" in @, expected timestamp', 7],
  [
    "foo offset bar",
    'unexpected identifier "bar" in offset, expected number, duration, step(), or range()',
    12,
  ],
  ["rat(foo)", 'unknown function with name "rat"', 1],
  ["RATE(foo[5m])", 'unknown function with name "RATE"', 1],
  [
    "rate(foo)",
    'expected type range vector in call to function "rate", got instant vector',
    6,
  ],
  [
    "abs(foo[5m])",
    'expected type instant vector in call to function "abs", got range vector',
    5,
  ],
  ["rate()", 'expected 1 argument(s) in call to "rate", got 0', 1],
  ["time(1)", 'expected 0 argument(s) in call to "time", got 1', 1],
  [
    "round(foo, 1, 2)",
    'expected at most 2 argument(s) in call to "round", got 3',
    1,
  ],
  [
    'label_join(foo, "a")',
    'expected at least 3 argument(s) in call to "label_join", got 2',
    1,
  ],
  [
    "label_join(foo, 1, 2)",
    'expected type string in call to function "label_join", got scalar',
    17,
  ],
  ["rate(foo[5m],)", "trailing commas not allowed in function call args", 13],
  ["rate(foo[5m] bar)", 'unexpected identifier "bar"', 14],
  [
    'info(foo, bar{a="b"})',
    "expected label selectors only, got vector selector instead",
    11,
  ],
  [
    "info(foo, 1)",
    'expected type instant vector in call to function "info", got scalar',
    1,
  ],
  ["sum()", "no arguments for aggregate expression provided", 1],
  [
    "topk(foo)",
    "wrong number of arguments for aggregate expression provided, expected 2, got 1",
    1,
  ],
  [
    "sum(1, foo)",
    "wrong number of arguments for aggregate expression provided, expected 1, got 2",
    1,
  ],
  [
    "sum(foo[5m])",
    "expected type instant vector in aggregation expression, got range vector",
    5,
  ],
  [
    'topk("a", foo)',
    "expected type scalar in aggregation parameter, got string",
    6,
  ],
  [
    "count_values(1, foo)",
    "expected type string in aggregation parameter, got scalar",
    14,
  ],
  ["sum by (a) (foo) by (b)", "unexpected <by>", 18],
  [
    "sum by a (foo)",
    'unexpected identifier "a" in grouping opts, expected "("',
    8,
  ],
  [
    "sum by (1) (foo)",
    'unexpected number "1" in grouping opts, expected label',
    9,
  ],
  [
    "sum by (a b) (foo)",
    'unexpected identifier "b" in grouping opts, expected "," or ")"',
    11,
  ],
  ['sum by ("") (foo)', 'invalid label name for grouping: ""', 9],
  ["sum foo", 'unexpected identifier "foo"', 5],
  ["1 == 1", "comparisons between scalars must use BOOL modifier", 3],
  ["a + bool b", "bool modifier can only be used on comparison operators", 3],
  ["1 and 2", 'set operator "and" not allowed in binary scalar expression', 1],
  ["a and 1", 'set operator "and" not allowed in binary scalar expression', 1],
  ["a and on(x) group_left b", 'no grouping allowed for "and" operation', 1],
  [
    "a or ignoring(x) group_right(y) b",
    'no grouping allowed for "or" operation',
    1,
  ],
  [
    "a + on(x) group_left(x) b",
    'label "x" must not occur in ON and GROUP clause at once',
    3,
  ],
  ["1 + on(x) a", "vector matching only allowed between instant vectors", 1],
  ["a + on(x) 1", "vector matching only allowed between instant vectors", 1],
  [
    "a + fill(0) 1",
    "filling in missing series only allowed between instant vectors",
    1,
  ],
  [
    "a and fill(0) b",
    "filling in missing series not allowed for set operators",
    1,
  ],
  ["a + group_left b", "unexpected <group_left>", 5],
  [
    "foo[5m] + 1",
    "binary expression must contain only scalar and instant vector types",
    1,
  ],
  [
    '1 + "a"',
    "binary expression must contain only scalar and instant vector types",
    5,
  ],
  [
    "-foo[5m]",
    'unary expression only allowed on expressions of type scalar or instant vector, got "range vector"',
    1,
  ],
  [
    '-"a"',
    'unary expression only allowed on expressions of type scalar or instant vector, got "string"',
    1,
  ],
  [
    "foo[5m][10m:1m]",
    "subquery is only allowed on instant vector, got matrix instead",
    1,
  ],
  [
    "1[5m:1m]",
    "subquery is only allowed on instant vector, got scalar instead",
    1,
  ],
  ["sum(foo) anchored", "anchored modifier not implemented", 1],
  [
    "foo[5m:1m] smoothed",
    "smoothed modifier is not supported for subqueries",
    1,
  ],
  [
    "foo anchored smoothed",
    "anchored and smoothed modifiers cannot be used together",
    1,
  ],
  ["foo\n  + bar baz", 'unexpected identifier "baz"', 9], // line 2
];

Deno.test("promql: accepted expressions (shape and canonical form)", async (t) => {
  for (const [input, wantShape, wantFormat] of ACCEPTED) {
    await t.step(JSON.stringify(input), () => {
      const e = parse(input);
      assert.equal(shape(e), wantShape, "shape");
      assert.equal(format(e), wantFormat ?? input, "format");
      // Round trip: both printed forms parse back to an equal tree.
      assert.deepEqual(strip(parse(format(e))), strip(e), "format round trip");
      assert.deepEqual(
        strip(parse(pretty(e, 8))),
        strip(e),
        "pretty round trip",
      );
    });
  }
});

Deno.test("promql: precedence and associativity", async (t) => {
  for (const [input, want] of PRECEDENCE) {
    await t.step(input, () => {
      const e = parse(input);
      assert.equal(shape(e), want);
      assert.deepEqual(strip(parse(format(e))), strip(e), "round trip");
    });
  }
});

Deno.test("promql: rejected expressions (message and position)", async (t) => {
  for (const [input, message, column] of REJECTED) {
    await t.step(JSON.stringify(input), () => {
      let err: unknown = null;
      try {
        parse(input);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ParseError, `expected a ParseError, got ${err}`);
      assert.equal(err.detail, message);
      assert.equal(err.column, column, "column");
      const line = input.slice(0, err.offset).split("\n").length;
      assert.equal(err.line, line, "line");
      assert.equal(err.message, `${line}:${column}: parse error: ${message}`);
    });
  }
});

Deno.test("promql: value types", () => {
  const cases: [string, string][] = [
    ["1", "scalar"],
    ['"a"', "string"],
    ["foo", "vector"],
    ["foo[5m]", "matrix"],
    ["foo[5m:]", "matrix"],
    ["(1 + 2)", "scalar"],
    ["1 + foo", "vector"],
    ["-foo", "vector"],
    ["time()", "scalar"],
    ["scalar(foo)", "scalar"],
    ["sum(foo)", "vector"],
    ["(foo[5m])", "matrix"],
  ];
  for (const [q, want] of cases) assert.equal(parse(q).valueType, want, q);
  // Every node of a checked tree has its type.
  const e = parse(
    "sum by (a) (rate(x[5m])) / on (a) group_left count(y > bool 1)",
  );
  const stack = [e];
  while (stack.length) {
    const n = stack.pop()!;
    assert.ok(n.valueType, `${n.type} at ${n.start} has no valueType`);
    if (n.type === "BinaryExpr") stack.push(n.lhs, n.rhs);
    if (n.type === "AggregateExpr") stack.push(n.expr);
    if (n.type === "Call") stack.push(...n.args);
    if (n.type === "MatrixSelector") stack.push(n.selector);
  }
});

Deno.test("promql: positions", () => {
  const q = 'sum by (a) (rate(foo{b="c"}[5m] offset 1m)) + -2';
  const e = parse(q);
  assert.equal(e.type, "BinaryExpr");
  if (e.type !== "BinaryExpr") return;
  const text = (n: { start: number; end: number }) => q.slice(n.start, n.end);
  assert.equal(text(e), q);
  assert.equal(text(e.lhs), 'sum by (a) (rate(foo{b="c"}[5m] offset 1m))');
  assert.equal(text(e.rhs), "-2");
  if (e.lhs.type !== "AggregateExpr") throw new Error("shape");
  const call = e.lhs.expr;
  assert.equal(text(call), 'rate(foo{b="c"}[5m] offset 1m)');
  if (call.type !== "Call") throw new Error("shape");
  const ms = call.args[0];
  assert.equal(text(ms), 'foo{b="c"}[5m] offset 1m');
  if (ms.type !== "MatrixSelector") throw new Error("shape");
  assert.equal(text(ms.selector), 'foo{b="c"}');
  assert.equal(text(ms.range), "5m");
  assert.equal(text(ms.selector.offset!), "1m");
  const d = parse("foo[2m * (10 + 5)]");
  if (d.type !== "MatrixSelector") throw new Error("shape");
  assert.equal(
    "foo[2m * (10 + 5)]".slice(d.range.start, d.range.end),
    "2m * (10 + 5)",
  );
});

Deno.test("promql: matchers are the model's matchers", () => {
  const e = parse('foo{a=~"x|y", b!="z"}');
  if (e.type !== "VectorSelector") throw new Error("shape");
  assert.deepEqual(
    e.matchers.map((m) => [m.name, m.type, m.value]),
    [["a", "=~", "x|y"], ["b", "!=", "z"], ["__name__", "=", "foo"]],
  );
  assert.equal(e.matchers[0].matches("x"), true);
  assert.equal(e.matchers[0].matches("xy"), false); // anchored
  assert.equal(e.matchers[1].matches(""), true);
});

Deno.test("promql: experimental syntax can be switched off", () => {
  const off = (q: string, opt: object, msg: string) =>
    assert.throws(
      () => parse(q, opt),
      (e: unknown) => e instanceof ParseError && e.detail === msg,
      q,
    );
  off(
    "foo[5m * 2]",
    { durationExpressions: false },
    "experimental duration expression is not enabled",
  );
  off(
    "foo offset step()",
    { durationExpressions: false },
    "experimental duration expression is not enabled",
  );
  off(
    'sort_by_label(foo, "a")',
    { experimentalFunctions: false },
    'function "sort_by_label" is not enabled',
  );
  off(
    "limitk(1, foo)",
    { experimentalFunctions: false },
    "limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions",
  );
  off(
    "foo[5m] anchored",
    { extendedRangeSelectors: false },
    "anchored modifier is experimental and not enabled",
  );
  off(
    "a + fill(1) b",
    { fillModifiers: false },
    "binop fill modifiers are experimental and not enabled",
  );
  // Plain literals need no flag.
  parse("foo[5m] offset -1m", { durationExpressions: false });
});

Deno.test("promql: pretty splits long lines like Prometheus", () => {
  const q =
    'sum by (job) (rate(http_requests_total{code=~"5..",handler!="/metrics"}[5m])) / on (job) group_left sum by (job) (rate(http_requests_total[5m]))';
  // The whole line is longer than 100 characters; each side fits.
  assert.equal(
    pretty(parse(q)),
    [
      '  sum by (job) (rate(http_requests_total{code=~"5..",handler!="/metrics"}[5m]))',
      "/ on (job) group_left ()",
      "  sum by (job) (rate(http_requests_total[5m]))",
    ].join("\n"),
  );
  assert.equal(pretty(parse("rate(foo[5m])"), 5), "rate(\n  foo[5m]\n)");
  assert.equal(
    pretty(parse("-histogram_quantile(0.9, rate(foo[1m]))"), 10),
    "-histogram_quantile(\n  0.9,\n  rate(\n    foo[1m]\n  )\n)",
  );
  assert.equal(pretty(parse("a + b"), 3), "  a\n+\n  b");
});
