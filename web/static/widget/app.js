// The widget's chat app, framed by the loader (/widget.js) on the host
// page. It receives its configuration and strings in the URL fragment,
// talks to the native API from Parley's own origin, and keeps the visitor
// token, the chat and the events seen in sessionStorage, so navigating the
// host page and coming back continues the same chat.

import { h, byId, load, save, autosize, length, fileSize, uuid } from "../dom.js";
import { api, upload, Live } from "../api.js";
import { ChatLog, Outbox, TypingSender } from "../chatlog.js";
import { initials, avatarColor } from "../people.js";

const KEY = "parley.widget";
const MAX_CACHED = 500; // events kept for navigation
const HIDDEN = "hidden-"; // client id prefix of messages hidden from the visitor

const $ = Object.fromEntries(
  [
    "card", "head", "chat-title", "chat-status", "leave", "minimize", "banner", "confirm-leave", "leave-yes", "leave-no",
    "start", "greeting", "name", "email", "phone", "question", "start-error", "start-button",
    "offline", "off-name", "off-email", "off-message", "off-error", "off-button", "off-sent", "off-done", "off-done-title", "off-again",
    "chat", "queue", "log", "typing", "composer", "file", "attach", "emoji", "emoji-grid", "text", "send", "counter",
    "post", "post-title", "ended-text", "rating", "stars", "rate-more", "rate-comment", "rate-result",
    "transcript", "transcript-open", "transcript-more", "transcript-email", "transcript-result", "restart", "unavailable",
    "avatar", "guest-avatar", "call-audio", "call-video", "call-request",
  ].map((id) => [id, byId(id)]),
);

// ---- configuration ----

let ctx = {};
try {
  ctx = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}");
} catch {
  // opened without a configuration: built-in defaults below
}
const cfg = { prechatName: "required", prechatEmail: "optional", prechatPhone: "off", prechatQuestion: "required", ...(ctx.cfg || {}) };
const strings = ctx.strings || {};
const hostOrigin = ctx.origin || "";
// The call a new chat asks for (the contact portal's "Audio" and "Video"),
// when the configuration allows that kind of call.
const wantCall = cfg.call && cfg[`${cfg.call}Calls`] ? cfg.call : "";
let limits = { max_message_length: 4000, max_attachment_kb: -1, allowed_attachment_types: [], restricted_attachment_types: [] };

/** Returns the string for key with {0}, {1}… filled in. */
function t(key, ...args) {
  const s = strings[key] || key;
  return s.replace(/\{(\d+)\}/g, (m, i) => (args[i] !== undefined ? String(args[i]) : m));
}

function applyStrings() {
  document.documentElement.lang = ctx.lang || "en";
  for (const el of document.querySelectorAll("[data-t]")) {
    if (strings[el.dataset.t] !== undefined || el.dataset.t === "optional") el.textContent = t(el.dataset.t);
  }
  for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  for (const el of document.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
  $.log.setAttribute("aria-label", t("message"));
}

function applyTheme() {
  const s = document.documentElement.style;
  const set = (v, k) => cfg[k] && s.setProperty(v, cfg[k]);
  set("--head-bg", "headerBackground");
  set("--head-text", "headerText");
  set("--head-text-inactive", "headerTextInactive");
  set("--accent", "highlight");
  set("--online", "onlineColor");
  set("--offline", "offlineColor");
  if (cfg.logo) $.avatar.replaceChildren(h("img", { src: cfg.logo, alt: "" }));
  logo = [...$.avatar.childNodes];
  $.head.classList.toggle("movable", !!cfg.movable);
  inks();
}

// ---- colours that stay readable ----

const rgbOf = (hex) => {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(hex).trim());
  if (!m) return null;
  const x = m[1].length === 3 ? [...m[1]].map((c) => c + c).join("") : m[1];
  return [0, 2, 4].map((i) => parseInt(x.slice(i, i + 2), 16));
};
const luminance = (c) => c.map((v) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
const contrast = (a, b) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};
const hexOf = (c) => "#" + c.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");

// inks derives from the highlight, for the current scheme, readable text
// on it and a 4.5:1 version of it as text on the card.
function inks() {
  const s = document.documentElement.style;
  const accent = rgbOf(cfg.highlight);
  const root = getComputedStyle(document.documentElement);
  const surface = rgbOf(root.getPropertyValue("--surface"));
  const text = rgbOf(root.getPropertyValue("--text"));
  if (!accent || !surface || !text) return;
  const white = [255, 255, 255];
  const dark = [16, 18, 26];
  s.setProperty("--accent-text", hexOf(contrast(accent, white) >= contrast(accent, dark) ? white : dark));
  let ink = accent;
  for (let f = 0.1; contrast(ink, surface) < 4.5 && f <= 1; f += 0.1) ink = accent.map((v, i) => v + (text[i] - v) * f);
  s.setProperty("--accent-ink", hexOf(ink));
}
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", inks);

// Which group the chat goes to: a list of IDs, one ID or one name.
function groupBody() {
  const list = (cfg.groups || []).map((g) => Number(String(g).replace(/^g_/, ""))).filter((n) => n > 0);
  if (list.length) return { groups: list };
  const g = String(cfg.group || "").replace(/^g_/, "");
  if (/^\d+$/.test(g)) return { group_id: Number(g) };
  return g ? { group_name: g } : { group_id: 1 };
}

