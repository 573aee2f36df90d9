// What the widget and the console make of a message's text and files,
// rendered by each its own way (DOM nodes in the widget, htm in the
// console): the parts of a text with its http(s) links, which files get
// an inline preview, and the parts of a search snippet to highlight.
// Pure functions: no DOM, no HTML strings.

/** Raster image types previewed inline; everything else is only downloaded. */
export const PREVIEW_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

/** The largest attachment previewed inline. */
export const PREVIEW_MAX_BYTES = 8 * 1024 * 1024;

/** previewable reports whether an attachment is shown as an image. */
export function previewable(file) {
  return !!file && PREVIEW_TYPES.has(file.content_type) && file.size <= PREVIEW_MAX_BYTES;
}

/**
 * textParts splits text into plain parts ({text}) and links ({text, href})
 * for the http(s) addresses in it. Only http and https become links;
 * trailing punctuation stays text.
 */
export function textParts(text) {
  const out = [];
  const s = String(text || "");
  let last = 0;
  for (const m of s.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    const raw = m[0].replace(/[.,;:!?)\]]+$/, "");
    let url;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    if (m.index > last) out.push({ text: s.slice(last, m.index) });
    out.push({ text: raw, href: url.href });
    last = m.index + raw.length;
  }
  if (last < s.length) out.push({ text: s.slice(last) });
  return out;
}

/** webURL returns an http(s) address as a URL, else null. */
export function webURL(s) {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:" ? u : null;
  } catch {
    return null;
  }
}

/**
 * markParts splits text into parts ({text, mark}) where mark is true for
 * each occurrence of term, in any case.
 */
export function markParts(text, term) {
  const s = String(text || "");
  const t = String(term || "").trim().toLowerCase();
  if (!t) return [{ text: s, mark: false }];
  const low = s.toLowerCase();
  const out = [];
  let last = 0;
  // Lower-casing may change lengths outside ASCII; then no highlight.
  if (low.length !== s.length) return [{ text: s, mark: false }];
  for (let i = low.indexOf(t); i >= 0; i = low.indexOf(t, i + t.length)) {
    if (i > last) out.push({ text: s.slice(last, i), mark: false });
    out.push({ text: s.slice(i, i + t.length), mark: true });
    last = i + t.length;
  }
  if (last < s.length) out.push({ text: s.slice(last), mark: false });
  return out;
}
