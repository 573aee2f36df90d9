// Shared pieces of the agent console: the htm binding for Preact, the
// endpoints it calls, formatting helpers and canned-response placeholders.

import { h } from "./vendor/preact.mjs";
import { useState, useEffect } from "./vendor/hooks.mjs";
import htm from "./vendor/htm.mjs";
import { download } from "./api.js";
import { textParts, markParts, previewable, webURL } from "./richtext.js";

/** html is htm bound to Preact: html`<p class=${c}>${text}</p>`. */
export const html = htm.bind(h);

/** Where the console reads and writes; one place so the contract is visible. */
export const endpoints = {
  canned: "/api/v1/canned",
  cannedItem: (id) => `/api/v1/canned/${id}`,
  cannedImport: "/api/v1/canned/import",
  chatCanned: (id) => `/api/v1/chats/${id}/canned`,
  overview: "/api/v1/supervisor/overview",
  kpis: "/api/v1/supervisor/kpis",
  whisper: (id) => `/api/v1/chats/${id}/whisper`,
  barge: (id) => `/api/v1/chats/${id}/barge`,
  conference: (id) => `/api/v1/chats/${id}/conference`,
  transcript: (id) => `/api/v1/chats/${id}/transcript`,
  mail: (id) => `/api/v1/mail/${id}`,
  archive: "/api/v1/archive",
  history: (id) => `/api/v1/chats/${id}/history`,
  internal: (agentID) => `/api/v1/agents/${agentID}/messages`,
};

/** Reasons offered for "not ready"; the agent may also type one. */
export const notReadyReasons = ["Break", "Lunch", "Meeting", "Training", "Back office"];

