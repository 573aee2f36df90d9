// The message list of the widget's chat, as the visitor sees it: renders
// the chat's events in order, once each, with pending sends, uploads,
// typing indicators and the end of the chat. (The console renders its own
// with console-lib.js.)

import { h, icon, clock, fileSize, uuid } from "./dom.js";
import { download } from "./api.js";
import { textParts, previewable, PREVIEW_TYPES } from "./richtext.js";

const FILE_ICON = ["M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z", "M14 3v5h5"];

// Messages of one party closer than this form a run (one name line).
const RUN_GAP_MS = 3 * 60 * 1000;

/** Splits text into text nodes and links for the http(s) addresses in it. */
export function linkify(text) {
  return textParts(text).map((p) => (p.href ? h("a", { href: p.href, target: "_blank", rel: "noopener noreferrer", text: p.text }) : p.text));
}

/** English words for why a chat ended, when the widget's strings lack them. */
export function causeText(cause) {
  switch (cause) {
    case "visitor_left":
      return "You left the chat";
    case "agent_ended":
      return "The agent ended the chat";
    case "idle_timeout":
      return "Closed for inactivity";
    case "disconnect_timeout":
      return "Closed because the connection was lost";
    case "group_closed":
      return "Closed because no agent is available";
    case "transferred_away":
      return "The chat was transferred";
    case "rejected":
      return "Sorry, no agent could take this chat";
    default:
      return "The chat has ended";
  }
}

/** Words the end of a call: "Video call, 4 min 12 s"; w(key, fallback, ...args) looks up strings. */
export function callText(s, w) {
  const v = s.media === "video" ? "Video" : "Audio";
  const d = s.duration || 0;
  const len = d >= 60 ? w("callMinutes", "{0} min {1} s", Math.floor(d / 60), d % 60) : w("callSeconds", "{0} s", d);
  const en = { completed: `${v} call, {0}`, declined: `${v} call, declined`, canceled: `${v} call, canceled`, missed: `Missed ${v.toLowerCase()} call` }[s.outcome];
  return en ? w(`call_${s.outcome}_${s.media}`, en, len) : "";
}

/**
 * Sends typing notifications for a text box: true on the first key and
 * again every 4 s while typing goes on, false after 3 s without a key or
 * when the message is sent.
 */
export class TypingSender {
  constructor(send) {
    this.send = send;
    this.active = false;
    this.last = 0;
    this.idle = 0;
  }

  input(hasText) {
    if (!hasText) return this.stop();
    const now = Date.now();
    if (!this.active || now - this.last > 4000) {
      this.active = true;
      this.last = now;
      this.send(true);
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), 3000);
  }

  stop() {
    clearTimeout(this.idle);
    if (this.active) {
      this.active = false;
      this.send(false);
    }
  }
}

/**
 * Messages on their way to the server. transmit(text, clientId) resolves
 * with the stored event; a rejection with code "disconnected" or
 * "network" keeps the message waiting for flush(), which a reconnection
 * calls. The client id makes every retry idempotent.
 */
export class Outbox {
  constructor(log, transmit) {
    this.log = log;
    this.transmit = transmit;
    this.items = new Map();
  }

  send(text) {
    const id = uuid();
    const m = { id, text, p: this.log.pending(text, id), busy: false };
    this.items.set(id, m);
    this.try(m);
  }

  try(m) {
    if (m.busy) return;
    m.busy = true;
    m.p.state("Sending…");
    this.transmit(m.text, m.id).then(
      (event) => {
        this.items.delete(m.id);
        m.p.sent(event);
      },
      (err) => {
        m.busy = false;
        if (err.code === "disconnected" || err.code === "network") {
          m.p.state("Waiting for the connection…");
          return;
        }
        this.items.delete(m.id);
        m.p.fail(err.message, () => {
          this.items.set(m.id, m);
          this.try(m);
        });
      },
    );
  }

  flush() {
    for (const m of this.items.values()) this.try(m);
  }

  /** Fails every waiting message, e.g. when the chat has ended. */
  close(message) {
    for (const m of this.items.values()) m.p.fail(message);
    this.items.clear();
  }
}