function title() {
  return cfg.title || t("title");
}

// ---- state ----

let logo = []; // the header's icon or configured logo, shown until an agent is there
let store = load(KEY) || {}; // {token, name, email, phone, chat: {id, lastSeq, events}}
let chat = null; // the open chat
let greeting = null; // the proactive trigger shown above the form (triggers.js)
let saveTimer = 0;
let bannerTimer = 0;

function persist(now) {
  clearTimeout(saveTimer);
  if (now) save(KEY, store);
  else saveTimer = setTimeout(() => save(KEY, store), 150);
}

function show(view) {
  for (const v of ["start", "offline", "off-done", "chat", "unavailable"]) $[v].hidden = v !== view;
}

// ---- pre-chat form ----

const FIELDS = [
  ["name", "prechatName", "nameRequired"],
  ["email", "prechatEmail", "emailRequired"],
  ["phone", "prechatPhone", "phoneRequired"],
  ["question", "prechatQuestion", "questionRequired"],
];

function showForm() {
  show("start");
  $.leave.hidden = true;
  $["confirm-leave"].hidden = true;
  setBanner("");
  $["chat-title"].textContent = title();
  $["chat-status"].textContent = t("subtitle");
  for (const [id, key] of FIELDS) {
    const mode = cfg[key];
    const box = $.start.querySelector(`[data-field=${id}]`);
    box.hidden = mode === "off";
    box.querySelector(".optional").hidden = mode !== "optional";
    $[id].required = mode === "required";
  }
  $["call-request"].hidden = !wantCall;
  if (wantCall) $["call-request"].textContent = t(wantCall === "video" ? "callRequestedVideo" : "callRequestedAudio");
  const preset = { name: store.name || cfg.customerName, email: store.email || cfg.customerEmail, phone: store.phone || cfg.customerPhone, question: cfg.initialMessage };
  for (const [id, v] of Object.entries(preset)) if (v && !$[id].value) $[id].value = v;
}

// greet shows a proactive trigger's greeting ({id, sender, text}) above
// the form, or none; a chat started now begins with it (docs/widget.md).
function greet(m) {
  greeting = m;
  $.greeting.hidden = !m;
  $.greeting.replaceChildren(...(m ? [h("span", { class: "meta", text: m.sender || t("agent") }), h("p", { class: "bubble", text: m.text })] : []));
}

function fieldError(input, message) {
  const p = byId(`${input.id}-error`);
  p.textContent = message || "";
  p.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  return !message;
}

function formAlert(box, title, message, info) {
  box.classList.toggle("info", !!info);
  box.replaceChildren(h("strong", { text: title || "" }), message ? ` ${message}` : "");
  box.hidden = !title;
}

function emailProblem(input, required) {
  const v = input.value.trim();
  if (!v) return required ? t("emailRequired") : "";
  return v.includes("@") && input.checkValidity() ? "" : t("emailInvalid");
}

async function startChat(ev) {
  ev.preventDefault();
  formAlert($["start-error"], "");
  const v = Object.fromEntries(FIELDS.map(([id]) => [id, $[id].value.trim()]));
  const ok = FIELDS.map(([id, key, msg]) => {
    if (cfg[key] === "off") return fieldError($[id], "");
    if (id === "email") return fieldError($.email, emailProblem($.email, cfg[key] === "required"));
    if (!v[id] && cfg[key] === "required") return fieldError($[id], t(msg));
    if (id === "question" && length(v.question) > maxLength()) return fieldError($[id], t("tooLong", maxLength()));
    return fieldError($[id], "");
  });
  if (ok.includes(false)) {
    $.start.querySelector("[aria-invalid=true]").focus();
    return;
  }
  const button = $["start-button"];
  button.disabled = true;
  button.textContent = t("starting");
  const body = {
    ...groupBody(),
    tenant_id: cfg.tenant > 0 ? cfg.tenant : 0,
    name: v.name || cfg.customerName || "",
    email: v.email,
    phone: v.phone,
    message: v.question,
    customer_id: cfg.customerId || "",
    private_data: cfg.privateData || "",
    session_id: cfg.sessionId || "",
    message_to_agent: cfg.initialMessageToAgent || "",
    tz_offset: -new Date().getTimezoneOffset(),
    context: { ...pageContext(), ...(wantCall ? { call: wantCall } : {}) },
  };
  if (cfg.idleTimeout > 0) body.idle_timeout_seconds = cfg.idleTimeout;
  if (cfg.agent > 0) body.agent_id = cfg.agent;
  if (greeting) body.trigger_id = greeting.id;
  try {
    const res = await api("POST", "/api/v1/chats", { token: store.token, body });
    store = { token: res.visitor_token, name: v.name, email: v.email, phone: v.phone, chat: { id: res.chat.id, lastSeq: 0, events: [], call: wantCall }, page: body.context.url };
    persist(true);
    $.question.value = "";
    greet(null);
    openChat(res.chat);
  } catch (err) {
    if (err.code === "closed" && cfg.offlineForm !== false) showOffline();
    else formAlert($["start-error"], t("startFailed"), visitorError(err, "tryAgain"));
  } finally {
    button.disabled = false;
    button.textContent = t("start");
  }
}

