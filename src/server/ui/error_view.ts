/**
 * Shows a query error: the server's message and, when it names a
 * position (`line:col`), the offending line with a caret under the
 * column; the caret's position is also selected in the expression box.
 * @module
 */
import { h } from "./dom.ts";
import { errorPosition } from "./selectors.ts";

/** Renders `error` for `expr` into `host`; moves the caret in `input`. */
export function showError(
  host: HTMLElement,
  input: HTMLTextAreaElement,
  expr: string,
  error: unknown,
): void {
  const message = error instanceof Error ? error.message : String(error);
  const pos = errorPosition(error);
  const parts: Node[] = [h("p", { class: "error-message" }, message)];
  if (pos) {
    const lines = expr.split("\n");
    const line = lines[pos.line - 1] ?? "";
    parts.push(
      h(
        "pre",
        {
          class: "error-context",
          "data-line": pos.line,
          "data-column": pos.column,
          "aria-label": `Error at line ${pos.line}, column ${pos.column}`,
        },
        `${line}\n${" ".repeat(Math.max(0, pos.column - 1))}^`,
      ),
    );
    let offset = 0;
    for (let i = 0; i < pos.line - 1 && i < lines.length; i++) {
      offset += lines[i].length + 1;
    }
    offset += pos.column - 1;
    input.setSelectionRange(offset, Math.min(expr.length, offset + 1));
  }
  input.setAttribute("aria-invalid", "true");
  host.replaceChildren(...parts);
  host.hidden = false;
}

/** Clears the error display. */
export function clearError(
  host: HTMLElement,
  input: HTMLTextAreaElement,
): void {
  host.replaceChildren();
  host.hidden = true;
  input.removeAttribute("aria-invalid");
}