/**
 * ChatLog renders one chat's events into a list element.
 *
 * options:
 *   chatId     the chat
 *   token()    the credential for file downloads
 *   onError(m) shows an error message
 */
export class ChatLog {
  constructor(list, typingEl, options) {
    this.list = list;
    this.typingEl = typingEl;
    this.opt = options;
    this.lastSeq = 0;
    this.run = null; // {key, at, el} of the last confirmed message
    this.waiting = new Set(); // pending elements, kept at the bottom
    this.byClient = new Map(); // client id → pending element
    this.bySeq = new Map(); // seq → pending element confirmed by an ack
    this.blobs = new Map(); // file id → Promise<object URL>
    this.typingTimer = 0;
    this.leftEl = null;
    this.ended = false;
    this.lastTheirs = 0; // seq of the other side's last message: what a read receipt covers
    this.seenUpTo = 0; // the other side has read the chat up to this seq
    this.seenMark = null;
  }

  /**
   * Returns the words for key from options.words (a string bundle, such as
   * the widget's) with {0}, {1}… filled in, else the English en.
   */
  w(key, en, ...args) {
    const s = (this.opt.words && this.opt.words[key]) || en;
    return s.replace(/\{(\d+)\}/g, (m, i) => (args[i] !== undefined ? String(args[i]) : m));
  }

  mine(from) {
    return from.kind === "visitor";
  }

  nameOf(from) {
    return from.name || "Agent";
  }

  /** Adds a stored event; events seen before are ignored. Reports whether it was new. */
  add(e) {
    if (!e.seq || e.seq <= this.lastSeq) return false;
    this.lastSeq = e.seq;
    const stick = this.nearBottom();
    this.render(e);
    if (stick) this.scroll();
    return true;
  }

