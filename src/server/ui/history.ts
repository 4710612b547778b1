/**
 * Expression history kept in localStorage: most recent first, no
 * duplicates, bounded. Storage errors (private mode, quota) are ignored:
 * history is a convenience, never a reason for the page to fail.
 * @module
 */

/** The localStorage key of the history list. */
export const HISTORY_KEY = "tidemark.history";
/** How many expressions are kept. */
export const HISTORY_LIMIT = 50;

/** Reads the stored history (newest first). */
export function loadHistory(storage: Storage): string[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(HISTORY_KEY) ?? "[]");
    return Array.isArray(parsed)
      ? parsed.filter((x): x is string => typeof x === "string")
      : [];
  } catch {
    return [];
  }
}

/** Puts `expr` first (moving an older copy) and stores the list. */
export function remember(storage: Storage, expr: string): string[] {
  const e = expr.trim();
  const list = loadHistory(storage);
  if (e === "") return list;
  const next = [e, ...list.filter((x) => x !== e)].slice(0, HISTORY_LIMIT);
  try {
    storage.setItem(HISTORY_KEY, JSON.stringify(next));
  } catch {
    // Not stored; the in-memory list still serves this page.
  }
  return next;
}
