// Small DOM helpers shared by the Parley pages. Data from the server is
// only ever inserted as text (text nodes, textContent), never as HTML.

/**
 * Creates an element. props: "class", "text" (textContent), "on<event>"
 * listeners, other keys become attributes (true: empty attribute).
 * Children may be nodes or strings (inserted as text).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c != null && c !== false) el.append(c);
  }
  return el;
}

/** Returns the element with id, failing loudly when the page lacks it. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** Creates a stroked 24×24 icon from path data. */
export function icon(...paths) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  for (const d of paths) {
    const p = document.createElementNS(ns, "path");
    p.setAttribute("d", d);
    svg.append(p);
  }
  return svg;
}

/** The clock time of an RFC 3339 time: people.js's one rule. */
export { clock } from "./people.js";

/** Formats a byte count: 900 B, 12 KB, 3.4 MB. */
export function fileSize(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1000 * 1000) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** Returns a random UUID, also outside secure contexts. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Reads a JSON value from sessionStorage; storage may be unavailable. */
export function load(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

/** Writes (or with null removes) a JSON value in sessionStorage. */
export function save(key, value) {
  try {
    if (value == null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private modes and full storage: the chat works, it just will not
    // survive a reload.
  }
}

/** Grows a textarea with its content up to its CSS max-height. */
export function autosize(ta) {
  const fit = () => {
    ta.style.height = "auto";
    ta.style.height = `${ta.scrollHeight + 2}px`;
  };
  ta.addEventListener("input", fit);
  return fit;
}

/** Counts characters the way the server does (code points). */
export function length(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