// ---- offline form ----

function showOffline() {
  show("offline");
  $.leave.hidden = true;
  $["chat-title"].textContent = title();
  $["chat-status"].replaceChildren(h("span", { class: "dot off", "aria-hidden": "true" }), t("offline"));
  for (const [id, v] of [["off-name", store.name || cfg.customerName], ["off-email", store.email || cfg.customerEmail]]) {
    if (v && !$[id].value) $[id].value = v;
  }
}

async function sendOffline(ev) {
  ev.preventDefault();
  formAlert($["off-error"], "");
  const name = $["off-name"].value.trim();
  const message = $["off-message"].value.trim();
  const ok = [
    fieldError($["off-name"], name ? "" : t("nameRequired")),
    fieldError($["off-email"], emailProblem($["off-email"], true)),
    fieldError($["off-message"], message ? "" : t("messageRequired")),
  ];
  if (ok.includes(false)) {
    $.offline.querySelector("[aria-invalid=true]").focus();
    return;
  }
  const g = groupBody();
  $["off-button"].disabled = true;
  try {
    await api("POST", "/api/v1/offline-messages", {
      body: { tenant_id: cfg.tenant > 0 ? cfg.tenant : 0, group: String(g.group_id || g.group_name || (g.groups || [])[0] || ""), name, email: $["off-email"].value.trim(), message },
    });
    $.offline.reset();
    $["off-sent"].textContent = t("offlineSent", name);
    show("off-done");
    $["off-done-title"].focus();
  } catch (err) {
    formAlert($["off-error"], visitorError(err, "offlineFailed"));
  } finally {
    $["off-button"].disabled = false;
  }
}

// visitorError words a failure for the visitor (server messages are for developers).
function visitorError(err, fallback) {
  return t(err && (err.code === "network" || err.code === "disconnected") ? "networkError" : fallback);
}

// ---- the chat ----

function openChat(view) {
  closeChat();
  const saved = store.chat;
  const c = { id: saved.id, groupName: "", state: "queued", agent: null, guests: new Map(), queue: null, mode: "ws", ended: false, canMail: null, seenSent: 0 };
  chat = c;
  $.log.replaceChildren();
  $.typing.replaceChildren();
  c.log = new ChatLog($.log, $.typing, {
    chatId: c.id,
    token: () => store.token,
    onError: (m) => c.log.note(m, "warn"),
    words: strings,
  });
  c.outbox = new Outbox(c.log, transmit);
  c.typing = new TypingSender(sendTyping);
  show("chat");
  $.composer.hidden = false;
  $.post.hidden = true;
  $.leave.hidden = false;
  for (const e of saved.events || []) if (addEvent(c, e)) track(e);
  c.log.lastSeq = Math.max(c.log.lastSeq, saved.lastSeq || 0);
  restoreCall(c, saved.events || []);
  if (view) applyView(view);
  else update();
  notifyHost({ parley: "chat" });
  if (!c.ended) {
    connect(c);
    $.text.focus();
    reportPage(ctx.page);
  }
  c.log.scroll();
}

// ---- the visitor's page and browser, for the agents (never logged) ----

/** pageContext is what agents see of the visitor's page (from the loader
 * on the host page) and browser; what the server would refuse is left out. */
