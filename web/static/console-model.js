// The agent console's state and everything it does with the server: the
// WebSocket feed (offers, chats, events), the REST actions, and the offer
// notification. Components read the model and call its methods; every
// change schedules one re-render.

import { api, upload, download, Live, ApiError } from "./api.js";
import { endpoints, clientID, flattenCanned } from "./console-lib.js";

const storeKey = "parley.console";

/** A chat the console shows: handled by this agent, or monitored. */
class ChatRecord {
  constructor(view, mode) {
    this.id = view.id;
    this.view = view;
    this.mode = mode; // "handle" or "monitor"
    this.events = [];
    this.seqs = new Set();
    this.lastSeq = 0;
    this.unread = 0;
    this.typing = null; // name of the visitor while typing
    this.typingText = ""; // the preview of what the visitor types, if sent
    this.typingTimer = 0;
    this.uploads = []; // {name, progress}
    this.canned = null; // responses filled in for this chat, once loaded
    this.cannedAt = 0;
    this.gone = false; // transferred away or no longer ours
    this.openedAt = Date.now();
    this.visitorSeen = 0; // the visitor has read the chat up to this seq
    this.seenSent = 0; // our read receipt covers up to this seq
  }

  /** handler reports whether the signed-in agent handles the chat (rather
   * than having joined it by conference or barge-in). */
  handledBy(me) {
    return !!me && !!this.view.agent && this.view.agent.agent_id === me.id;
  }

  get ended() {
    return this.view.state === "terminated";
  }

  get title() {
    return (this.view.visitor && this.view.visitor.name) || "Visitor";
  }

  /** The newest message or file, for the chat list's preview line. */
  get preview() {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      if (e.type === "message" || e.type === "file") return e;
    }
    return null;
  }
}

