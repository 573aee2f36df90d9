// The visitor demo page: start a chat with a group, then chat over the
// WebSocket with resume (long-polling when WebSockets keep failing). The
// visitor token, the chat and the events seen are kept in sessionStorage
// so a reload continues the conversation.

import { h, byId, load, save, autosize, length, fileSize } from "./dom.js";
import { api, upload, Live } from "./api.js";
import { ChatLog, Outbox, TypingSender, queueText, causeText } from "./chatlog.js";

const KEY = "parley.visitor";
const GROUPS = { 1: "Support", 2: "Sales" };
const MAX_CACHED = 500; // events kept for a reload

const $ = Object.fromEntries(
  [
    "chat-card", "chat-title", "chat-status", "leave", "banner", "confirm-leave", "leave-yes", "leave-no",
    "start", "name", "email", "question", "start-error", "start-button",
    "chat", "queue", "log", "typing", "composer", "file", "attach", "text", "send", "counter", "ended", "ended-text", "restart",
  ].map((id) => [id, byId(id)]),
);

let cfg = { max_message_length: 4000, max_attachment_kb: -1, allowed_attachment_types: [], restricted_attachment_types: [] };
let store = load(KEY) || {}; // {token, name, email, chat: {id, group, lastSeq, events}}
let chat = null; // the open chat: {id, state, agent, queue, log, outbox, typing, live, poll, mode, ended}
let saveTimer = 0;
let bannerTimer = 0;
let unread = 0;

function persist(now) {
  clearTimeout(saveTimer);
  if (now) save(KEY, store);
  else saveTimer = setTimeout(() => save(KEY, store), 150);
}

// ---- start form ----

function showForm() {
  $.start.hidden = false;
  $.chat.hidden = true;
  $.leave.hidden = true;
  $["confirm-leave"].hidden = true;
  setBanner("");
  $["chat-title"].textContent = "Chat with us";
  $["chat-status"].textContent = "We usually answer within a few minutes.";
  if (store.name && !$.name.value) $.name.value = store.name;
  if (store.email && !$.email.value) $.email.value = store.email;
}

function fieldError(input, message) {
  const p = byId(`${input.id}-error`);
  p.textContent = message || "";
  p.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  return !message;
}

function formAlert(title, message, info) {
  const box = $["start-error"];
  box.classList.toggle("info", !!info);
  box.replaceChildren(h("strong", { text: title }), message || "");
  box.hidden = !title;
}

async function startChat(ev) {
  ev.preventDefault();
  formAlert("");
  const name = $.name.value.trim();
  const email = $.email.value.trim();
  const question = $.question.value.trim();
  const ok = [
    fieldError($.name, name ? "" : "Please tell us your name."),
    fieldError($.email, !email || (email.includes("@") && $.email.checkValidity()) ? "" : "This does not look like an email address."),
    fieldError(
      $.question,
      !question ? "Please write your question." : length(question) > cfg.max_message_length ? `Please keep it under ${cfg.max_message_length} characters.` : "",
    ),
  ];
  if (ok.includes(false)) {
    $.start.querySelector("[aria-invalid=true]").focus();
    return;
  }
  const group = Number(new FormData($.start).get("group")) || 1;
  const button = $["start-button"];
  button.disabled = true;
  button.textContent = "Starting…";
  try {
    const res = await api("POST", "/api/v1/chats", { token: store.token, body: { group_id: group, name, email, message: question } });
    store = { token: res.visitor_token, name, email, chat: { id: res.chat.id, group, lastSeq: 0, events: [] } };
    persist(true);
    $.question.value = "";
    openChat(res.chat);
  } catch (err) {
    if (err.code === "closed") {
      const other = GROUPS[group === 1 ? 2 : 1];
      formAlert(`${GROUPS[group]} is not available right now`, `${err.message} You can also try ${other}.`, true);
    } else {
      formAlert("The chat could not be started", err.message);
    }
  } finally {
    button.disabled = false;
    button.textContent = "Start chat";
  }
}

// ---- the chat ----

function openChat(view) {
  closeChat();
  const saved = store.chat;
  const c = { id: saved.id, groupName: GROUPS[saved.group] || "Chat", state: "queued", agent: null, queue: null, mode: "ws", ended: false };
  chat = c;
  $.log.replaceChildren();
  $.typing.replaceChildren();
  c.log = new ChatLog($.log, $.typing, {
    viewer: "visitor",
    chatId: c.id,
    token: () => store.token,
    onError: (m) => c.log.note(m, "warn"),
  });
  c.outbox = new Outbox(c.log, transmit);
  c.typing = new TypingSender(sendTyping);
  $.start.hidden = true;
  $.chat.hidden = false;
  $.composer.hidden = false;
  $.ended.hidden = true;
  $.leave.hidden = false;
  for (const e of saved.events || []) {
    if (c.log.add(e)) track(e);
  }
  c.log.lastSeq = Math.max(c.log.lastSeq, saved.lastSeq || 0);
  if (view) applyView(view);
  else update();
  if (!c.ended) {
    connect(c);
    $.text.focus();
  }
  c.log.scroll();
}