/** Formats seconds as "42 s", "3:07" or "1:02:09". */
export function duration(sec) {
  if (sec == null || sec < 0 || !Number.isFinite(sec)) return "—";
  sec = Math.round(sec);
  if (sec < 60) return `${sec} s`;
  const hh = Math.floor(sec / 3600);
  const mm = Math.floor((sec % 3600) / 60);
  const ss = String(sec % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** Seconds since an RFC 3339 time. */
export function since(at, now = Date.now()) {
  const t = Date.parse(at);
  return Number.isNaN(t) ? null : Math.max(0, (now - t) / 1000);
}

/** Clock times, initials and avatar colours follow people.js, as in the widget and portal. */
import { clock, initials, avatarColor } from "./people.js";
export { clock, initials, avatarColor };

/** The local date and time of an RFC 3339 time. */
export function dateTime(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/** A random client_id for idempotent sends. */
export function clientID() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** A file size in B, KB or MB. */
export function fileSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * flattenCanned turns the canned responses into a sorted list with a
 * breadcrumb path ("Orders › Shipping") from their folder hierarchy.
 */
export function flattenCanned(items) {
  const list = Array.isArray(items) ? items : [];
  return list
    .map((r) => ({ ...r, path: (r.folder || "").split("/").filter(Boolean).join(" › ") }))
    .sort((a, b) => a.path.localeCompare(b.path) || a.title.localeCompare(b.title));
}

/** matchCanned filters responses by "/shortcut" or words of the title and text. */
export function matchCanned(list, query) {
  const q = query.trim().toLowerCase();
  if (!q) return list;
  if (q.startsWith("/")) {
    const s = q.slice(1);
    return list
      .filter((r) => (r.shortcut || "").toLowerCase().replace(/^\//, "").startsWith(s))
      .sort((a, b) => (a.shortcut || "").length - (b.shortcut || "").length);
  }
  const words = q.split(/\s+/);
  return list.filter((r) => {
    const hay = `${r.shortcut || ""} ${r.title || ""} ${r.path} ${r.text || ""}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** The visible text of a notice code, falling back to the server's text. */
export function noticeText(ev) {
  return ev.text || (ev.notice || "").replace(/_/g, " ");
}

/** spark draws a sparkline path for values in a w×h box. */
export function sparkPath(values, w, h, pad = 2) {
  if (!values || values.length === 0) return { line: "", area: "" };
  const max = Math.max(1, ...values);
  const n = values.length;
  const x = (i) => (n === 1 ? w / 2 : pad + (i * (w - 2 * pad)) / (n - 1));
  const y = (v) => h - pad - (v / max) * (h - 2 * pad);
  const pts = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  const line = "M" + pts.join("L");
  const area = `${line}L${x(n - 1).toFixed(1)},${h}L${x(0).toFixed(1)},${h}Z`;
  return { line, area };
}

// ---- small shared components ----

export function Icon({ name, size = 16 }) {
  const paths = {
    phone: "M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2",
    video: "M3 7h12v10H3zM15 10l6-3v10l-6-3",
    chat: "M4 6.5A2.5 2.5 0 0 1 6.5 4h11A2.5 2.5 0 0 1 20 6.5v8a2.5 2.5 0 0 1-2.5 2.5H11l-4.5 3.5V17A2.5 2.5 0 0 1 4 14.5z",
    chart: "M4 20V10M10 20V4M16 20v-7M22 20H2",
    archive: "M3 5h18v4H3zM5 9v10h14V9M10 13h4",
    canned: "M5 4h14v16l-7-4-7 4z",
    send: "M12 19V5M5.5 11.5 12 5l6.5 6.5",
    attach: "m20.5 11.5-8.6 8.6a5.6 5.6 0 0 1-8-8l8.6-8.5a3.8 3.8 0 0 1 5.3 5.3l-8.6 8.6a1.9 1.9 0 0 1-2.7-2.7l8-7.9",
    transfer: "M4 8h13l-3-3M20 16H7l3 3",
    users: "M16 19v-1a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4v1M9.5 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6M21 19v-1a4 4 0 0 0-3-3.9M15.5 4.1a3 3 0 0 1 0 5.8",
    end: "M6 6l12 12M18 6 6 18",
    mail: "M3 6h18v12H3zM3 7l9 6 9-6",
    eye: "M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12zM12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6",
    moon: "M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5",
    sun: "M12 4V2M12 22v-2M4 12H2M22 12h-2M5 5l1.5 1.5M17.5 17.5 19 19M5 19l1.5-1.5M17.5 6.5 19 5M12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8",
    logout: "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10",
    file: "M6 3h8l4 4v14H6zM14 3v4h4",
    search: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14M21 21l-5-5",
    plus: "M12 5v14M5 12h14",
    bolt: "M13 3 5 13h6l-1 8 8-10h-6z",
    team: "M8 13a4 4 0 1 0 0-8 4 4 0 0 0 0 8M2 20a6 6 0 0 1 12 0M17 11a3 3 0 1 0 0-6M22 20a5 5 0 0 0-5-5",
  };
  return html`<svg class="ic" width=${size} height=${size} viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d=${paths[name] || ""} /></svg>`;
}

/** An agent's uploaded photo, or initials whose colour the key (an agent
 * id) or else the name picks. Photos from other sites are not shown: the
 * console's pages load images from their own origin only. */
export function Avatar({ name, id, photo, size = "md" }) {
  if (photo && photo.startsWith("/")) return html`<img class=${"avatar avatar-" + size} src=${photo} alt="" />`;
  return html`<span class=${"avatar avatar-" + size} style=${{ background: avatarColor(id ?? name) }} aria-hidden="true">${initials(name)}</span>`;
}

export function StatusDot({ agent }) {
  const cls = !agent || agent.presence === "offline" ? "offline" : agent.presence === "away" ? "away" : agent.status;
  return html`<span class=${"sdot sdot-" + cls} aria-hidden="true"></span>`;
}

/** What a presence source holding an agent away is called. */
const presenceReasons = { meeting: "meeting", call: "on a call" };

export function statusLabel(a) {
  if (!a) return "";
  if (a.presence === "offline") return "Offline";
  if (a.presence === "away") return a.presence_reason ? `Away · ${presenceReasons[a.presence_reason] || a.presence_reason}` : "Away";
  if (a.presence === "busy") return "Busy";
  if (a.status === "ready") return "Ready";
  if (a.status === "wrap_up") return "Wrap-up";
  return a.status_reason ? `Not ready · ${a.status_reason}` : "Not ready";
}


// ---- message text, files, ratings and the visitor's context ----

/** RichText renders message text with its http(s) addresses as links,
 * the same parts the widget makes (richtext.js); never as HTML. */
export function RichText({ text }) {
  return textParts(text).map((p) => (p.href ? html`<a href=${p.href} target="_blank" rel="noopener noreferrer">${p.text}</a>` : p.text));
}

/** Marked renders text with each occurrence of term highlighted. */
export function Marked({ text, term }) {
  return markParts(text, term).map((p) => (p.mark ? html`<mark>${p.text}</mark>` : p.text));
}

/** WebLink is a link for an http(s) address, else the address as text. */
export function WebLink({ href, children }) {
  const u = webURL(href);
  return u ? html`<a href=${u.href} target="_blank" rel="noopener noreferrer">${children || href}</a>` : html`<span>${children || href}</span>`;
}

/** Thumb previews an image attachment of a chat, downloaded with the
 * agent's token; other files render nothing. */
export function Thumb({ chatID, file, token, onOpen }) {
  const [src, setSrc] = useState("");
  const ok = previewable(file);
  useEffect(() => {
    if (!ok) return undefined;
    let url = "";
    let gone = false;
    download(`/api/v1/chats/${encodeURIComponent(chatID)}/files/${encodeURIComponent(file.id)}`, token, file.content_type).then(
      (blob) => {
        if (gone) return;
        url = URL.createObjectURL(blob);
        setSrc(url);
      },
      () => {},
    );
    return () => {
      gone = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [chatID, file && file.id]);
  if (!ok || !src) return null;
  return html`<button type="button" class="thumb-btn" aria-label=${"Open " + file.name} onClick=${onOpen}><img class="thumb" src=${src} alt=${file.name} /></button>`;
}

/** Stars shows a 1–5 rating as stars with its value in words. */
export function Stars({ score }) {
  const n = Math.max(0, Math.min(5, Number(score) || 0));
  return html`<span class="stars" role="img" aria-label=${`Rated ${n} of 5`} title=${`${n} of 5`}>${"★".repeat(n)}<span class="stars-off">${"★".repeat(5 - n)}</span></span>`;
}

/** ratingOf returns a chat's rating: from its view, else from the
 * "rated" notice in its log (a rating made while the console is open). */
export function ratingOf(view, events) {
  if (view && view.rating) return view.rating;
  const n = (events || []).findLast ? (events || []).findLast((e) => e.type === "notice" && e.notice === "rated") : null;
  return n && n.args ? { score: Number(n.args[0]), comment: n.args[1] || "" } : null;
}

/** visitorContext merges the context of the visitor's url events: the
 * browser from the first, the page from the latest. */
export function visitorContext(events) {
  const out = {};
  for (const e of events || []) {
    if (e.type !== "url" || !e.from || e.from.kind !== "visitor") continue;
    const c = e.context || { url: e.url };
    for (const k of ["referrer", "user_agent", "language", "time_zone", "call"]) if (c[k]) out[k] = c[k];
    out.url = c.url || e.url || "";
    out.title = c.title || "";
  }
  return out;
}

/** browser gives a short form of a User-Agent: "Chrome 131 · Windows". */
export function browser(ua) {
  if (!ua) return "";
  const pick = (re) => {
    const m = ua.match(re);
    return m ? m[1].split(".")[0] : "";
  };
  let name = "";
  let v = "";
  if ((v = pick(/Edg(?:e|A|iOS)?\/([\d.]+)/))) name = "Edge";
  else if ((v = pick(/OPR\/([\d.]+)/))) name = "Opera";
  else if ((v = pick(/SamsungBrowser\/([\d.]+)/))) name = "Samsung Internet";
  else if ((v = pick(/(?:Firefox|FxiOS)\/([\d.]+)/))) name = "Firefox";
  else if ((v = pick(/(?:Chrome|CriOS)\/([\d.]+)/))) name = "Chrome";
  else if ((v = pick(/Version\/([\d.]+).*Safari/))) name = "Safari";
  let os = "";
  if (/Windows/.test(ua)) os = "Windows";
  else if (/iPhone|iPad|iPod/.test(ua)) os = "iOS";
  else if (/Android/.test(ua)) os = "Android";
  else if (/CrOS/.test(ua)) os = "ChromeOS";
  else if (/Mac OS X|Macintosh/.test(ua)) os = "macOS";
  else if (/Linux/.test(ua)) os = "Linux";
  const b = name ? `${name}${v ? " " + v : ""}` : "Other browser";
  return os ? `${b} · ${os}` : b;
}

/** localTime is the visitor's clock time now, from its IANA time zone or
 * else its UTC offset in minutes: "14:07 (UTC+1)". */
export function localTime(timeZone, offsetMin, now = new Date()) {
  if (timeZone) {
    try {
      const t = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone });
      const zone = now.toLocaleTimeString([], { timeZone, timeZoneName: "short" }).split(" ").pop();
      return `${t} (${zone})`;
    } catch {
      // an unknown zone: fall back to the offset
    }
  }
  if (offsetMin == null || !Number.isFinite(offsetMin)) return "";
  const d = new Date(now.getTime() + offsetMin * 60000);
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  const sign = offsetMin < 0 ? "-" : "+";
  const a = Math.abs(offsetMin);
  return `${hh}:${mm} (UTC${sign}${Math.floor(a / 60)}${a % 60 ? ":" + String(a % 60).padStart(2, "0") : ""})`;
}

/** useTick re-renders every ms milliseconds (a ticking clock). */
export function useTick(ms) {
  const [, set] = useState(0);
  useEffect(() => {
    const t = setInterval(() => set((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
}
