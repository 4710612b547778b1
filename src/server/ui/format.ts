/**
 * Text forms of what the page shows: label sets, sample values, times
 * and byte counts.
 * @module
 */

/** `name{a="1", b="2"}` (Prometheus' form; `{}` when empty). */
export function seriesName(labels: Record<string, string>): string {
  const name = labels.__name__ ?? "";
  const rest = Object.keys(labels)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return rest.length === 0 && name !== ""
    ? name
    : `${name}{${rest.join(", ")}}`;
}

/** A sample value as Prometheus prints it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** A time in ms as ISO 8601 UTC without the trailing `Z` noise for whole seconds. */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** A short clock label for chart axes (local time). */
export function axisTime(ms: number, spanMs: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (spanMs <= 120_000) return `${hm}:${pad(d.getSeconds())}`;
  if (spanMs <= 2 * 86_400_000) return hm;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** Bytes in B / KiB / MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
