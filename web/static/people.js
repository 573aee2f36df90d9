// How people are shown everywhere (console, widget, contact portal): one
// rule for initials, one for the avatar colour, one for clock times.

/**
 * Avatar colours: each keeps white text above 4.5:1 (WCAG AA), so any
 * name lands on a readable one.
 */
export const PALETTE = ["#4338ca", "#0f766e", "#b45309", "#be123c", "#6d28d9", "#15803d", "#1d4ed8", "#9d174d"];

/** The initials of a name: the first letters of its first and last word, "Ada Lovelace" → "AL", "Ada" → "A". */
export function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  const first = [...words[0]][0];
  const last = words.length > 1 ? [...words[words.length - 1]][0] : "";
  return (first + last).toUpperCase();
}

/** The avatar colour of a person: a hash of key (an agent id, else a name) into PALETTE. */
export function avatarColor(key) {
  let n = 0;
  for (const c of String(key ?? "")) n = (n * 31 + c.codePointAt(0)) >>> 0;
  return PALETTE[n % PALETTE.length];
}

/** The clock time of an RFC 3339 time in the locale's short form ("1:32 PM", "13:32"); "" when invalid. */
export function clock(at) {
  const d = at ? new Date(at) : new Date();
  if (Number.isNaN(d.getTime())) return "";
  try {
    return d.toLocaleTimeString(document.documentElement.lang || [], { timeStyle: "short" });
  } catch {
    return d.toLocaleTimeString([], { timeStyle: "short" }); // an invalid lang attribute
  }
}
