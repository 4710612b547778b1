/**
 * The preparation phase of a query (Prometheus' populateSeries): before
 * evaluation, every selector's steps are worked out from the syntax tree
 * alone (offsets, `@`, `start()`/`end()`, subquery steps) and its series
 * are read ahead, handing the event loop a turn every few milliseconds and
 * checking cancellation and the deadline at every pause. Evaluation then
 * runs synchronously from the values read ahead.
 *
 * Reads happen in evaluation order (left operand first, aggregation input
 * before its parameter, arguments in order), so sample accounting and its
 * errors come where the synchronous path would raise them.
 * @module
 */
import type { Expr, VectorSelector } from "./ast.ts";
import type { EvalContext } from "./eval_types.ts";
import type { Evaluator, PreloadKind, ReadSteps } from "./evaluator.ts";

/** One selector read: the node, how it is asked for, and at which steps. */
export interface SelectorRead {
  node: Expr;
  kind: PreloadKind;
  ctx: EvalContext;
}

/** How the preparation shares the thread. */
export interface PrepareOptions {
  /** Longest stretch of reading (ms) between two event-loop turns. */
  sliceMs: number;
}

/**
 * Lists the selector reads evaluating `e` at `ctx` will do, in evaluation
 * order. A subtree whose steps cannot be worked out (a subquery whose step
 * or offset fails to evaluate) is left out: evaluation reads it and raises
 * the error where it would have.
 */
export function selectorReads(
  ev: Evaluator,
  e: Expr,
  ctx: EvalContext,
): SelectorRead[] {
  const out: SelectorRead[] = [];
  walk(ev, e, ctx, out);
  return out;
}

function walk(
  ev: Evaluator,
  e: Expr,
  ctx: EvalContext,
  out: SelectorRead[],
): void {
  switch (e.type) {
    case "NumberLiteral":
    case "StringLiteral":
      return;
    case "ParenExpr":
    case "UnaryExpr":
      return walk(ev, e.expr, ctx, out);
    case "VectorSelector":
      out.push({ node: e, kind: "vector", ctx });
      return;
    case "MatrixSelector":
      out.push({ node: e, kind: "windows", ctx });
      return;
    case "SubqueryExpr": {
      let inner: EvalContext | null;
      try {
        inner = ev.subqueryContext(e, ctx).inner;
      } catch {
        return;
      }
      if (inner !== null) walk(ev, e.expr, inner, out);
      return;
    }
    case "BinaryExpr":
      walk(ev, e.lhs, ctx, out);
      walk(ev, e.rhs, ctx, out);
      return;
    case "AggregateExpr":
      walk(ev, e.expr, ctx, out);
      if (e.param) walk(ev, e.param, ctx, out);
      return;
    case "Call": {
      // Not evaluated (its arguments are never read).
      if (e.func.name === "info") return;
      const first = e.args.length > 0 ? unwrap(e.args[0]) : null;
      if (e.func.name === "timestamp" && first?.type === "VectorSelector") {
        // timestamp(selector) asks for the samples' own times.
        out.push({ node: first, kind: "timestamps", ctx });
        return;
      }
      for (const a of e.args) walk(ev, a, ctx, out);
      return;
    }
  }
}

function unwrap(e: Expr): Expr {
  while (e.type === "ParenExpr") e = e.expr;
  return e;
}

function readOf(ev: Evaluator, r: SelectorRead): ReadSteps<unknown> {
  switch (r.kind) {
    case "vector":
      return ev.selectVectorSteps(r.node as VectorSelector, r.ctx, false);
    case "timestamps":
      return ev.selectInstantSteps(r.node as VectorSelector, r.ctx, true);
    case "windows":
      if (r.node.type !== "MatrixSelector") throw new Error("not a range");
      return ev.matrixWindows(r.node, r.ctx);
  }
}

/**
 * A turn of the event loop in which I/O is polled: a 0 ms timer or a
 * microtask is not enough (Deno runs due timers without polling), a 1 ms
 * timer is not due when set.
 */
function ioTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * Reads ahead every selector of `e` evaluated at `ctx` into `ev`, giving
 * the event loop a turn whenever `sliceMs` of reading has passed since the
 * last one; throws QueryError "canceled" / "timeout" (checked at every
 * pause of a read) and the reads' own errors (sample limits, storage).
 */
export async function prepareSelectors(
  ev: Evaluator,
  e: Expr,
  ctx: EvalContext,
  opts: PrepareOptions,
): Promise<void> {
  ev.startPreloading();
  let sliceStart = performance.now();
  for (const r of selectorReads(ev, e, ctx)) {
    const steps = readOf(ev, r);
    try {
      for (;;) {
        const step = steps.next();
        if (step.done) {
          ev.preload(r.node, r.kind, r.ctx.times, step.value as never);
          break;
        }
        if (performance.now() - sliceStart >= opts.sliceMs) {
          await ioTurn();
          sliceStart = performance.now();
        }
        ev.checkDeadline(true);
      }
    } finally {
      // Closes the read's querier when it stops early.
      steps.return(undefined);
    }
  }
}