  /** Shows an ephemeral typing event of the other side. */
  typing(e) {
    if (e.type !== "typing" || this.mine(e.from)) return;
    clearTimeout(this.typingTimer);
    if (!e.typing || this.ended) {
      this.typingEl.replaceChildren();
      return;
    }
    const name = e.from.name || this.w("agent", "The agent");
    this.typingEl.replaceChildren(h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), this.w("isTyping", "{0} is typing…", name));
    this.typingTimer = setTimeout(() => this.typingEl.replaceChildren(), 8000);
  }

  /** Adds a line that is not part of the chat's log (local notes). */
  note(text, kind = "") {
    const stick = this.nearBottom();
    this.sysLine(text, kind);
    if (stick) this.scroll();
  }

  nearBottom() {
    const l = this.list;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 120;
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  // insert places a confirmed element above the pending ones.
  insert(el) {
    if (this.waiting.size === 0) {
      this.list.append(el);
      return;
    }
    let first = null;
    for (const p of this.list.children) {
      if (this.waiting.has(p)) {
        first = p;
        break;
      }
    }
    this.list.insertBefore(el, first);
  }

  render(e) {
    const from = e.from || { kind: "system" };
    switch (e.type) {
      case "message":
        if (from.kind === "system") this.sysLine(e.text, "note");
        else this.message(e);
        break;
      case "file":
        this.message(e);
        break;
      case "joined":
        this.joined(from, e.at);
        break;
      case "left":
        this.left(from);
        break;
      case "state":
        if (e.state && e.state.state === "terminated") {
          // "X left the chat" right before the end says the same thing.
          const prev = this.leftEl && this.leftEl.nextElementSibling;
          if (this.leftEl && (!prev || this.waiting.has(prev))) this.leftEl.remove();
          this.sysLine(this.w(`cause_${e.state.cause}`, causeText(e.state.cause)), "end");
          this.ended = true;
          this.typingEl.replaceChildren();
        }
        break;
      case "notice":
        this.sysLine(this.w(`notice_${e.notice}`, e.text || "", ...(e.args || [])), e.notice === "idle_warning" || e.notice === "visitor_closing" ? "warn" : "");
        break;
      case "seen":
        this.seen(e);
        break;
      case "signal":
        if (e.signal) this.sysLine(callText(e.signal, (...a) => this.w(...a)), "call");
        break;
    }
  }

  // seen shows "Seen" under the newest own message an agent has read.
  seen(e) {
    if (e.from.kind !== "agent" || e.seen <= this.seenUpTo) return;
    this.seenUpTo = e.seen;
    this.drawSeen();
  }

  drawSeen() {
    let last = null;
    for (const li of this.list.querySelectorAll("li.msg.mine[data-seq]")) if (Number(li.dataset.seq) <= this.seenUpTo) last = li;
    if (!last) return;
    this.seenMark = this.seenMark || h("div", { class: "msg-status seen", text: this.w("seen", "Seen") });
    if (this.seenMark.parentNode !== last) last.append(this.seenMark);
  }

  sysLine(text, kind) {
    if (!text) return null;
    const li = h("li", { class: `sys ${kind}`, text });
    this.insert(li);
    this.run = null;
    return li;
  }

  joined(from, at) {
    this.sysLine(this.mine(from) ? this.w("chatStarted", "Chat started · {0}", clock(at)) : this.w("joinedChat", "{0} joined the chat", this.nameOf(from)), "");
  }

  left(from) {
    this.leftEl = this.sysLine(this.mine(from) ? this.w("cause_visitor_left", "You left the chat") : this.w("leftChat", "{0} left the chat", this.nameOf(from)), "");
  }

  message(e) {
    let el = null;
    if (e.client_id && this.byClient.has(e.client_id)) el = this.byClient.get(e.client_id);
    else if (this.bySeq.has(e.seq)) el = this.bySeq.get(e.seq);
    if (el) {
      this.byClient.delete(e.client_id);
      this.bySeq.delete(e.seq);
      this.waiting.delete(el);
      el.remove();
    }
    const mine = this.mine(e.from);
    const key = `${e.from.kind}:${e.from.agent_id || ""}`;
    const at = Date.parse(e.at) || Date.now();
    const cont = this.run && this.run.key === key && at - this.run.at < RUN_GAP_MS;
    const li = this.bubble(e, mine, !cont);
    li.dataset.seq = e.seq;
    if (!mine && e.from.kind !== "system") this.lastTheirs = e.seq;
    if (cont) {
      li.classList.add("cont");
      this.run.el.classList.add("next");
    }
    this.insert(li);
    this.run = { key, at, el: li };
    if (!mine) this.typingEl.replaceChildren();
  }

  bubble(e, mine, withMeta) {
    const bot = e.from.kind === "bot";
    const li = h("li", { class: `msg ${mine ? "mine" : "theirs"}${bot ? " bot" : ""}` });
    if (withMeta) {
      const parts = [];
      if (!mine) parts.push(this.nameOf(e.from));
      parts.push(clock(e.at));
      const meta = h("div", { class: "meta", text: parts.join(" · ") });
      // A bot says it is one (its name alone could pass for a person's).
      if (bot) meta.prepend(h("span", { class: "tag-bot", text: this.w("bot", "Bot") }), " ");
      li.append(meta);
    }
    const b = h("div", { class: "bubble", title: e.at ? new Date(e.at).toLocaleString() : null });
    if (e.type === "file" && e.file) b.append(this.fileBox(e.file));
    else b.append(...linkify(e.text || ""));
    li.append(b);
    return li;
  }

  fileBox(file) {
    const name = h("button", { type: "button", class: "file-name", text: file.name, title: `Download ${file.name}` });
    name.addEventListener("click", () => this.save(file));
    const box = h(
      "div",
      { class: "file-wrap" },
      h("div", { class: "file" }, h("span", { class: "file-icon" }, icon(...FILE_ICON)), h("div", { class: "file-body" }, name, h("span", { class: "file-size", text: fileSize(file.size) }))),
    );
    if (previewable(file)) {
      this.blobURL(file).then(
        (url) => {
          const img = h("img", { class: "thumb", src: url, alt: file.name });
          const open = h("button", { type: "button", class: "thumb-btn", "aria-label": `Open ${file.name}` }, img);
          open.addEventListener("click", () => window.open(url, "_blank", "noopener"));
          const stick = this.nearBottom();
          box.append(open);
          img.addEventListener("load", () => stick && this.scroll(), { once: true });
        },
        () => {},
      );
    }
    return box;
  }

  blobURL(file) {
    if (!this.blobs.has(file.id)) {
      const type = PREVIEW_TYPES.has(file.content_type) ? file.content_type : "application/octet-stream";
      const p = download(`/api/v1/chats/${encodeURIComponent(this.opt.chatId)}/files/${encodeURIComponent(file.id)}`, this.opt.token(), type).then((blob) =>
        URL.createObjectURL(blob),
      );
      p.catch(() => this.blobs.delete(file.id));
      this.blobs.set(file.id, p);
    }
    return this.blobs.get(file.id);
  }

  async save(file) {
    try {
      const url = await this.blobURL(file);
      const a = h("a", { href: url, download: file.name });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      if (this.opt.onError) this.opt.onError(`Could not download ${file.name}: ${err.message}`);
    }
  }

  /** Shows an own message before the server has stored it. */
  pending(text, clientId) {
    const li = this.bubble({ from: { kind: "visitor" }, text, at: new Date().toISOString() }, true, false);
    li.classList.add("pending");
    const status = h("div", { class: "msg-status" });
    li.append(status);
    this.byClient.set(clientId, li);
    this.waiting.add(li);
    this.list.append(li);
    this.scroll();
    return {
      state: (s) => {
        if (!li.isConnected) return;
        if (!this.waiting.has(li)) {
          // A retry: back to the bottom with the other pending messages.
          this.waiting.add(li);
          this.list.append(li);
        }
        li.classList.remove("failed");
        li.classList.add("pending");
        status.textContent = s;
      },
      sent: (event) => {
        if (!li.isConnected) return;
        if (event && event.seq && event.seq <= this.lastSeq) {
          // The stream delivered it first without its client id.
          this.waiting.delete(li);
          li.remove();
          return;
        }
        li.classList.remove("pending");
        status.textContent = this.w("sent", "Sent");
        if (event && event.seq) this.bySeq.set(event.seq, li);
      },
      fail: (message, retry) => {
        if (!li.isConnected) return;
        this.waiting.delete(li); // stays where it is; later messages go below
        li.classList.remove("pending");
        li.classList.add("failed");
        status.replaceChildren(this.w("notSent", "Not sent: {0}", message));
        if (retry) status.append(h("button", { type: "button", class: "link-btn", text: this.w("retry", "Retry"), onclick: retry }));
      },
    };
  }

  /** Shows an upload in progress; returns handlers for its outcome. */
  uploading(file, cancel) {
    const bar = h("progress", { max: "1", value: "0", "aria-label": `Uploading ${file.name}` });
    const status = h("div", { class: "msg-status" }, this.w("uploading", "Uploading…"), h("button", { type: "button", class: "link-btn", text: this.w("cancel", "Cancel"), onclick: cancel }));
    const li = h(
      "li",
      { class: "msg mine pending" },
      h("div", { class: "bubble" }, h("div", { class: "file" }, h("span", { class: "file-icon" }, icon(...FILE_ICON)), h("div", { class: "file-body" }, h("span", { class: "file-name", text: file.name }), bar))),
      status,
    );
    this.waiting.add(li);
    this.list.append(li);
    this.scroll();
    return {
      progress: (f) => {
        bar.value = f;
        if (f >= 1) status.replaceChildren(this.w("processing", "Processing…"));
      },
      done: (event) => {
        if (!li.isConnected) return;
        if (!event || !event.seq || event.seq <= this.lastSeq) {
          this.waiting.delete(li);
          li.remove();
          return;
        }
        status.replaceChildren(this.w("sent", "Sent"));
        this.bySeq.set(event.seq, li);
      },
      fail: (message) => {
        this.waiting.delete(li);
        li.classList.remove("pending");
        li.classList.add("failed");
        bar.remove();
        status.replaceChildren(this.w("notSent", "Not sent: {0}", message), h("button", { type: "button", class: "link-btn", text: this.w("dismiss", "Dismiss"), onclick: () => li.remove() }));
      },
    };
  }
}
