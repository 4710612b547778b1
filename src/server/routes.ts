/**
 * The route table: every path the server answers, its methods, envelope
 * family, whether it needs credentials and which rate limit it counts
 * against. Handlers live in handlers/.
 * @module
 */
import type { Handler } from "./context.ts";
import {
  buildInfoHandler,
  handleAlerts,
  handleLabels,
  handleLabelValues,
  handleQueryExemplars,
  handleRules,
  handleSeries,
  handleTsdbStatus,
  metadataHandler,
  type MetadataSource,
} from "./handlers/prom_meta.ts";
import {
  handleFormatQuery,
  handleQuery,
  handleQueryRange,
} from "./handlers/prom_query.ts";
import { handleRemoteRead } from "./handlers/remote_read.ts";
import {
  createPushgatewayHandler,
  type PushgatewayStore,
} from "./handlers/pushgateway.ts";
import { handleTelemetry } from "./handlers/telemetry.ts";
import { STATIC_ASSETS, staticHandler } from "./handlers/static.ts";
import type { MetricsApiHandlers } from "./handlers/metrics_api.ts";
import type { Route } from "./router.ts";
import type { Registry } from "./self_metrics.ts";

/** What the table needs from the server. */
export interface RouteDeps {
  readonly registry: Registry;
  readonly metadata: MetadataSource;
  readonly buildInfo: Record<string, string>;
  readonly pushgateway: PushgatewayStore;
  readonly remoteWrite: Handler;
  readonly metricsApi: MetricsApiHandlers;
  isReady(): boolean;
}

const GET_POST = ["GET", "POST"] as const;
const GET = ["GET", "HEAD"] as const;

function plain(text: string, status = 200): Response {
  return new Response(text, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** Builds the table. */
export function buildRoutes(deps: RouteDeps): Route[] {
  const prom = (
    path: string,
    handler: Handler,
    methods: readonly string[] = GET_POST,
  ): Route => ({
    path,
    methods,
    family: "prom",
    auth: true,
    rateClass: "query",
    handler,
  });
  const open = (path: string, handler: Handler): Route => ({
    path,
    methods: GET,
    family: "plain",
    auth: false,
    handler,
  });
  return [
    open("/-/healthy", () => Promise.resolve(plain("Healthy.\n"))),
    open(
      "/-/ready",
      () =>
        Promise.resolve(
          deps.isReady()
            ? plain("Ready.\n")
            : plain("Service Unavailable\n", 503),
        ),
    ),
    open("/metrics", () =>
      Promise.resolve(
        new Response(deps.registry.render(), {
          headers: {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
          },
        }),
      )),
    prom("/api/v1/query", handleQuery),
    prom("/api/v1/query_range", handleQueryRange),
    prom("/api/v1/format_query", handleFormatQuery),
    prom("/api/v1/series", handleSeries),
    prom("/api/v1/labels", handleLabels),
    prom("/api/v1/label/:name/values", handleLabelValues, GET),
    prom("/api/v1/metadata", metadataHandler(deps.metadata), GET),
    prom("/api/v1/query_exemplars", handleQueryExemplars),
    prom("/api/v1/status/tsdb", handleTsdbStatus, GET),
    prom("/api/v1/status/buildinfo", buildInfoHandler(deps.buildInfo), GET),
    prom("/api/v1/rules", handleRules, GET),
    prom("/api/v1/alerts", handleAlerts, GET),
    prom("/api/v1/read", handleRemoteRead, ["POST"]),
    prom("/api/v1/tenant/telemetry", handleTelemetry, ["POST"]),
    {
      ...prom("/api/v1/write", deps.remoteWrite, ["POST"]),
      rateClass: "write",
    },
    {
      ...prom("/api/v1/prom/write", deps.remoteWrite, ["POST"]),
      rateClass: "write",
    },
    {
      path: "/metrics/*path",
      methods: ["PUT", "POST", "DELETE"],
      family: "plain",
      auth: true,
      rateClass: "write",
      handler: createPushgatewayHandler(deps.pushgateway),
    },
    // The Metrics API (JSON in, {"data"} / {"error":{code,message}} out).
    ...metricsApiRoutes(deps.metricsApi),
    // The query page (build/ui) and the engine module it runs.
    ...STATIC_ASSETS.map((a) => open(a.path, staticHandler(a))),
  ];
}

function metricsApiRoutes(h: MetricsApiHandlers): Route[] {
  const api = (
    path: string,
    methods: readonly string[],
    rateClass: "query" | "write" | "batch",
    handler: Handler,
  ): Route => ({
    path,
    methods,
    family: "api",
    auth: true,
    rateClass,
    handler,
  });
  return [
    api("/api/v1/metrics", ["POST"], "write", h.postMetric),
    api("/api/v1/metrics", GET, "query", h.listMetrics),
    api("/api/v1/metrics/batch", ["POST"], "batch", h.postBatch),
    api("/api/v1/flux/batch", ["POST"], "batch", h.postFlux),
    api("/api/v1/metrics/:name", GET, "query", h.getMetric),
    api("/api/v1/metrics/:name/query", GET, "query", h.queryMetric),
    api("/api/v1/events", GET, "query", h.listEvents),
  ];
}