function pageContext() {
  const p = ctx.page || {};
  const web = (u) => (typeof u === "string" && /^https?:\/\//i.test(u) && u.length <= 2000 ? u : "");
  let tz = "";
  try {
    tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    // no Intl time zone: the agents fall back to tz_offset
  }
  const lang = navigator.language || "";
  return {
    url: web(p.url),
    title: String(p.title || "").slice(0, 300),
    referrer: web(p.referrer),
    user_agent: navigator.userAgent.slice(0, 500),
    language: lang.length <= 35 ? lang : "",
    time_zone: /^[A-Za-z0-9/_+-]{1,64}$/.test(tz) ? tz : "",
  };
}

/** reportPage tells the agents that the visitor is on another page. */
function reportPage(page) {
  const c = chat;
  const url = page && typeof page.url === "string" && /^https?:\/\//i.test(page.url) ? page.url : "";
  if (!c || c.ended || !url || url.length > 2000 || url === store.page) return;
  store.page = url;
  persist();
  const body = { url, title: String(page.title || "").slice(0, 300) };
  api("POST", `/api/v1/chats/${encodeURIComponent(c.id)}/page`, { token: store.token, body }).catch(() => {});
}

// addEvent shows a stored event, hiding what the visitor must not see.
function addEvent(c, e) {
  if (e.client_id && e.client_id.startsWith(HIDDEN)) {
    if (e.seq <= c.log.lastSeq) return false;
    c.log.lastSeq = e.seq;
    return true;
  }
  if (cfg.hideAgentName && e.from && e.from.kind === "agent") e = { ...e, from: { ...e.from, name: t("agent") } };
  return c.log.add(e);
}

function closeChat() {
  const c = chat;
  if (!c) return;
  chat = null;
  if (c.live) c.live.stop();
  if (c.poll) c.poll.abort();
  clearTimeout(c.leaveTimer);
  clearTimeout(c.stopTimer);
  clearTimeout(c.postTimer);
  clearTimeout(c.typing && c.typing.idle);
}

function applyView(v) {
  const c = chat;
  if (!c || v.id !== c.id) return;
  c.state = v.state;
  if (v.group_name) c.groupName = v.group_name;
  c.agent = v.agent || null;
  c.queue = v.queue || null;
  // Other agents: a supervisor who barged in, a colleague in a conference.
  c.guests = new Map(
    (v.participants || []).filter((p) => p.kind === "agent" && !p.left_at && (!c.agent || p.agent_id !== c.agent.agent_id)).map((p) => [p.agent_id, p]),
  );
  if (typeof v.transcript_mail === "boolean") c.canMail = v.transcript_mail;
  if (v.state === "terminated") ended(v.cause);
  else update();
}

// ---- calls: call.js loads only when a call starts or rings ----

function calls(c) {
  const path = `/api/v1/chats/${encodeURIComponent(c.id)}/`;
  return (c.calls ||= import("../call.js").then(
    ({ Calls }) =>
      new Calls({
        mine: (f) => f.kind === "visitor",
        send: (body) => api("POST", path + "signal", { token: store.token, body }),
        ice: (id) => api("GET", `${path}calls/${encodeURIComponent(id)}/ice`, { token: store.token }),
        t: (k, f, ...a) => (strings[k] ? t(k, ...a) : f.replace("{0}", a[0])),
        mount: $.card,
        peer: () => (c.agent && !cfg.hideAgentName ? c.agent.name : t("agent")),
        notify: (m) => c.log.note(m, "warn"),
      }),
  ));
}

// ringRequested starts the call the chat asked for, once, when an agent
// has accepted it.
function ringRequested(c) {
  const saved = store.chat;
  if (c.state !== "handling" || c.ended || !saved || saved.id !== c.id || !saved.call) return;
  const media = saved.call;
  saved.call = "";
  persist(true);
  calls(c).then((k) => k.start(media));
}

// restoreCall picks up a call the chat's log shows open when the page
// changed during it (call.js reads which).
function restoreCall(c, events) {
  if (c.state === "handling" && events.some((e) => e.type === "signal")) calls(c).then((k) => k.restore(events));
}

function callEvent(c, e) {
  if (c.calls || (e.type === "signal" && e.signal.action === "invite" && e.from.kind === "agent")) calls(c).then((k) => k.event(e));
}

function handleEvent(e) {
  const c = chat;
  if (!c || e.chat_id !== c.id) return;
  if (!e.seq) {
    if (e.type === "rtc") callEvent(c, e);
    else if (e.type === "typing") c.log.typing(cfg.hideAgentName && e.from.kind === "agent" ? { ...e, from: { ...e.from, name: t("agent") } } : e);
    else if (e.type === "queue" && c.state === "queued") {
      c.queue = e.queue;
      update();
    }
    return;
  }
  if (!addEvent(c, e)) return;
  if (e.type === "signal") callEvent(c, e);
  markSeen(c);
  const saved = store.chat;
  saved.lastSeq = e.seq;
  saved.events.push(e);
  if (saved.events.length > MAX_CACHED) saved.events.splice(0, saved.events.length - MAX_CACHED);
  persist();
  track(e);
}

function track(e) {
  const c = chat;
  if (!c) return;
  if (e.type === "state" && e.state) {
    c.state = e.state.state;
    if (c.state === "queued") {
      c.agent = null;
      c.guests.clear();
      c.queue = e.state.queue || c.queue;
    }
    if (c.state === "terminated") {
      ended(e.state.cause);
      return stopTransport(c);
    }
  } else if (e.type === "joined" && e.from.kind === "agent") {
    // The chat's agent keeps the header; an agent joining later is a guest.
    if (!c.agent || c.agent.agent_id === e.from.agent_id) c.agent = e.from;
    else c.guests.set(e.from.agent_id, e.from);
  } else if (e.type === "left" && e.from.kind === "agent") {
    if (c.agent && c.agent.agent_id === e.from.agent_id) c.agent = null;
    c.guests.delete(e.from.agent_id);
  }
  update();
}

function queueText(q) {
  if (!q) return t("waiting");
  if (q.position === 0) return t("connecting");
  let s = q.position === 1 ? t("queueNext") : t("queuePosition", q.position);
  if (cfg.showEstimatedWaitTime !== false && q.estimated_wait >= 0) {
    s += ` · ${q.estimated_wait < 60 ? t("waitShort") : t("waitMinutes", Math.round(q.estimated_wait / 60))}`;
  }
  return s;
}

function update() {
  const c = chat;
  if (!c) return;
  $.queue.hidden = c.state !== "queued";
  $["call-audio"].hidden = !cfg.audioCalls || c.state !== "handling";
  $["call-video"].hidden = !cfg.videoCalls || c.state !== "handling";
  ringRequested(c);
  $["chat-title"].textContent = title();
  if (c.state === "queued") {
    $["chat-status"].textContent = t("waiting");
    $.queue.textContent = queueText(c.queue);
  } else if (c.state === "handling") {
    const who = c.agent && !cfg.hideAgentName ? c.agent.name : "";
    if (who) $["chat-title"].textContent = who;
    const guests = [...c.guests.values()].map((g) => (cfg.hideAgentName ? t("agent") : g.name));
    $["chat-status"].replaceChildren(
      h("span", { class: "dot", "aria-hidden": "true" }),
      t("online"),
      ...(guests.length ? [" · ", h("span", { class: "guests", text: t("alsoHere", [...new Set(guests)].join(", ")) })] : []),
    );
  } else {
    $["chat-status"].textContent = t("ended");
  }
  drawAvatars(c);
}

// drawAvatars shows the agent's face in the header, a guest's smaller beside it.
function drawAvatars(c) {
  const agent = c.state === "handling" && !cfg.hideAgentName ? c.agent : null;
  face($.avatar, agent);
  const guest = c.state === "handling" && !cfg.hideAgentName ? [...c.guests.values()].pop() : null;
  face($["guest-avatar"], guest);
  $["guest-avatar"].hidden = !(c.state === "handling" && c.guests.size);
  $.head.classList.toggle("with-guest", !$["guest-avatar"].hidden);
}

function face(el, p) {
  if (!p) {
    if (el === $.avatar && el.dataset.who) {
      el.replaceChildren(...logo);
      el.style.background = "";
      el.classList.remove("face");
      delete el.dataset.who;
    }
    return;
  }
  const photo = photos.get(p.agent_id);
  if (photo === undefined && p.agent_id) loadPhoto(p.agent_id);
  const who = `${p.agent_id}:${p.name}:${photo || ""}`;
  if (el.dataset.who === who) return;
  el.dataset.who = who;
  el.classList.add("face");
  el.style.background = avatarColor(p.agent_id || p.name);
  el.replaceChildren(photo ? h("img", { src: photo, alt: "" }) : initials(p.name));
}

// Agents' photo_url by id ("" for none), asked for once.
const photos = new Map();

async function loadPhoto(id) {
  photos.set(id, "");
  try {
    const a = await api("GET", `/api/v1/public/agents/${id}?tenant_id=${cfg.tenant > 0 ? cfg.tenant : 0}`);
    if (!a.photo_url) return;
    photos.set(id, a.photo_url);
    if (chat) drawAvatars(chat);
  } catch {
    // initials stand in
  }
}

// ---- read receipts ----

// markSeen sends a read receipt while the card is on screen (a closed
// card's frame has no size).
function markSeen(c) {
  if (!c || c.ended || document.hidden || !innerWidth || !innerHeight || $.chat.hidden) return;
  const seq = c.log.lastTheirs;
  if (!seq || seq <= c.seenSent) return;
  if (c.mode === "poll") {
    c.seenSent = seq;
    api("POST", `/api/v1/chats/${c.id}/seen`, { token: store.token, body: { seq } }).catch(() => {});
  } else if (c.live && c.live.send({ type: "seen", chat_id: c.id, seq })) {
    c.seenSent = seq;
  }
}

function ended(cause) {
  const c = chat;
  if (!c || c.ended) return;
  c.ended = true;
  c.state = "terminated";
  update();
  const hadFocus = $.composer.contains(document.activeElement) || $["confirm-leave"].contains(document.activeElement);
  clearTimeout(c.leaveTimer);
  clearTimeout(c.typing.idle);
  c.outbox.close(t("ended"));
  $.composer.hidden = true;
  $.counter.hidden = true;
  $.leave.hidden = true;
  $["confirm-leave"].hidden = true;
  $.typing.replaceChildren();
  setBanner("");
  $["ended-text"].textContent = strings[`cause_${cause}`] || t("ended");
  $.rating.hidden = !cfg.rating;
  $.transcript.hidden = !offerTranscript(c);
  $.emoji.setAttribute("aria-expanded", "false");
  $["emoji-grid"].hidden = true;
  if (store.email && !$["transcript-email"].value) $["transcript-email"].value = store.email;
  drawStars();
  if (cfg.showPostChat === false) {
    $.post.hidden = false;
    $.rating.hidden = $.transcript.hidden = true;
  } else if (cfg.timeoutAfterConversation > 0) {
    c.postTimer = setTimeout(() => showPost(hadFocus), cfg.timeoutAfterConversation * 1000);
    $.post.hidden = false;
    $.rating.hidden = $.transcript.hidden = true;
  } else {
    showPost(hadFocus);
  }
  if (c.log.ended) stopTransport(c);
  else c.stopTimer = setTimeout(() => stopTransport(c), 5000);
}

function showPost(focus) {
  $.post.hidden = false;
  $.rating.hidden = !cfg.rating;
  $.transcript.hidden = !offerTranscript(chat);
  $.log.scrollTop = $.log.scrollHeight;
  if (focus) $["post-title"].focus();
}

// offerTranscript: asked for, and the chat's group can mail (chat view, else group status).
function offerTranscript(c) {
  if (!cfg.transcript) return false;
  if (c && typeof c.canMail === "boolean") return c.canMail;
  return !!(ctx.status && ctx.status.transcript_mail);
}

function drawStars() {
  $.stars.replaceChildren(
    ...[1, 2, 3, 4, 5].map((n) =>
      h("label", { class: "star" }, h("input", { type: "radio", name: "score", value: n, "aria-label": t("rateStar", n) }), h("span", { "aria-hidden": "true", text: "★" })),
    ),
  );
  $["rate-result"].textContent = "";
  $["transcript-result"].textContent = "";
  $["rate-more"].hidden = true;
  $["transcript-more"].hidden = true;
  $["transcript-open"].setAttribute("aria-expanded", "false");
  for (const el of $.rating.elements) el.disabled = false;
}

async function sendRating(ev) {
  ev.preventDefault();
  const score = Number(new FormData($.rating).get("score"));
  if (!score || !store.chat) return;
  try {
    await api("POST", `/api/v1/chats/${store.chat.id}/rating`, { token: store.token, body: { score, comment: $["rate-comment"].value.trim() } });
    $["rate-result"].textContent = t("rateThanks");
    for (const el of $.rating.elements) el.disabled = true;
  } catch (err) {
    $["rate-result"].textContent = visitorError(err, "rateFailed");
  }
}

async function sendTranscript(ev) {
  ev.preventDefault();
  const email = $["transcript-email"].value.trim();
  const problem = emailProblem($["transcript-email"], true);
  if (problem || !store.chat) {
    $["transcript-result"].textContent = problem;
    return;
  }
  try {
    await api("POST", `/api/v1/chats/${store.chat.id}/transcript`, { token: store.token, body: { email } });
    $["transcript-result"].textContent = t("transcriptSent", email);
  } catch (err) {
    $["transcript-result"].textContent = visitorError(err, "transcriptFailed");
  }
}

function stopTransport(c) {
  clearTimeout(c.stopTimer);
  if (c.live) c.live.stop();
  if (c.poll) c.poll.abort();
}

function restart() {
  closeChat();
  store.chat = null;
  persist(true);
  showForm();
  ($.name.value || $.name.closest(".field").hidden ? $.question : $.name).focus();
}

function expired() {
  closeChat();
  store = { name: store.name, email: store.email, phone: store.phone };
  persist(true);
  showForm();
  formAlert($["start-error"], t("sessionEnded"), "", true);
}

// ---- transport ----

function connect(c, probe) {
  c.live = new Live({
    failures: probe ? 1 : 3,
    token: store.token,
    chats: () => ({ [c.id]: c.log.lastSeq }),
    onFrame: (f) => {
      if (chat !== c) return;
      if (f.type === "chat") applyView(f.chat);
      else if (f.type === "event") handleEvent(f.event);
      else if (f.type === "error" && f.error) {
        if (f.error.code === "not_found" || f.error.code === "forbidden") expired();
        else c.log.note(f.error.message, "warn");
      }
    },
    onStatus: (s) => {
      if (chat !== c) return;
      if (s === "online") {
        setBanner("");
        markSeen(c);
        if (c.mode === "poll") {
          c.mode = "ws";
          c.poll.abort();
        }
        c.outbox.flush();
      } else if (s === "offline") {
        setBanner(t("reconnecting"), 1200);
      } else if (s === "denied") {
        expired();
      }
    },
    onFallback: () => {
      if (!probe || c.mode === "ws") poll(c);
    },
  });
  c.live.start();
}

async function poll(c) {
  c.mode = "poll";
  c.poll = new AbortController();
  const opts = () => ({ token: store.token, signal: c.poll.signal });
  let delay = 1000;
  let polls = 0;
  try {
    applyView(await api("GET", `/api/v1/chats/${c.id}`, opts()));
  } catch {
    // the polls below report problems
  }
  c.outbox.flush();
  while (chat === c && !c.log.ended && c.mode === "poll") {
    try {
      const r = await api("GET", `/api/v1/chats/${c.id}/events?after=${c.log.lastSeq}&wait=25`, opts());
      for (const e of r.events || []) handleEvent(e);
      if (chat === c && r.last_seq > c.log.lastSeq) {
        c.log.lastSeq = r.last_seq;
        store.chat.lastSeq = r.last_seq;
        persist();
      }
      delay = 1000;
      setBanner("");
      c.outbox.flush();
      if (++polls % 6 === 0 && chat === c && c.mode === "poll" && c.live.stopped) connect(c, true);
    } catch (err) {
      if (err.name === "AbortError" || chat !== c) return;
      if (err.status === 401 || err.status === 403 || err.status === 404) return expired();
      setBanner(t("reconnecting"), 0);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  }
}

function transmit(text, clientId) {
  const c = chat;
  if (c.mode === "poll") {
    return api("POST", `/api/v1/chats/${c.id}/messages`, { token: store.token, body: { text, client_id: clientId } });
  }
  return c.live.request({ type: "send", chat_id: c.id, text, client_id: clientId }).then((f) => f.event);
}

function sendTyping(typing) {
  const c = chat;
  if (!c || c.ended) return;
  if (c.mode === "poll") {
    api("POST", `/api/v1/chats/${c.id}/typing`, { token: store.token, body: { typing } }).catch(() => {});
  } else {
    c.live.send({ type: "typing", chat_id: c.id, typing });
  }
}

function setBanner(text, delay = 0) {
  clearTimeout(bannerTimer);
  if (!text) {
    $.banner.hidden = true;
    return;
  }
  bannerTimer = setTimeout(() => {
    $.banner.textContent = text;
    $.banner.hidden = false;
  }, delay);
}

// ---- composer ----

const fit = autosize($.text);

// maxLength is the lesser of the widget's and the server's limit.
function maxLength() {
  const w = cfg.maxMessageLength > 0 ? cfg.maxMessageLength : Infinity;
  return Math.min(w, limits.max_message_length);
}

function maxAttachmentKB() {
  const s = limits.max_attachment_kb;
  const w = cfg.maxAttachmentKB;
  if (s === 0 || w === 0) return 0;
  if (s < 0) return w;
  return w < 0 ? s : Math.min(s, w);
}

function updateCounter() {
  const n = length($.text.value);
  const max = maxLength();
  $.counter.hidden = n < max * 0.8 || $.composer.hidden;
  $.counter.classList.toggle("over", n > max);
  $.counter.textContent = n > max ? t("charsOver", n - max) : t("charsLeft", max - n);
  $.send.disabled = n > max;
}

function sendMessage(ev) {
  ev.preventDefault();
  const c = chat;
  const text = $.text.value;
  if (!c || c.ended || !text.trim() || length(text) > maxLength()) return;
  c.typing.stop();
  c.outbox.send(text);
  $.text.value = "";
  fit();
  updateCounter();
  $.text.focus();
}

function attach() {
  const c = chat;
  const f = $.file.files[0];
  $.file.value = "";
  if (!c || c.ended || !f) return;
  const i = f.name.lastIndexOf(".");
  const ext = i > 0 ? f.name.slice(i + 1).toLowerCase() : "";
  const allowed = (cfg.allowedAttachmentTypes || []).length ? cfg.allowedAttachmentTypes : limits.allowed_attachment_types || [];
  const restricted = [...(cfg.restrictedAttachmentTypes || []), ...(limits.restricted_attachment_types || [])];
  const max = maxAttachmentKB();
  let problem = "";
  if (f.size === 0) problem = t("fileEmpty");
  else if (max > 0 && f.size > max * 1024) problem = t("fileTooBig", fileSize(f.size), fileSize(max * 1024));
  else if (!ext) problem = t("fileNoExtension");
  else if (allowed.length ? !allowed.includes(ext) : restricted.includes(ext)) problem = t("fileType", ext);
  if (problem) {
    c.log.note(t("fileRefused", f.name, problem), "warn");
    c.log.scroll();
    return;
  }
  let up = null;
  const ui = c.log.uploading(f, () => up && up.abort());
  up = upload(`/api/v1/chats/${c.id}/files?name=${encodeURIComponent(f.name)}`, f, store.token, ui.progress);
  up.done.then(ui.done, (err) => ui.fail(err.message));
}

// ---- emoji ----

// A curated grid of common emoji: no library, no search.
const EMOJI = "😀 😂 😊 😍 😉 😎 🤔 😅 😢 😮 🙏 👍 👎 👏 👋 🙌 💪 ✅ ❌ ❤️ 🎉 🔥 ⭐ 📦 🚚 💶 📅 ⏰ ☕ 🙂".split(" ");

function toggleEmoji(open = $["emoji-grid"].hidden) {
  const grid = $["emoji-grid"];
  if (open && !grid.childElementCount) {
    grid.append(...EMOJI.map((e) => h("button", { type: "button", class: "emoji", text: e, "aria-label": e })));
  }
  grid.hidden = !open;
  $.emoji.setAttribute("aria-expanded", String(open));
  if (open) grid.firstElementChild.focus();
}

// insertEmoji inserts at the composer's caret.
function insertEmoji(ev) {
  const b = ev.target.closest("button.emoji");
  if (!b) return;
  const ta = $.text;
  const at = ta.selectionStart ?? ta.value.length;
  ta.setRangeText(b.textContent, at, ta.selectionEnd ?? at, "end");
  toggleEmoji(false);
  ta.focus();
  ta.dispatchEvent(new Event("input"));
}

// ---- leave ----

function askLeave() {
  $["confirm-leave"].hidden = false;
  $["leave-no"].focus();
}

function cancelLeave() {
  $["confirm-leave"].hidden = true;
  $.leave.focus();
}

async function leave() {
  const c = chat;
  if (!c || c.ended) return;
  $["leave-yes"].disabled = true;
  try {
    await api("POST", `/api/v1/chats/${c.id}/leave`, { token: store.token });
    $["confirm-leave"].hidden = true;
    c.leaveTimer = setTimeout(() => chat === c && !c.ended && ended("visitor_left"), 3000);
  } catch (err) {
    $["confirm-leave"].hidden = true;
    c.log.note(visitorError(err, "leaveFailed"), "warn");
  } finally {
    $["leave-yes"].disabled = false;
  }
}

// ---- the host page ----

function notifyHost(msg) {
  if (window.parent !== window && hostOrigin) window.parent.postMessage(msg, hostOrigin);
}

// The host page may send a message as the visitor (F1.10), only from the
// allowed origin: the configured one, else the page that framed us.
function onHostMessage(ev) {
  const m = ev.data;
  if (!m || typeof m !== "object") return;
  // The loader in the framing page moves focus into the card it opened.
  if (m.parley === "focus" && ev.source === window.parent) {
    const first = [...$.card.querySelectorAll("form:not([hidden]) input, #restart")].find((el) => el.offsetParent);
    (chat && !chat.ended ? $.text : first)?.focus();
    return;
  }
  // The loader reports the host page's navigations (history, hash).
  if (m.parley === "page" && ev.source === window.parent && ev.origin === hostOrigin) {
    reportPage(m);
    return;
  }
  if (m.parley === "trigger" && ev.source === window.parent && ev.origin === hostOrigin) {
    if (!chat && !$.start.hidden) greet(m);
    return;
  }
  const allowed = cfg.postedMessageAllowedOrigin || hostOrigin;
  if (!allowed || (allowed !== "*" && ev.origin !== allowed)) return;
  if (m.parley !== "send" || typeof m.text !== "string") return;
  const c = chat;
  if (!c || c.ended || !m.text.trim() || length(m.text) > maxLength()) return;
  if (m.hideLocal) transmit(m.text, HIDDEN + uuid()).catch(() => {});
  else c.outbox.send(m.text);
}

// Dragging the header moves the card on the host page (AllowMovingChatCard).
function dragHeader(ev) {
  if (!cfg.movable || ev.button !== 0 || ev.target.closest("button")) return;
  let x = ev.screenX;
  let y = ev.screenY;
  const move = (e) => {
    notifyHost({ parley: "move", dx: e.screenX - x, dy: e.screenY - y });
    x = e.screenX;
    y = e.screenY;
  };
  const up = () => {
    $.head.removeEventListener("pointermove", move);
    $.head.removeEventListener("pointerup", up);
  };
  $.head.setPointerCapture(ev.pointerId);
  $.head.addEventListener("pointermove", move);
  $.head.addEventListener("pointerup", up);
}

// ---- wiring ----

$.start.addEventListener("submit", startChat);
$.offline.addEventListener("submit", sendOffline);
for (const input of document.querySelectorAll("input, textarea")) input.addEventListener("input", () => document.getElementById(`${input.id}-error`) && fieldError(input, ""));
$.composer.addEventListener("submit", sendMessage);
$.text.addEventListener("input", () => {
  updateCounter();
  if (chat && !chat.ended) chat.typing.input($.text.value.trim() !== "");
});
$.text.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) sendMessage(e);
});
$.attach.addEventListener("click", () => $.file.click());
$.emoji.addEventListener("click", () => toggleEmoji());
$["emoji-grid"].addEventListener("click", insertEmoji);
$["emoji-grid"].addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  e.stopPropagation();
  toggleEmoji(false);
  $.emoji.focus();
});
$.stars.addEventListener("change", () => {
  $["rate-more"].hidden = false;
});
$["transcript-open"].addEventListener("click", () => {
  const open = $["transcript-more"].hidden;
  $["transcript-more"].hidden = !open;
  $["transcript-open"].setAttribute("aria-expanded", String(open));
  if (open) $["transcript-email"].focus();
});
$["off-again"].addEventListener("click", () => {
  showOffline();
  $["off-message"].focus();
});
$.file.addEventListener("change", attach);
$.leave.addEventListener("click", askLeave);
for (const m of ["audio", "video"]) $[`call-${m}`].addEventListener("click", () => chat && calls(chat).then((k) => k.start(m)));
$["leave-no"].addEventListener("click", cancelLeave);
$["leave-yes"].addEventListener("click", leave);
$["confirm-leave"].addEventListener("keydown", (e) => e.key === "Escape" && cancelLeave());
$.restart.addEventListener("click", restart);
$.rating.addEventListener("submit", sendRating);
$.transcript.addEventListener("submit", sendTranscript);
$.minimize.addEventListener("click", () => notifyHost({ parley: "close" }));
$.head.addEventListener("pointerdown", dragHeader);
document.addEventListener("keydown", (e) => e.key === "Escape" && $["confirm-leave"].hidden && notifyHost({ parley: "close" }));
window.addEventListener("message", onHostMessage);
for (const [target, ev] of [[document, "visibilitychange"], [window, "resize"], [window, "focus"]]) target.addEventListener(ev, () => markSeen(chat));

applyStrings();
applyTheme();
api("GET", "/api/v1/config").then(
  (c) => {
    limits = { ...limits, ...c };
    $.attach.hidden = maxAttachmentKB() === 0;
    const allowed = limits.allowed_attachment_types || [];
    if (allowed.length) $.file.accept = allowed.map((x) => `.${x}`).join(",");
    updateCounter();
  },
  () => {},
);

if (store.token && store.chat && store.chat.id) openChat(null);
else if (ctx.status && ctx.status.open === false && cfg.offlineForm !== false) showOffline();
else showForm();
