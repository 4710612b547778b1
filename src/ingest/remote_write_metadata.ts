/**
 * Metric metadata received by remote write, per tenant, in memory: the
 * latest type/help/unit of each metric family, for /api/v1/metadata.
 * Bounded per tenant (least recently updated families go first).
 * @module
 */
import type { SentMetadata } from "./remote_write_batch.ts";

/** One family's metadata as /api/v1/metadata shows it. */
export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
}

/** The MetricType numbers of both protocol versions, as Prometheus names them. */
const TYPE_NAMES = [
  "unknown",
  "counter",
  "gauge",
  "histogram",
  "gaugehistogram",
  "summary",
  "info",
  "stateset",
];

/** The type name for a MetricType number ("unknown" for numbers not listed). */
export function metricTypeName(type: number): string {
  return TYPE_NAMES[type] ?? "unknown";
}

/** Latest metadata per tenant and metric family. */
export class MetadataStore {
  #tenants = new Map<string, Map<string, MetricMetadata>>();

  /** @param maxFamilies most families kept per tenant. */
  constructor(readonly maxFamilies = 100_000) {}

  /** Records what a request sent (later entries win). */
  update(tenant: string, sent: readonly SentMetadata[]): void {
    if (sent.length === 0) return;
    let m = this.#tenants.get(tenant);
    if (!m) this.#tenants.set(tenant, m = new Map());
    for (const s of sent) {
      // Delete first so the insertion order is the update order.
      m.delete(s.family);
      m.set(s.family, {
        type: metricTypeName(s.type),
        help: s.help,
        unit: s.unit,
      });
      if (m.size > this.maxFamilies) m.delete(m.keys().next().value!);
    }
  }

  /**
   * The tenant's metadata as /api/v1/metadata's `data`: family → entries
   * (one each: the latest). `metric` selects one family; `limit` caps the
   * number of families (≤ 0: no cap). Families are sorted by name.
   */
  get(
    tenant: string,
    metric?: string,
    limit?: number,
  ): Record<string, MetricMetadata[]> {
    const out: Record<string, MetricMetadata[]> = {};
    const m = this.#tenants.get(tenant);
    if (!m) return out;
    if (metric !== undefined && metric !== "") {
      const e = m.get(metric);
      if (e) out[metric] = [{ ...e }];
      return out;
    }
    const names = [...m.keys()].sort();
    const n = limit !== undefined && limit > 0
      ? Math.min(limit, names.length)
      : names.length;
    for (let i = 0; i < n; i++) out[names[i]] = [{ ...m.get(names[i])! }];
    return out;
  }
}
