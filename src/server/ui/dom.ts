/**
 * Small DOM helpers: element creation with attributes and children, and
 * typed lookups that fail loudly when the page's markup changed.
 * @module
 */

type Child = Node | string | null | undefined | false;

/** Creates an HTML element with attributes (`class`, `aria-*`, …) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const c of children) if (c) el.append(c);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element with attributes. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  for (const c of children) if (c) el.append(c);
  return el;
}

function setAttrs(
  el: Element,
  attrs: Record<string, string | number | boolean | undefined>,
): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
}

/** The element with `id`, checked to be of `type`. */
export function byId<T extends HTMLElement>(
  id: string,
  type: new () => T,
): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing`);
  return el;
}