function closeChat() {
  const c = chat;
  if (!c) return;
  chat = null;
  if (c.live) c.live.stop();
  if (c.poll) c.poll.abort();
  clearTimeout(c.leaveTimer);
  clearTimeout(c.stopTimer);
  clearTimeout(c.typing && c.typing.idle);
}

function applyView(v) {
  const c = chat;
  if (!c || v.id !== c.id) return;
  c.state = v.state;
  if (v.group_name) c.groupName = v.group_name;
  c.agent = v.agent || null;
  c.queue = v.queue || null;
  if (v.state === "terminated") ended(v.cause);
  else update();
}

// handleEvent takes a stored or ephemeral event from the WebSocket or a poll.
function handleEvent(e) {
  const c = chat;
  if (!c || e.chat_id !== c.id) return;
  if (!e.seq) {
    if (e.type === "typing") c.log.typing(e);
    else if (e.type === "queue" && c.state === "queued") {
      c.queue = e.queue;
      update();
    }
    return;
  }
  if (!c.log.add(e)) return;
  const saved = store.chat;
  saved.lastSeq = e.seq;
  saved.events.push(e);
  if (saved.events.length > MAX_CACHED) saved.events.splice(0, saved.events.length - MAX_CACHED);
  persist();
  if (document.hidden && e.from && e.from.kind === "agent" && (e.type === "message" || e.type === "file")) {
    unread++;
    document.title = `(${unread}) Parley demo`;
  }
  track(e);
}

// track follows the chat's state through its events.
function track(e) {
  const c = chat;
  if (!c) return;
  if (e.type === "state" && e.state) {
    const was = c.state;
    c.state = e.state.state;
    if (c.state === "queued") {
      c.agent = null;
      c.queue = e.state.queue || c.queue;
      // A transfer: the chat may have moved to another group.
      if (was === "handling") refreshGroup(c);
    }
    if (c.state === "terminated") {
      ended(e.state.cause);
      return stopTransport(c);
    }
  } else if (e.type === "joined" && e.from.kind === "agent") {
    c.agent = e.from;
  } else if (e.type === "left" && e.from.kind === "agent" && c.agent && c.agent.agent_id === e.from.agent_id) {
    c.agent = null;
  }
  update();
}

// refreshGroup reloads the name of the chat's group after a transfer.
function refreshGroup(c) {
  api("GET", `/api/v1/chats/${c.id}`, { token: store.token }).then(
    (v) => {
      if (chat === c && v.group_name) {
        c.groupName = v.group_name;
        update();
      }
    },
    () => {},
  );
}

