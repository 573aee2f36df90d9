// The agent demo console: sign in, set the presence, accept or decline
// offered chats and handle several chats at once, each in its own tab.

import { h, byId, load, save, autosize, length, clock, fromTemplate } from "./dom.js";
import { api, Live } from "./api.js";
import { ChatLog, Outbox, TypingSender } from "./chatlog.js";

const KEY = "parley.agent";
const GROUPS = { 1: "Support", 2: "Sales" };
const TITLE = "Parley agent demo";

const $ = Object.fromEntries(
  [
    "me", "presence", "me-name", "me-status", "me-status-text", "me-ready", "logout", "banner",
    "login-view", "login", "login-name", "login-password", "login-error", "login-button",
    "console", "offers", "offer-count", "offers-empty", "tabs", "tabs-empty", "panes", "placeholder", "toasts",
  ].map((id) => [id, byId(id)]),
);

let token = (load(KEY) || {}).token || null;
let me = null;
let live = null;
let maxLength = 4000;
let selected = null;
let bannerTimer = 0;
const offers = new Map(); // chat id → {view, el}
const panes = new Map(); // chat id → Pane

function toast(text, kind = "") {
  const t = h("div", { class: `toast ${kind}`, text });
  $.toasts.append(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 5000);
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

function groupName(view) {
  return view.group_name || GROUPS[view.group_id] || `Group ${view.group_id}`;
}

function visitorName(view) {
  return (view.visitor && view.visitor.name) || "Visitor";
}

// ---- sign in ----

function showLogin(message) {
  $["login-view"].hidden = false;
  $.console.hidden = true;
  $.me.hidden = true;
  const err = $["login-error"];
  err.textContent = message || "";
  err.hidden = !message;
  $["login-name"].focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const login = $["login-name"].value.trim();
  const password = $["login-password"].value;
  const err = $["login-error"];
  if (!login || !password) {
    err.textContent = "Enter your login and password.";
    err.hidden = false;
    (login ? $["login-password"] : $["login-name"]).focus();
    return;
  }
  const button = $["login-button"];
  button.disabled = true;
  button.textContent = "Signing in…";
  try {
    const r = await api("POST", "/api/v1/auth/login", { body: { login, password } });
    token = r.token;
    me = r.agent;
    save(KEY, { token });
    $["login-password"].value = "";
    err.hidden = true;
    startConsole();
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
    $["login-password"].select();
  } finally {
    button.disabled = false;
    button.textContent = "Sign in";
  }
}

async function signOut() {
  const t = token;
  endSession();
  showLogin();
  if (t) api("POST", "/api/v1/auth/logout", { token: t }).catch(() => {});
}

// endSession forgets everything of the signed-in agent.
function endSession() {
  if (live) live.stop();
  live = null;
  token = null;
  me = null;
  save(KEY, null);
  setBanner("");
  for (const id of [...offers.keys()]) removeOffer(id);
  for (const p of [...panes.values()]) p.close();
}

// ---- console ----

function startConsole() {
  $["login-view"].hidden = true;
  $.console.hidden = false;
  $.me.hidden = false;
  renderMe();
  renderLists();
  live = new Live({
    token,
    chats: () => {
      const m = {};
      for (const p of panes.values()) if (!p.ended) m[p.id] = p.log.lastSeq;
      return m;
    },
    onFrame: frame,
    onStatus: (s) => {
      if (s === "online") {
        setBanner("");
        for (const p of panes.values()) p.outbox.flush();
      } else if (s === "offline") {
        setBanner("Connection lost. Reconnecting…", 1200);
      } else if (s === "denied") {
        endSession();
        showLogin("Your session has ended. Please sign in again.");
      }
    },
  });
  live.start();
}

function frame(f) {
  switch (f.type) {
    case "ready":
      if (f.actor && f.actor.agent) {
        me = f.actor.agent;
        renderMe();
      }
      // The server sends the current offers again right after this.
      for (const id of [...offers.keys()]) removeOffer(id);
      break;
    case "offer":
      addOffer(f.chat);
      break;
    case "revoke":
      removeOffer(f.chat_id);
      break;
    case "assigned":
      removeOffer(f.chat_id);
      if (f.chat) openPane(f.chat, !selected);
      break;
    case "removed": {
      const p = panes.get(f.chat_id);
      if (p) p.removed();
      break;
    }
    case "agent":
      if (f.agent) {
        me = f.agent;
        renderMe();
      }
      break;
    case "chat":
      openPane(f.chat, !selected).applyView(f.chat);
      break;
    case "event": {
      const p = panes.get(f.event.chat_id);
      if (p) p.event(f.event);
      break;
    }
    case "error":
      if (f.error) toast(f.error.message, "error");
      break;
  }
}

function renderMe() {
  if (!me) return;
  $["me-name"].textContent = me.display_name || me.login;
  for (const input of $.presence.querySelectorAll("input")) input.checked = input.value === me.presence;
  // While not ready (wrap-up after a chat, a missed offer) no chats come:
  // say so, and offer to be ready again.
  const notReady = me.presence !== "offline" && me.status !== "ready";
  $["me-status"].hidden = !notReady;
  if (notReady) {
    $["me-status-text"].textContent =
      me.status === "wrap_up" ? "Wrap-up" : me.status_reason ? `Not ready (${me.status_reason})` : "Not ready";
  }
  renderLists();
}

async function setReady() {
  $["me-ready"].disabled = true;
  try {
    me = await api("PUT", "/api/v1/me/presence", { token, body: { status: "ready" } });
  } catch (err) {
    toast(`Could not change your status: ${err.message}`, "error");
  } finally {
    $["me-ready"].disabled = false;
    renderMe();
  }
}

async function setPresence(ev) {
  const presence = ev.target.value;
  const body = presence === "available" ? { presence, status: "ready" } : { presence };
  $.presence.disabled = true;
  try {
    me = await api("PUT", "/api/v1/me/presence", { token, body });
  } catch (err) {
    toast(`Could not change your presence: ${err.message}`, "error");
  } finally {
    $.presence.disabled = false;
    renderMe();
  }
}

function renderLists() {
  const n = offers.size;
  $["offer-count"].textContent = String(n);
  $["offer-count"].hidden = n === 0;
  $["offers-empty"].hidden = n > 0;
  $["offers-empty"].textContent =
    me && me.presence !== "available" ? "Set yourself Available to be offered chats." : "No chats are waiting for you.";
  $["tabs-empty"].hidden = panes.size > 0;
  $.placeholder.hidden = selected != null;
  const unread = [...panes.values()].filter((p) => p.unread).length;
  const count = n + unread;
  document.title = count ? `(${count}) ${TITLE}` : TITLE;
}

// ---- offers ----

function addOffer(view) {
  if (!view) return;
  const p = panes.get(view.id);
  if (p && !p.ended) return;
  let o = offers.get(view.id);
  if (!o) {
    const el = fromTemplate("offer-template");
    o = { view, el };
    offers.set(view.id, o);
    el.querySelector(".accept").addEventListener("click", () => accept(view.id));
    el.querySelector(".decline").addEventListener("click", () => decline(view.id));
    $.offers.append(el);
    preview(view.id, el);
  }
  o.view = view;
  const el = o.el;
  el.querySelector(".offer-name").textContent = visitorName(view);
  el.querySelector(".offer-group").textContent = groupName(view);
  const meta = [];
  if (view.visitor && view.visitor.email) meta.push(view.visitor.email);
  meta.push(`waiting since ${clock(view.created_at)}`);
  el.querySelector(".offer-meta").textContent = meta.join(" · ");
  el.querySelector(".accept").setAttribute("aria-label", `Accept the chat with ${visitorName(view)}`);
  el.querySelector(".decline").setAttribute("aria-label", `Decline the chat with ${visitorName(view)}`);
  renderLists();
}

// preview shows the visitor's first question on an offer.
async function preview(id, el) {
  try {
    const r = await api("GET", `/api/v1/chats/${id}/events?after=0&wait=1`, { token });
    const first = (r.events || []).find((e) => e.type === "message" && e.from && e.from.kind === "visitor");
    if (first) {
      const p = el.querySelector(".offer-text");
      p.textContent = first.text;
      p.hidden = false;
    }
  } catch {
    // the offer works without its preview
  }
}

function removeOffer(id) {
  const o = offers.get(id);
  if (!o) return;
  const hadFocus = o.el.contains(document.activeElement);
  o.el.remove();
  offers.delete(id);
  renderLists();
  if (hadFocus) {
    const next = $.offers.querySelector(".accept");
    if (next) next.focus();
  }
}

async function accept(id) {
  const o = offers.get(id);
  if (!o) return;
  const buttons = o.el.querySelectorAll("button");
  for (const b of buttons) b.disabled = true;
  o.el.querySelector(".accept").textContent = "Accepting…";
  try {
    const view = await api("POST", `/api/v1/chats/${id}/accept`, { token });
    removeOffer(id);
    const p = openPane(view, true);
    p.applyView(view);
    p.focus();
  } catch (err) {
    toast(err.message, "error");
    if (err.status === 409 || err.status === 404 || err.status === 403) removeOffer(id);
    else if (offers.has(id)) {
      for (const b of buttons) b.disabled = false;
      o.el.querySelector(".accept").textContent = "Accept";
    }
  }
}

async function decline(id) {
  const o = offers.get(id);
  if (!o) return;
  for (const b of o.el.querySelectorAll("button")) b.disabled = true;
  try {
    await api("POST", `/api/v1/chats/${id}/decline`, { token });
  } catch (err) {
    if (err.status !== 409) toast(err.message, "error");
  }
  removeOffer(id);
}

// ---- chats ----

function openPane(view, select) {
  let p = panes.get(view.id);
  if (p && p.ended) {
    // The chat came back (a transfer to a group of ours): start afresh.
    select = select || selected === p.id;
    p.close();
    p = null;
  }
  if (!p) {
    p = new Pane(view);
    panes.set(view.id, p);
    renderLists();
  }
  if (select) selectPane(view.id);
  return p;
}

function selectPane(id) {
  selected = panes.has(id) ? id : null;
  for (const p of panes.values()) p.show(p.id === selected);
  renderLists();
}

class Pane {
  constructor(view) {
    this.id = view.id;
    this.view = view;
    this.ended = false;
    this.unread = false;
    this.transferTo = null;
    const el = (this.el = fromTemplate("pane-template"));
    const tab = (this.tab = fromTemplate("tab-template"));
    const q = (sel) => el.querySelector(sel);
    this.parts = {
      title: q(".pane-title"), sub: q(".pane-sub"), actions: q(".pane-actions"), target: q(".transfer-to"),
      confirm: q(".confirm"), log: q(".log"), typing: q(".typing"), composer: q(".composer"), text: q("textarea"),
      counter: q(".counter"), endedBox: q(".ended"), endedText: q(".ended-text"),
    };
    el.id = `pane-${view.id}`;
    tab.id = `tab-${view.id}`;
    el.setAttribute("aria-labelledby", tab.id);
    tab.setAttribute("aria-controls", el.id);

    this.log = new ChatLog(this.parts.log, this.parts.typing, {
      viewer: "agent",
      agentId: me ? me.id : 0,
      chatId: view.id,
      token: () => token,
      onError: (m) => toast(m, "error"),
    });
    this.outbox = new Outbox(this.log, (text, clientId) =>
      live ? live.request({ type: "send", chat_id: this.id, text, client_id: clientId }).then((f) => f.event) : Promise.reject(new Error("Signed out.")),
    );
    this.typing = new TypingSender((typing) => live && !this.ended && live.send({ type: "typing", chat_id: this.id, typing }));
    this.fit = autosize(this.parts.text);

    const { composer, text, target } = this.parts;
    composer.addEventListener("submit", (e) => this.send(e));
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) this.send(e);
    });
    text.addEventListener("input", () => {
      this.counter();
      this.typing.input(text.value.trim() !== "");
    });
    target.value = view.group_id === 1 ? "2" : "1";
    q(".transfer-button").addEventListener("click", () => this.transfer());
    q(".end-button").addEventListener("click", () => {
      this.parts.confirm.hidden = false;
      q(".end-no").focus();
    });
    q(".end-no").addEventListener("click", () => {
      this.parts.confirm.hidden = true;
      q(".end-button").focus();
    });
    q(".end-yes").addEventListener("click", () => this.end());
    this.parts.confirm.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        this.parts.confirm.hidden = true;
        q(".end-button").focus();
      }
    });
    q(".close-button").addEventListener("click", () => this.close());
    tab.addEventListener("click", () => {
      selectPane(this.id);
      this.focus();
    });
    tab.addEventListener("keydown", (e) => tabKeys(e, this.id));

    $.panes.append(el);
    $.tabs.append(tab);
    this.applyView(view);
  }

  applyView(v) {
    this.view = { ...this.view, ...v };
    const view = this.view;
    const name = visitorName(view);
    this.parts.title.textContent = name;
    const sub = [groupName(view)];
    if (view.visitor && view.visitor.email) sub.push(view.visitor.email);
    this.parts.sub.textContent = sub.join(" · ");
    this.parts.log.setAttribute("aria-label", `Messages with ${name}`);
    this.tab.querySelector(".tab-name").textContent = name;
    if (!this.tab.querySelector(".tab-sub").textContent) this.tab.querySelector(".tab-sub").textContent = groupName(view);
    if (view.state === "terminated") this.finish();
  }

  event(e) {
    if (!e.seq) {
      if (e.type === "typing") {
        this.log.typing(e);
        if (e.from.kind === "visitor") this.tab.querySelector(".tab-sub").textContent = e.typing ? "typing…" : this.lastLine || groupName(this.view);
      }
      return;
    }
    if (!this.log.add(e)) return;
    if ((e.type === "message" || e.type === "file") && e.from.kind !== "system") {
      const who = e.from.kind === "visitor" ? "" : e.from.agent_id === (me && me.id) ? "You: " : `${e.from.name}: `;
      this.lastLine = who + (e.type === "file" ? (e.file ? e.file.name : "a file") : e.text);
      this.tab.querySelector(".tab-sub").textContent = this.lastLine;
      if (e.from.kind === "visitor" && (selected !== this.id || document.hidden)) this.markUnread(true);
    }
    if (e.type === "state" && e.state && e.state.state === "terminated") this.finish();
    else if (e.type === "left" && e.from.kind === "agent" && me && e.from.agent_id === me.id) {
      const v = this.view;
      if (v.state === "handling" && v.agent && v.agent.agent_id === me.id && Date.parse(v.accepted_at) > Date.parse(e.at)) {
        // We left this chat once before and have it again (a transfer
        // back). The server ends a stream at our leaving, so ask for the
        // rest of the log after it.
        if (live) live.send({ type: "subscribe", chat_id: this.id, after: e.seq });
        return;
      }
      this.finish(this.transferTo ? `You transferred this chat to ${GROUPS[this.transferTo]}.` : "You left this chat.");
    }
  }

  // removed: the chat is no longer ours; its last events normally follow.
  removed() {
    setTimeout(() => {
      if (!this.ended && panes.get(this.id) === this) this.finish("This chat is no longer assigned to you.");
    }, 3000);
  }

  finish(text) {
    if (this.ended) return;
    this.ended = true;
    const p = this.parts;
    const hadFocus = this.el.contains(document.activeElement);
    clearTimeout(this.typing.idle);
    this.outbox.close("the chat has ended");
    p.composer.hidden = true;
    p.counter.hidden = true;
    p.actions.hidden = true;
    p.confirm.hidden = true;
    p.typing.replaceChildren();
    p.endedText.textContent = text || "This chat has ended.";
    p.endedBox.hidden = false;
    this.tab.classList.add("is-ended");
    this.tab.querySelector(".tab-sub").textContent = "Ended";
    if (hadFocus) this.el.querySelector(".close-button").focus();
  }

  show(on) {
    this.el.hidden = !on;
    this.tab.setAttribute("aria-selected", on ? "true" : "false");
    this.tab.tabIndex = on ? 0 : -1;
    if (on) {
      this.markUnread(false);
      this.log.scroll();
    }
  }

  focus() {
    if (!this.ended) this.parts.text.focus();
  }

  markUnread(on) {
    this.unread = on;
    this.tab.querySelector(".tab-unread").hidden = !on;
    renderLists();
  }

  counter() {
    const n = length(this.parts.text.value);
    const c = this.parts.counter;
    c.hidden = n < maxLength * 0.8;
    c.classList.toggle("over", n > maxLength);
    c.textContent = n > maxLength ? `${n - maxLength} characters too many` : `${maxLength - n} characters left`;
  }

  send(ev) {
    ev.preventDefault();
    const text = this.parts.text.value;
    if (this.ended || !text.trim() || length(text) > maxLength) return;
    this.typing.stop();
    this.outbox.send(text);
    this.parts.text.value = "";
    this.fit();
    this.counter();
  }

  async transfer() {
    const group = Number(this.parts.target.value);
    const button = this.el.querySelector(".transfer-button");
    button.disabled = true;
    try {
      this.transferTo = group;
      await api("POST", `/api/v1/chats/${this.id}/transfer`, { token, body: { group_id: group } });
      toast(`Chat transferred to ${GROUPS[group]}.`);
    } catch (err) {
      this.transferTo = null;
      toast(`Could not transfer the chat: ${err.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  async end() {
    const yes = this.el.querySelector(".end-yes");
    yes.disabled = true;
    try {
      await api("POST", `/api/v1/chats/${this.id}/end`, { token });
      this.parts.confirm.hidden = true;
    } catch (err) {
      toast(`Could not end the chat: ${err.message}`, "error");
    } finally {
      yes.disabled = false;
    }
  }

  close() {
    const ids = [...panes.keys()];
    const i = ids.indexOf(this.id);
    this.el.remove();
    this.tab.remove();
    panes.delete(this.id);
    if (selected === this.id) {
      const rest = ids.filter((id) => id !== this.id);
      selectPane(rest.length ? rest[Math.min(i, rest.length - 1)] : null);
      const p = panes.get(selected);
      if (p) p.tab.focus();
    }
    renderLists();
  }
}

// tabKeys moves between chat tabs with the arrow keys, Home and End.
function tabKeys(e, id) {
  const ids = [...panes.keys()];
  let i = ids.indexOf(id);
  if (e.key === "ArrowDown" || e.key === "ArrowRight") i = (i + 1) % ids.length;
  else if (e.key === "ArrowUp" || e.key === "ArrowLeft") i = (i - 1 + ids.length) % ids.length;
  else if (e.key === "Home") i = 0;
  else if (e.key === "End") i = ids.length - 1;
  else return;
  e.preventDefault();
  selectPane(ids[i]);
  panes.get(ids[i]).tab.focus();
}

// ---- wiring ----

$.login.addEventListener("submit", signIn);
$.logout.addEventListener("click", signOut);
$["me-ready"].addEventListener("click", setReady);
$.presence.addEventListener("change", setPresence);
document.addEventListener("visibilitychange", () => {
  const p = panes.get(selected);
  if (!document.hidden && p) p.markUnread(false);
});

api("GET", "/api/v1/config").then(
  (c) => {
    if (c.max_message_length > 0) maxLength = c.max_message_length;
  },
  () => {},
);

if (token) {
  api("GET", "/api/v1/me", { token }).then(
    (agent) => {
      me = agent;
      startConsole();
    },
    (err) => {
      if (err.status === 401 || err.status === 403) {
        token = null;
        save(KEY, null);
        showLogin();
      } else {
        showLogin(err.message);
      }
    },
  );
} else {
  showLogin();
}