export class Model {
  constructor() {
    this.listeners = new Set();
    this.pending = false;
    const saved = readSaved();
    this.token = saved.token || null;
    this.me = null;
    this.config = null;
    this.groups = [];
    this.agents = [];
    this.offers = new Map(); // chat id → {chat, at, deadline}
    this.pickable = []; // chats waiting in the agent's manual groups
    this.overview = null; // the supervisor overview last pushed
    this.chats = new Map(); // chat id → ChatRecord
    this.team = new Map(); // agent id → {messages, unread}: internal chat
    this.teamOpen = null; // agent id of the open internal thread
    this.focus = null;
    this.conn = "idle";
    this.toasts = [];
    this.canned = null; // null: not loaded; [] when none
    this.cannedError = null;
    this.view = location.hash.slice(1) || "chats";
    this.theme = localStorage.getItem("parley.theme") || "";
    this.live = null;
    this.polling = null; // AbortController of the long-poll fallback
    this.ticker = 0;
    this.ticks = 0;
    this.audio = null;
    window.addEventListener("hashchange", () => {
      this.view = location.hash.slice(1) || "chats";
      this.changed();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && this.focus && this.chats.has(this.focus)) {
        this.chats.get(this.focus).unread = 0;
        this.markSeen(this.chats.get(this.focus));
        this.changed();
      }
    });
  }

  /** subscribe calls fn after changes; returns the unsubscribe function. */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** changed schedules one notification for any number of changes. */
  changed() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      for (const fn of this.listeners) fn();
    });
  }

  call(method, path, body) {
    return api(method, path, { token: this.token, body });
  }

  // ---- calls: call.js loads when a call starts or rings; each chat has its own ----

  calls(c) {
    const path = `/api/v1/chats/${encodeURIComponent(c.id)}/`;
    return (c.calls ||= import("./call.js").then(
      ({ Calls }) =>
        new Calls({
          mine: (f) => f.kind === "agent" && this.me && f.agent_id === this.me.id,
          send: (body) => this.call("POST", path + "signal", body),
          ice: (id) => this.call("GET", `${path}calls/${encodeURIComponent(id)}/ice`),
          t: (k, f, ...a) => f.replace("{0}", a[0]),
          mount: () => document.querySelector(`section.column[data-chat="${c.id}"]`) || document.body,
          peer: () => c.title,
          share: true,
          notify: (m) => this.toast(m, "error"),
          onChange: (st) => {
            c.callState = st;
            this.changed();
          },
        }),
    ));
  }

  /** Starts an audio or video call with the chat's visitor. */
  startCall(id, media) {
    const c = this.chats.get(id);
    if (c) this.calls(c).then((k) => k.start(media));
  }

  callEvent(c, ev) {
    if (c.calls || (ev.type === "signal" && ev.signal && ev.signal.action === "invite" && ev.from.kind === "visitor")) {
      this.calls(c).then((k) => k.event(ev));
    }
    // A reloaded console replays the chat's log: once its call events
    // settle, pick up a call this agent was in (call.js's restore).
    if (ev.type === "signal") {
      clearTimeout(c.callSettle);
      c.callSettle = setTimeout(() => this.calls(c).then((k) => k.restore(c.events)), 400);
    }
  }

  toast(text, kind = "info") {
    const t = { id: clientID(), text, kind };
    this.toasts = [...this.toasts, t];
    this.changed();
    setTimeout(() => {
      this.toasts = this.toasts.filter((x) => x !== t);
      this.changed();
    }, 5000);
  }

  fail(err) {
    if (err && err.name === "AbortError") return;
    this.toast(err && err.message ? err.message : String(err), "error");
  }

  get isSupervisor() {
    return !!this.me && (this.me.role === "supervisor" || this.me.role === "admin");
  }

  setTheme(theme) {
    this.theme = theme;
    if (theme) localStorage.setItem("parley.theme", theme);
    else localStorage.removeItem("parley.theme");
    this.changed();
  }

  // ---- session -------------------------------------------------------

  /** resume restores a session from this tab's storage. */
  async resume() {
    if (!this.token) {
      this.changed();
      return;
    }
    try {
      this.me = await this.call("GET", "/api/v1/me");
      await this.signedIn();
      await this.start();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.forget();
      else this.fail(err);
    }
    this.changed();
  }

  async login(login, password) {
    // A tenant's agents sign in at /agent/?tenant=<id>.
    const tenant = Number(new URLSearchParams(location.search).get("tenant")) || 0;
    const r = await api("POST", "/api/v1/auth/login", { body: { tenant_id: tenant, login, password } });
    this.token = r.token;
    this.me = r.agent;
    // The token lives in this tab only, so two agents can work in two tabs.
    sessionStorage.setItem(storeKey, JSON.stringify({ token: r.token }));
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().catch(() => {});
    }
    this.unlockSound();
    await this.signedIn();
    await this.start();
    this.changed();
  }

  /** signedIn makes a signed-in agent present: the agent's groups open and
   * colleagues see it, while its status (not ready until it says so) keeps
   * chats away. */
  async signedIn() {
    if (this.me.presence !== "offline") return;
    try {
      this.me = await this.call("PUT", "/api/v1/me/presence", { presence: "available" });
    } catch (err) {
      this.fail(err);
    }
  }

  async logout() {
    const t = this.token;
    this.stop();
    this.forget();
    this.changed();
    if (t) await api("POST", "/api/v1/auth/logout", { token: t }).catch(() => {});
  }

  forget() {
    this.token = null;
    this.me = null;
    sessionStorage.removeItem(storeKey);
    this.offers.clear();
    this.chats.clear();
    this.focus = null;
  }

  async start() {
    const [config, groups, agents] = await Promise.all([
      api("GET", "/api/v1/config"),
      this.call("GET", "/api/v1/groups").catch(() => []),
      this.call("GET", "/api/v1/agents").catch(() => []),
    ]);
    this.config = config;
    this.groups = groups;
    this.agents = agents;
    this.live = new Live({
      token: this.token,
      chats: () => {
        const m = {};
        for (const c of this.chats.values()) if (!c.ended) m[c.id] = c.lastSeq;
        return m;
      },
      onFrame: (f) => this.frame(f),
      onFallback: () => this.startPolling(),
      onStatus: (s) => {
        this.conn = s;
        if (s === "denied") {
          this.forget();
          this.toast("Your session has ended. Please sign in again.", "error");
        }
        this.changed();
      },
    });
    this.live.start();
    clearInterval(this.ticker);
    // One tick a second drives countdowns and timers.
    this.ticker = setInterval(() => {
      // Colleagues' presence for the team list and transfer targets.
      if (++this.ticks % 5 === 0) this.refreshAgents();
      if (this.ticks % 3 === 0) this.refreshPickable();
      this.changed();
    }, 1000);
    this.refreshPickable();
  }

  stop() {
    if (this.live) this.live.stop();
    this.live = null;
    if (this.polling) this.polling.abort();
    this.polling = null;
    clearInterval(this.ticker);
  }

  async refreshAgents() {
    this.agents = await this.call("GET", "/api/v1/agents").catch(() => this.agents);
    this.changed();
  }

  /** manualGroups lists the agent's groups where members pick chats. */
  get manualGroups() {
    if (!this.me) return [];
    return this.groups.filter((g) => g.routing && g.routing.strategy === "manual" && (this.me.groups || []).some((m) => m.group_id === g.id));
  }

  /** refreshPickable reads the queues of the agent's manual groups. */
  async refreshPickable() {
    const groups = this.manualGroups;
    if (!groups.length) {
      this.pickable = [];
      return;
    }
    const lists = await Promise.all(groups.map((g) => this.call("GET", `/api/v1/groups/${g.id}/queue`).catch(() => [])));
    this.pickable = lists.flat();
    this.changed();
  }

  async pick(id) {
    try {
      const c = this.adopt(await this.call("POST", `/api/v1/chats/${id}/pick`), "handle");
      if (this.polling && !c.polling) this.pollChat(c, this.polling.signal);
      this.focusChat(id);
    } catch (err) {
      this.fail(err);
    }
    this.refreshPickable();
  }

  // ---- presence and status ---------------------------------------------

  async setStatus(status, reason) {
    const body = { status };
    if (status === "ready" || status === "not_ready") body.presence = "available";
    if (status === "not_ready" && reason) body.reason = reason;
    try {
      this.me = await this.call("PUT", "/api/v1/me/presence", body);
      this.unlockSound();
    } catch (err) {
      this.fail(err);
    }
    this.changed();
  }

  async setPresence(presence) {
    try {
      this.me = await this.call("PUT", "/api/v1/me/presence", { presence });
    } catch (err) {
      this.fail(err);
    }
    this.changed();
  }

  // ---- the feed ----------------------------------------------------------

  frame(f) {
    switch (f.type) {
      case "offer":
        this.offered(f.chat);
        break;
      case "revoke":
        this.offers.delete(f.chat_id);
        break;
      case "assigned": {
        this.offers.delete(f.chat_id);
        this.adopt(f.chat, "handle");
        if (!this.focus || !this.chats.has(this.focus)) this.focus = f.chat_id;
        this.refreshAgents(); // colleagues' status, for transfer and the team list
        break;
      }
      case "removed": {
        this.offers.delete(f.chat_id);
        const c = this.chats.get(f.chat_id);
        if (c && c.mode === "handle" && !c.ended) this.checkGone(c);
        break;
      }
      case "chat": {
        // A snapshot starts every subscription; after a reload or a
        // reconnect it is how the chats the agent is in come back.
        const c = this.chats.get(f.chat.id);
        if (c) c.view = { ...c.view, ...f.chat };
        else if (this.isIn(f.chat)) this.adopt(f.chat, "handle");
        if (!this.focus && this.chats.has(f.chat.id)) this.focus = f.chat.id;
        break;
      }
      case "rated": {
        // The visitor rated a chat this agent took part in.
        const c = this.chats.get(f.chat_id);
        if (c) c.view = { ...c.view, ...f.chat };
        break;
      }
      case "event":
        this.event(f.event);
        break;
      case "agent":
        if (this.me && f.agent.id === this.me.id) {
          if (f.agent.disabled) {
            // Disabled (it left the directory's agent groups): the server
            // has ended its sessions, so the console signs out too.
            this.stop();
            this.forget();
            this.changed();
            return;
          }
          this.me = f.agent;
        }
        break;
      case "internal":
        this.internal(f.message);
        break;
      case "overview":
        // Pushed to supervisors when queues or agents change.
        this.overview = f.overview;
        break;
      default:
        return;
    }
    this.changed();
  }

  /**
   * checkGone settles a chat the server says is no longer the agent's:
   * either it ended (the notice can overtake the chat's last events) or
   * it went elsewhere, by transfer or because the agent left it.
   */
  async checkGone(c) {
    try {
      const v = await this.call("GET", `/api/v1/chats/${c.id}`);
      c.view = { ...c.view, ...v };
      if (v.state !== "terminated" && !this.isIn(v)) c.gone = true;
    } catch {
      c.gone = true; // no longer readable: it is not ours any more
    }
    this.changed();
  }

  /** isIn reports whether the signed-in agent handles or has joined a chat. */
  isIn(view) {
    if (!this.me || view.state === "terminated") return false;
    if (view.agent && view.agent.agent_id === this.me.id) return true;
    return (view.participants || []).some((p) => p.kind === "agent" && p.agent_id === this.me.id && !p.left_at);
  }

  /** offerTimeout is how long an offer of the group's chats waits: the
   * group's own timeout, else the server's (0: offers wait). */
  offerTimeout(groupID) {
    const g = this.groups.find((x) => x.id === groupID);
    const own = g && g.routing && g.routing.offer_timeout_seconds;
    return own || (this.config && this.config.offer_timeout_seconds) || 0;
  }

  /** offered shows a new offer with its countdown and announces it. */
  offered(chat) {
    if (this.offers.has(chat.id)) return;
    const secs = this.offerTimeout(chat.group_id);
    this.offers.set(chat.id, { chat, at: Date.now(), secs, deadline: secs ? Date.now() + secs * 1000 : 0 });
    this.announce(chat);
  }

  // ---- long-poll fallback --------------------------------------------------

  /**
   * startPolling follows offers and chats by long-polling when no
   * WebSocket can be kept open (for example behind a proxy that refuses
   * upgrades): /me/chats for offers and assignments, and one event poll
   * per chat. Actions use REST either way.
   */
  startPolling() {
    if (this.polling || !this.token) return;
    this.polling = new AbortController();
    this.conn = "polling";
    this.changed();
    this.pollMine(this.polling.signal);
  }

  async pollMine(signal) {
    let wait = 0;
    while (!signal.aborted) {
      try {
        const list = await api("GET", `/api/v1/me/chats?wait=${wait}`, { token: this.token, signal });
        // The answer also ends on a change of the agent's own record. That
        // is read alongside: notices that come between two polls do not
        // end the next one, so the next poll starts at once.
        api("GET", "/api/v1/me", { token: this.token, signal }).then(
          (me) => ((this.me = me), this.changed()),
          () => {},
        );
        wait = 25;
        this.syncMine(list, signal);
        this.changed();
      } catch (err) {
        if (signal.aborted) return;
        if (err.status === 401) {
          this.forget();
          this.toast("Your session has ended. Please sign in again.", "error");
          this.changed();
          return;
        }
        await pause(2000, signal);
      }
    }
  }

  syncMine(list, signal) {
    const offered = new Set();
    const active = new Set(list.map((c) => c.id));
    for (const c of list) {
      if (this.me && c.offered_to === this.me.id && c.state === "queued") {
        offered.add(c.id);
        this.offered(c);
      } else if (this.isIn(c)) {
        const rec = this.adopt(c, "handle");
        if (!rec.polling) this.pollChat(rec, signal);
        if (!this.focus || !this.chats.has(this.focus)) this.focus = c.id;
      }
    }
    for (const id of [...this.offers.keys()]) if (!offered.has(id)) this.offers.delete(id);
    for (const c of this.chats.values()) {
      if (c.mode === "handle" && !c.ended && !active.has(c.id)) this.checkGone(c);
    }
  }

  async pollChat(c, signal) {
    c.polling = true;
    while (!signal.aborted && this.chats.get(c.id) === c && !c.ended && !c.gone) {
      try {
        const r = await api("GET", `/api/v1/chats/${c.id}/events?after=${c.lastSeq}&wait=25`, { token: this.token, signal });
        for (const ev of r.events) this.event(ev);
        // Events this agent may not see still move the cursor on.
        if (r.last_seq > c.lastSeq) c.lastSeq = r.last_seq;
        this.changed();
      } catch (err) {
        if (signal.aborted) break;
        if (err.status === 403 || err.status === 404) break;
        await pause(2000, signal);
      }
    }
    c.polling = false;
  }

  adopt(view, mode) {
    let c = this.chats.get(view.id);
    if (!c) {
      c = new ChatRecord(view, mode);
      this.chats.set(view.id, c);
    } else {
      c.view = { ...c.view, ...view };
      c.mode = mode;
      c.gone = false;
    }
    return c;
  }

  event(ev) {
    const c = this.chats.get(ev.chat_id);
    if (!c) return;
    if (ev.type === "rtc") return this.callEvent(c, ev);
    if (ev.type === "typing") {
      if (ev.from && ev.from.kind === "visitor") {
        clearTimeout(c.typingTimer);
        c.typing = ev.typing ? ev.from.name || c.title : null;
        // The text being typed, when the visitor's client sends a preview (GMS).
        c.typingText = (ev.typing && ev.text) || "";
        // A lost "stopped" must not leave the indicator on for good.
        if (c.typing) c.typingTimer = setTimeout(() => ((c.typing = null), this.changed()), 15000);
      }
      return;
    }
    if (ev.seq === 0) return; // queue updates and other ephemera
    if (c.seqs.has(ev.seq)) return;
    c.seqs.add(ev.seq);
    if (ev.seq > c.lastSeq) c.lastSeq = ev.seq;
    // Events arrive in order; an ack may overtake the stream by one.
    if (c.events.length && c.events[c.events.length - 1].seq > ev.seq) {
      c.events = [...c.events, ev].sort((a, b) => a.seq - b.seq);
    } else {
      c.events = [...c.events, ev];
    }
    if (ev.type === "message" && ev.from && ev.from.kind === "visitor") {
      clearTimeout(c.typingTimer);
      c.typing = null;
    }
    if (ev.type === "state") {
      c.view = { ...c.view, state: ev.state.state, cause: ev.state.cause || c.view.cause };
      if (ev.state.state === "terminated") c.gone = false; // ended, not gone elsewhere
    }
    if (ev.type === "signal") this.callEvent(c, ev);
    if (ev.type === "seen" && ev.from && ev.from.kind === "visitor") c.visitorSeen = Math.max(c.visitorSeen, ev.seen);
    const mine = ev.from && ev.from.kind === "agent" && this.me && ev.from.agent_id === this.me.id;
    if ((ev.type === "message" || ev.type === "file") && !mine && (this.focus !== c.id || document.hidden)) {
      c.unread++;
    }
    if (ev.type === "message" || ev.type === "file") this.markSeen(c);
  }

  /** markSeen sends the visitor a read receipt for the chat on screen, up to the visitor's last message. */
  markSeen(c) {
    if (!c || c.ended || c.mode !== "handle" || this.focus !== c.id || document.hidden) return;
    const last = c.events.findLast((e) => (e.type === "message" || e.type === "file") && e.from && e.from.kind === "visitor");
    if (!last || last.seq <= c.seenSent) return;
    c.seenSent = last.seq;
    if (this.live && this.live.send({ type: "seen", chat_id: c.id, seq: last.seq })) return;
    this.call("POST", `/api/v1/chats/${c.id}/seen`, { seq: last.seq }).catch(() => {});
  }

  // ---- offers --------------------------------------------------------------

  /**
   * announce tells the agent about a new offer: a "parley:offer" event on
   * window (the hook integrations and tests observe), a desktop
   * notification while the page is in the background, and a short chime.
   */
  announce(chat) {
    const name = (chat.visitor && chat.visitor.name) || "A visitor";
    const detail = { chat_id: chat.id, visitor: name, group: chat.group_name };
    window.dispatchEvent(new CustomEvent("parley:offer", { detail }));
    try {
      if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
        const n = new Notification(`New chat: ${name}`, { body: chat.group_name, tag: chat.id });
        n.onclick = () => {
          window.focus();
          n.close();
        };
      }
    } catch {
      // Notifications are a courtesy; the offer is on screen regardless.
    }
    this.chime();
  }

  unlockSound() {
    if (this.audio || !window.AudioContext) return;
    try {
      this.audio = new AudioContext();
    } catch {
      this.audio = null;
    }
  }

  chime() {
    const ac = this.audio;
    if (!ac || ac.state === "closed") return;
    try {
      const t = ac.currentTime;
      for (const [i, f] of [880, 1320].entries()) {
        const o = ac.createOscillator();
        const g = ac.createGain();
        o.frequency.value = f;
        g.gain.setValueAtTime(0.0001, t + i * 0.12);
        g.gain.exponentialRampToValueAtTime(0.12, t + i * 0.12 + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.12 + 0.25);
        o.connect(g).connect(ac.destination);
        o.start(t + i * 0.12);
        o.stop(t + i * 0.12 + 0.3);
      }
    } catch {
      // no sound device: nothing to do
    }
  }

  async accept(id) {
    try {
      const view = await this.call("POST", `/api/v1/chats/${id}/accept`);
      this.offers.delete(id);
      const c = this.adopt(view, "handle");
      if (this.polling && !c.polling) this.pollChat(c, this.polling.signal);
      this.focusChat(id);
      this.refreshAgents();
    } catch (err) {
      this.offers.delete(id);
      this.fail(err);
    }
    this.changed();
  }

  async decline(id) {
    this.offers.delete(id);
    this.changed();
    await this.call("POST", `/api/v1/chats/${id}/decline`).catch((err) => this.fail(err));
  }

  // ---- chats -----------------------------------------------------------------

  focusChat(id) {
    this.focus = id;
    const c = this.chats.get(id);
    if (c) c.unread = 0;
    this.markSeen(c);
    this.changed();
  }

  async send(id, text) {
    const c = this.chats.get(id);
    if (!c) return false;
    const cid = clientID();
    this.typing(id, false);
    try {
      let ev;
      if (this.live && this.live.online && c.handledBy(this.me)) {
        ev = (await this.live.request({ type: "send", chat_id: id, text, client_id: cid })).event;
      } else {
        ev = await this.call("POST", `/api/v1/chats/${id}/messages`, { text, client_id: cid });
      }
      this.event(ev);
      this.changed();
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  typing(id, on) {
    const c = this.chats.get(id);
    if (!c || c.ended || c.mode !== "handle") return;
    if (!!c.sentTyping === on) return;
    c.sentTyping = on;
    if (this.live && this.live.send({ type: "typing", chat_id: id, typing: on })) return;
    this.call("POST", `/api/v1/chats/${id}/typing`, { typing: on }).catch(() => {});
  }

  async upload(id, file) {
    const c = this.chats.get(id);
    if (!c) return;
    const u = { name: file.name, progress: 0 };
    c.uploads = [...c.uploads, u];
    this.changed();
    const job = upload(`/api/v1/chats/${id}/files?name=${encodeURIComponent(file.name)}`, file, this.token, (p) => {
      u.progress = p;
      this.changed();
    });
    try {
      this.event(await job.done);
    } catch (err) {
      this.fail(err);
    }
    c.uploads = c.uploads.filter((x) => x !== u);
    this.changed();
  }

  /** openFile downloads an attachment and opens it from a blob: URL. */
  async openFile(chatID, file) {
    try {
      const blob = await download(`/api/v1/chats/${chatID}/files/${file.id}`, this.token, file.content_type);
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = file.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      this.fail(err);
    }
  }

  async transfer(id, target) {
    try {
      await this.call("POST", `/api/v1/chats/${id}/transfer`, target);
      const c = this.chats.get(id);
      const to = target.agent_id
        ? (this.agents.find((a) => a.id === target.agent_id) || {}).display_name
        : (this.groups.find((g) => g.id === target.group_id) || {}).name;
      this.close(id);
      this.toast(`${c ? c.title : "The chat"} was transferred to ${to || "the target"}.`);
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  async conference(id, agentID) {
    try {
      await this.call("POST", endpoints.conference(id), { agent_id: agentID });
      const a = this.agents.find((x) => x.id === agentID);
      this.toast(`${a ? a.display_name : "The agent"} was invited to the chat.`);
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  async end(id) {
    try {
      await this.call("POST", `/api/v1/chats/${id}/end`);
    } catch (err) {
      this.fail(err);
    }
  }

  /** mailTranscript queues the transcript mail (to the visitor when email
   * is empty) and reports its delivery once the outbox has sent it. */
  async mailTranscript(id, email) {
    let queued;
    try {
      queued = await this.call("POST", endpoints.transcript(id), { email: email || "" });
    } catch (err) {
      this.fail(err);
      return false;
    }
    this.toast("The transcript is queued for mailing.");
    this.followMail(queued.id);
    return true;
  }

  async followMail(mailID) {
    // The outbox retries for hours; the console follows the first minute.
    const until = Date.now() + 60000;
    while (Date.now() < until && this.token) {
      await new Promise((r) => setTimeout(r, 2000));
      let m;
      try {
        m = await this.call("GET", endpoints.mail(mailID));
      } catch {
        return;
      }
      if (m.status === "sent") return this.toast(`The transcript was mailed to ${m.to}.`);
      if (m.status === "failed") return this.toast(`The transcript could not be mailed: ${m.last_error || "the mail server refused it"}.`, "error");
    }
  }

  /** leave takes the agent out of a chat it joined by conference or barge-in. */
  async leave(id) {
    try {
      await this.call("POST", `/api/v1/chats/${id}/leave`);
      this.close(id);
    } catch (err) {
      this.fail(err);
    }
  }

  /** cannedFor loads the responses usable in a chat, with placeholders
   * filled in by the server; cached for half a minute. */
  async cannedFor(c) {
    if (c.canned && Date.now() - c.cannedAt < 30000) return;
    c.cannedAt = Date.now();
    try {
      c.canned = flattenCanned(await this.call("GET", endpoints.chatCanned(c.id)));
      this.cannedError = null;
    } catch (err) {
      c.canned = [];
      this.cannedError = err.message;
    }
    this.changed();
  }

  // ---- internal chat -----------------------------------------------------------

  thread(agentID) {
    let t = this.team.get(agentID);
    if (!t) {
      t = { messages: [], unread: 0, loaded: false };
      this.team.set(agentID, t);
    }
    return t;
  }

  /** addInternal puts messages into a thread once each, oldest first. */
  addInternal(t, msgs) {
    const seen = new Set(t.messages.map((m) => m.id).filter(Boolean));
    const fresh = msgs.filter((m) => !m.id || !seen.has(m.id));
    t.messages = [...t.messages, ...fresh].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.id || 0) - (b.id || 0));
    return fresh.length;
  }

  internal(m) {
    if (!this.me) return;
    const other = m.from.agent_id === this.me.id ? m.to : m.from;
    const t = this.thread(other.agent_id);
    const added = this.addInternal(t, [m]);
    if (added && m.from.agent_id !== this.me.id && (this.teamOpen !== other.agent_id || document.hidden)) t.unread++;
  }

  /** openThread shows the team chat with an agent, with its history. */
  async openThread(agentID) {
    this.teamOpen = agentID;
    if (agentID == null) return this.changed();
    const t = this.thread(agentID);
    t.unread = 0;
    this.changed();
    if (t.loaded) return;
    try {
      const history = await this.call("GET", `${endpoints.internal(agentID)}?limit=50`);
      t.loaded = true;
      this.addInternal(t, history || []);
    } catch {
      // The live messages still show; the history is a courtesy.
    }
    this.changed();
  }

  async sendInternal(agentID, text) {
    try {
      // The message also comes back on the live feed; it is kept once.
      this.internal(await this.call("POST", endpoints.internal(agentID), { text }));
      this.changed();
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** close removes a chat from the console (after it ended or went away). */
  close(id) {
    const c = this.chats.get(id);
    if (!c) return;
    clearTimeout(c.typingTimer);
    this.chats.delete(id);
    if (c.mode === "monitor" && this.live) this.live.send({ type: "unsubscribe", chat_id: id });
    if (this.focus === id) {
      const next = [...this.chats.values()].find((x) => x.mode === "handle");
      this.focus = next ? next.id : null;
    }
    this.changed();
  }

  // ---- supervisor ----------------------------------------------------------

  /** monitor opens any chat read-only and follows it live. */
  async monitor(id) {
    try {
      const view = await this.call("GET", `/api/v1/chats/${id}`);
      const c = this.adopt(view, this.chats.get(id)?.mode === "handle" ? "handle" : "monitor");
      if (c.mode === "monitor" && this.live) {
        if (!this.live.send({ type: "subscribe", chat_id: id, after: c.lastSeq })) {
          const r = await this.call("GET", `/api/v1/chats/${id}/events?after=${c.lastSeq}`);
          for (const ev of r.events) this.event(ev);
        }
      }
      this.focusChat(id);
      return c;
    } catch (err) {
      this.fail(err);
      return null;
    }
  }

  async whisper(id, text) {
    try {
      const ev = await this.call("POST", endpoints.whisper(id), { text, client_id: clientID() });
      if (ev && ev.seq) this.event(ev);
      this.changed();
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  async barge(id) {
    try {
      this.adopt(await this.call("POST", endpoints.barge(id)), "handle");
      this.changed();
    } catch (err) {
      this.fail(err);
    }
  }

  // ---- canned responses ------------------------------------------------------

  async loadCanned() {
    try {
      this.canned = flattenCanned(await this.call("GET", endpoints.canned));
      this.cannedError = null;
    } catch (err) {
      this.canned = [];
      this.cannedError = err.status === 404 ? "This server has no canned responses API." : err.message;
    }
    this.changed();
  }
}

/** pause resolves after ms, or at once when signal aborts. */
function pause(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}

function readSaved() {
  try {
    return JSON.parse(sessionStorage.getItem(storeKey)) || {};
  } catch {
    return {};
  }
}