// update shows the chat's state in the card's header.
function update() {
  const c = chat;
  if (!c) return;
  const group = c.groupName;
  $.queue.hidden = c.state !== "queued";
  if (c.state === "queued") {
    $["chat-title"].textContent = `${group} chat`;
    $["chat-status"].textContent = "Waiting for an agent";
    $.queue.textContent = queueText(c.queue);
  } else if (c.state === "handling") {
    $["chat-title"].textContent = c.agent ? c.agent.name || "Your agent" : `${group} chat`;
    $["chat-status"].replaceChildren(h("span", { class: "live", "aria-hidden": "true" }), `Online · ${group}`);
  } else {
    $["chat-title"].textContent = `${group} chat`;
    $["chat-status"].textContent = "The chat has ended";
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
  c.outbox.close("the chat has ended");
  $.composer.hidden = true;
  $.counter.hidden = true;
  $.leave.hidden = true;
  $["confirm-leave"].hidden = true;
  $["ended-text"].textContent = "This chat has ended.";
  $.ended.hidden = false;
  $.typing.replaceChildren();
  setBanner("");
  // The chat's last events may still be on their way (a snapshot told us
  // first); the transport stops when the end event arrives.
  if (c.log.ended) stopTransport(c);
  else c.stopTimer = setTimeout(() => stopTransport(c), 5000);
  if (hadFocus) $.restart.focus();
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
  ($.name.value ? $.question : $.name).focus();
}

// expired forgets a visitor identity the server no longer knows.
function expired(message) {
  closeChat();
  store = { name: store.name, email: store.email };
  persist(true);
  showForm();
  formAlert("Your chat session has ended", message || "Please start a new chat.", true);
}

// ---- transport ----

// connect follows the chat over the WebSocket. A probe is a single
// attempt made while long-polling; when it succeeds, polling stops.
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
        if (f.error.code === "not_found" || f.error.code === "forbidden") expired("This chat is no longer available. Please start a new one.");
        else c.log.note(f.error.message, "warn");
      }
    },
    onStatus: (s) => {
      if (chat !== c) return;
      if (s === "online") {
        setBanner("");
        if (c.mode === "poll") {
          c.mode = "ws";
          c.poll.abort();
        }
        c.outbox.flush();
      } else if (s === "offline") {
        setBanner("Connection lost. Reconnecting…", 1200);
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

// poll follows the chat by long-polling after WebSockets failed.
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
      // Every few minutes, see whether WebSockets work again.
      if (++polls % 6 === 0 && chat === c && c.mode === "poll" && c.live.stopped) connect(c, true);
    } catch (err) {
      if (err.name === "AbortError" || chat !== c) return;
      if (err.status === 401) return expired();
      if (err.status === 403 || err.status === 404) return expired("This chat is no longer available. Please start a new one.");
      setBanner("Connection lost. Reconnecting…", 0);
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

function updateCounter() {
  const n = length($.text.value);
  const max = cfg.max_message_length;
  const near = n >= max * 0.8;
  $.counter.hidden = !near || $.composer.hidden;
  $.counter.classList.toggle("over", n > max);
  $.counter.textContent = n > max ? `${n - max} characters too many` : `${max - n} characters left`;
  $.send.disabled = n > max;
}

function sendMessage(ev) {
  ev.preventDefault();
  const c = chat;
  const text = $.text.value;
  if (!c || c.ended || !text.trim() || length(text) > cfg.max_message_length) return;
  c.typing.stop();
  c.outbox.send(text);
  $.text.value = "";
  fit();
  updateCounter();
  $.text.focus();
}

function extension(name) {
  const i = name.lastIndexOf(".");
  return i > 0 ? name.slice(i + 1).toLowerCase() : "";
}

function attach() {
  const c = chat;
  const f = $.file.files[0];
  $.file.value = "";
  if (!c || c.ended || !f) return;
  const ext = extension(f.name);
  const allowed = cfg.allowed_attachment_types || [];
  const restricted = cfg.restricted_attachment_types || [];
  let problem = "";
  if (f.size === 0) problem = "it is empty";
  else if (cfg.max_attachment_kb > 0 && f.size > cfg.max_attachment_kb * 1024) problem = `it is ${fileSize(f.size)}; the limit is ${fileSize(cfg.max_attachment_kb * 1024)}`;
  else if (!ext) problem = "it has no file extension";
  else if (allowed.length ? !allowed.includes(ext) : restricted.includes(ext)) problem = `files of type .${ext} are not allowed`;
  if (problem) {
    c.log.note(`“${f.name}” was not sent: ${problem}.`, "warn");
    c.log.scroll();
    return;
  }
  let up = null;
  const ui = c.log.uploading(f, () => up && up.abort());
  up = upload(`/api/v1/chats/${c.id}/files?name=${encodeURIComponent(f.name)}`, f, store.token, ui.progress);
  up.done.then(ui.done, (err) => ui.fail(err.message));
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
    // The end arrives as an event; should it not, end the view anyway.
    c.leaveTimer = setTimeout(() => {
      if (chat === c && !c.ended) {
        c.log.note(causeText("visitor_left", "visitor"), "end");
        ended("visitor_left");
      }
    }, 3000);
  } catch (err) {
    $["confirm-leave"].hidden = true;
    c.log.note(`Could not leave the chat: ${err.message}`, "warn");
  } finally {
    $["leave-yes"].disabled = false;
  }
}

// ---- wiring ----

$.start.addEventListener("submit", startChat);
for (const input of [$.name, $.email, $.question]) input.addEventListener("input", () => fieldError(input, ""));
$.composer.addEventListener("submit", sendMessage);
$.text.addEventListener("input", () => {
  updateCounter();
  if (chat && !chat.ended) chat.typing.input($.text.value.trim() !== "");
});
$.text.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) sendMessage(e);
});
$.attach.addEventListener("click", () => $.file.click());
$.file.addEventListener("change", attach);
$.leave.addEventListener("click", askLeave);
$["leave-no"].addEventListener("click", cancelLeave);
$["leave-yes"].addEventListener("click", leave);
$["confirm-leave"].addEventListener("keydown", (e) => e.key === "Escape" && cancelLeave());
$.restart.addEventListener("click", restart);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && unread) {
    unread = 0;
    document.title = "Parley demo";
  }
});

api("GET", "/api/v1/config").then(
  (c) => {
    cfg = { ...cfg, ...c };
    $.attach.hidden = cfg.max_attachment_kb === 0;
    const allowed = cfg.allowed_attachment_types || [];
    if (allowed.length) $.file.accept = allowed.map((x) => `.${x}`).join(",");
    updateCounter();
  },
  () => {},
);

if (store.token && store.chat && store.chat.id) openChat(null);
else showForm();
