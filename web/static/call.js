// Audio and video calls of one chat, browser to browser (WebRTC). The
// widget and the console load this module only when a call starts or
// rings, so a chat that never calls never downloads it. Signalling goes
// through the chat (POST /api/v1/chats/{id}/signal); the media never
// touches Parley, except relayed through a TURN server.

import { h, icon } from "./dom.js";

const ICONS = {
  mic: "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM5 11a7 7 0 0 0 14 0M12 18v3",
  cam: "M3 7h12v10H3zM15 10l6-3v10l-6-3",
  end: "M3 15c5-5 13-5 18 0l-2 3-4-2v-3c-2-1-4-1-6 0v3l-4 2z",
  screen: "M3 4h18v12H3zM8 20h8M12 16v4",
};

// How long a call whose connection dropped waits for the other side to
// come back (a page reload or a new network) before it ends.
const GRACE_MS = 20000;

/** The length of a call as "4:12" (or "1:02:03"). */
export function timer(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const mm = String(Math.floor(s / 60) % 60).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${Math.floor(s / 60)}:${ss}`;
}

/** Words a refused camera or microphone for people. */
export function mediaProblem(err, media) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") return ["callDenied", "Your browser blocked the microphone or camera. Allow them for this site (the icon in the address bar), then try again."];
  if (name === "NotFoundError" || name === "OverconstrainedError")
    return media === "video" ? ["callNoCamera", "No camera or microphone was found. Connect one, or start an audio call."] : ["callNoMic", "No microphone was found. Connect one and try again."];
  if (name === "NotReadableError") return ["callBusy", "Your microphone or camera is in use by another program. Close it and try again."];
  if (!navigator.mediaDevices) return ["callUnsupported", "This browser cannot make calls here. Try a current browser over https."];
  return ["callFailed", "The call could not start."];
}

/**
 * openCall reads a chat's events for its open call: {id, media, caller
 * (mine(from) rang), accepted (ms, 0 while ringing), from, by (who
 * answered)}, or null.
 */
export function openCall(events, mine) {
  let open = null;
  for (const e of events) {
    const s = e.type === "signal" && e.signal;
    if (!s) continue;
    if (s.action === "invite") open = { id: s.call, media: s.media, caller: mine(e.from || {}), from: e.from, accepted: 0 };
    else if (open && s.call === open.id && s.action === "accept") Object.assign(open, { accepted: Date.parse(e.at) || Date.now(), by: e.from || {} });
    else if (open && s.call === open.id) open = null;
  }
  return open;
}

/**
 * Calls runs the calls of one chat for one side.
 *
 * env: chatId; mine(from) says whether a party is this side; send(signal)
 * posts a signal and resolves to the stored event (or null when relayed);
 * ice(callId) resolves to {ice_servers}; t(key, fallback, ...args) words
 * things; mount is the element the call view fills; peer() names the
 * other side; policy is the iceTransportPolicy ("all" unless set);
 * share offers screen sharing in video calls (the console's agents);
 * onChange(state) is told "ringing", "calling", "live" and "idle".
 */
export class Calls {
  constructor(env) {
    this.env = env;
    if (!document.querySelector("link[data-call]")) {
      document.head.append(h("link", { rel: "stylesheet", href: new URL("./call.css", import.meta.url).href, "data-call": "" }));
    }
    this.call = null; // {id, media, caller, accepted}
    this.pc = null;
    this.local = null;
    this.pending = []; // remote candidates before the remote description
    this.muted = false;
    this.camOff = false;
  }

  t(key, fallback, ...args) {
    return this.env.t(key, fallback, ...args);
  }

  /** Starts a call from this side. */
  async start(media) {
    if (this.call) return;
    this.call = { id: "", media, caller: true };
    this.draw();
    try {
      await this.media(media);
      const e = await this.env.send({ action: "invite", media });
      if (!this.call) return; // hung up meanwhile
      this.call.id = e.signal.call;
      this.draw();
    } catch (err) {
      this.fail(err, media);
    }
  }

  /**
   * Picks up the call the chat's events show open, when this side's page
   * changed during it (or while it rang). A live call starts over on a
   * new connection: this side offers, the other side answers on a new
   * connection of its own (see rtc). A call this side is already
   * connected in, or only watches (a supervisor), is left alone.
   */
  async restore(events) {
    const call = openCall(events, this.env.mine);
    if (!call || (this.call && (this.call.id !== call.id || this.ready))) return;
    if (call.accepted && !call.caller && !this.env.mine(call.by)) return;
    const c = Object.assign(this.call || {}, call, { ringing: !call.caller && !call.accepted });
    this.call = c;
    this.draw();
    if (c.ringing) return;
    try {
      await this.media(c.media);
      if (this.call !== c || !c.accepted) return; // calling: the answer brings the offer
      this.hold = []; // candidates wait for the offer
      await this.connect();
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      await this.env.send({ action: "offer", call: c.id, sdp: offer.sdp });
      for (const cand of this.hold.splice(0)) this.env.send({ action: "candidate", call: c.id, candidate: cand }).catch(() => {});
      this.hold = null;
      this.tell({ audio: true, ...(c.media === "video" ? { video: true } : {}) });
    } catch (err) {
      this.fail(err, c.media);
    }
  }

  /** Handles a signal or rtc event of the chat. */
  async event(e) {
    const s = e.signal || {};
    const mine = this.env.mine(e.from || {});
    try {
      if (e.type === "signal") await this.lifecycle(s, mine, e);
      else if (e.type === "rtc" && this.call && s.call === this.call.id) await this.rtc(s);
    } catch (err) {
      console.warn("call signal", err);
    }
  }

  async lifecycle(s, mine, e) {
    const c = this.call;
    if (s.action === "invite") {
      if (mine) {
        if (c && !c.id) c.id = s.call;
        return;
      }
      if (c) return;
      this.call = { id: s.call, media: s.media, caller: false, ringing: true, from: e.from };
      this.draw();
      return;
    }
    if (!c || s.call !== c.id) return;
    if (s.action === "accept") {
      c.ringing = false;
      c.accepted = Date.parse(e.at) || Date.now();
      if (c.caller && !mine) {
        await this.connect();
        const offer = await this.pc.createOffer();
        await this.pc.setLocalDescription(offer);
        await this.env.send({ action: "offer", call: c.id, sdp: offer.sdp });
      } else if (!mine) {
        this.end(); // another agent answered the visitor's call
        return;
      }
      this.draw();
      return;
    }
    // decline, hangup, end
    this.end();
  }

  async rtc(s) {
    if (s.action === "media") {
      if (typeof s.screen === "boolean") this.remoteScreen = s.screen;
      if (typeof s.video === "boolean") this.remoteCamOff = !s.video;
      if (typeof s.audio === "boolean") this.remoteMuted = !s.audio;
      this.draw();
      return;
    }
    if (!this.ready) {
      if (s.action === "candidate" && s.candidate) this.pending.push(s.candidate);
      return;
    }
    await this.ready;
    if (s.action === "offer" && this.pc && this.pc.remoteDescription) {
      // The other side came back on a new connection (its page changed):
      // start over on a new one too, with the same camera and microphone.
      this.renew();
      await this.connect();
    }
    const pc = this.pc;
    if (s.action === "offer" && pc) {
      await pc.setRemoteDescription({ type: "offer", sdp: s.sdp });
      await this.drain();
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      await this.env.send({ action: "answer", call: this.call.id, sdp: answer.sdp });
    } else if (s.action === "answer" && pc) {
      await pc.setRemoteDescription({ type: "answer", sdp: s.sdp });
      await this.drain();
    } else if (s.action === "candidate" && s.candidate) {
      if (pc && pc.remoteDescription) await pc.addIceCandidate(s.candidate.candidate ? s.candidate : null);
      else this.pending.push(s.candidate);
    }
  }

  // renew drops the call's connection (not its media) for a new one.
  renew() {
    const old = this.pc;
    this.pc = this.ready = null;
    this.pending = [];
    clearTimeout(this.lost);
    if (old) {
      old.onconnectionstatechange = old.onicecandidate = old.ontrack = null;
      old.close();
    }
  }

  async drain() {
    for (const c of this.pending.splice(0)) await this.pc.addIceCandidate(c.candidate ? c : null);
  }

  /** Answers a ringing call. */
  async accept() {
    const c = this.call;
    if (!c || !c.ringing) return;
    c.ringing = false;
    this.draw();
    try {
      await this.media(c.media);
      // Ready for the offer before the caller learns of the answer.
      await this.connect();
      await this.env.send({ action: "accept", call: c.id });
    } catch (err) {
      this.fail(err, c.media);
    }
  }

  /** Declines a ringing call or hangs up. */
  hangup() {
    const c = this.call;
    if (!c) return;
    if (c.id) this.env.send({ action: c.ringing ? "decline" : "hangup", call: c.id }).catch(() => {});
    this.end();
  }

  async media(media) {
    if (this.local) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("no media devices");
    this.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: media === "video" });
    this.draw();
  }

  connect() {
    return (this.ready ||= this.open());
  }

  async open() {
    const c = this.call;
    const ice = await this.env.ice(c.id);
    const pc = new RTCPeerConnection({ iceServers: ice.ice_servers || [], iceTransportPolicy: this.env.policy || "all" });
    this.pc = pc;
    this.senders = {};
    for (const tr of this.local.getTracks()) this.senders[tr.kind] = pc.addTrack(tr, this.local);
    pc.onicecandidate = (ev) => {
      const cand = ev.candidate ? ev.candidate.toJSON() : { candidate: "" };
      if (this.hold) this.hold.push(cand);
      else this.env.send({ action: "candidate", call: c.id, candidate: cand }).catch(() => {});
    };
    pc.ontrack = (ev) => {
      this.remote = ev.streams[0] || new MediaStream([ev.track]);
      this.draw();
    };
    // A new connection (after renew) sends what the old one did.
    const video = this.senders.video;
    if (this.muted && this.senders.audio) this.senders.audio.replaceTrack(null).catch(() => {});
    if (video && this.screen) video.replaceTrack(this.screen.getVideoTracks()[0]).catch(() => {});
    else if (video && this.camOff) video.replaceTrack(null).catch(() => {});
    pc.onconnectionstatechange = () => {
      const st = pc.connectionState;
      if (st === "failed" || st === "disconnected") {
        // The other side may come back (a reload): wait for its offer.
        clearTimeout(this.lost);
        this.lost = setTimeout(() => {
          if (this.pc !== pc || pc.connectionState === "connected") return;
          this.problem = this.t("callLost", "The connection was lost.");
          this.hangup();
        }, GRACE_MS);
      } else if (st === "connected") clearTimeout(this.lost);
      this.draw();
    };
  }

  fail(err, media) {
    const [key, text] = mediaProblem(err, media);
    this.problem = this.t(key, text);
    this.hangup();
  }

  /** Turns the microphone off or on. */
  toggleMute() {
    this.muted = !this.muted;
    this.tracks("audio", !this.muted);
    this.tell({ audio: !this.muted });
  }

  /** Turns the camera off or on. */
  toggleCamera() {
    this.camOff = !this.camOff;
    this.tracks("video", !this.camOff);
    this.tell({ video: !this.camOff });
  }

  // tracks turns the local track of a kind on or off: a muted microphone
  // sends nothing at all (not even silence). While the screen is shared,
  // the camera's state waits for the sharing to stop.
  tracks(kind, on) {
    const tr = this.local && this.local.getTracks().find((x) => x.kind === kind);
    if (tr) tr.enabled = on;
    const s = this.senders && this.senders[kind];
    if (s && tr && !(kind === "video" && this.screen)) s.replaceTrack(on ? tr : null).catch(() => {});
    this.draw();
  }

  /**
   * Shares the screen instead of the camera, or goes back to the camera.
   * The screen's track replaces the camera's on the same sender, so the
   * other side needs no new negotiation; the browser's own "Stop sharing"
   * ends it too.
   */
  async toggleShare() {
    if (this.screen) return this.stopShare();
    const sender = this.senders && this.senders.video;
    if (!sender || !navigator.mediaDevices.getDisplayMedia) return;
    let screen;
    try {
      screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch {
      return; // the agent chose nothing
    }
    const tr = screen.getVideoTracks()[0];
    if (!this.call || !tr || !this.senders || this.senders.video !== sender) {
      for (const x of screen.getTracks()) x.stop();
      return;
    }
    this.screen = screen;
    tr.onended = () => this.stopShare();
    await sender.replaceTrack(tr);
    this.tell({ screen: true });
    this.draw();
  }

  stopShare() {
    const screen = this.screen;
    if (!screen) return;
    this.screen = null;
    for (const x of screen.getTracks()) x.stop();
    const cam = this.local && this.local.getVideoTracks()[0];
    const s = this.senders && this.senders.video;
    if (s) s.replaceTrack(cam && !this.camOff ? cam : null).catch(() => {});
    this.tell({ screen: false });
    this.draw();
  }

  tell(state) {
    const c = this.call;
    if (c && c.accepted) this.env.send({ action: "media", call: c.id, ...state }).catch(() => {});
  }

  end() {
    if (this.screen) for (const tr of this.screen.getTracks()) tr.stop();
    this.screen = null;
    if (this.pc) this.pc.close();
    if (this.local) for (const tr of this.local.getTracks()) tr.stop();
    clearInterval(this.tick);
    clearTimeout(this.lost);
    this.call = this.pc = this.local = this.remote = this.ready = this.senders = this.hold = null;
    this.pending = [];
    this.muted = this.camOff = this.remoteMuted = this.remoteCamOff = this.remoteScreen = false;
    this.draw();
  }

  state() {
    const c = this.call;
    if (!c) return "idle";
    if (c.ringing) return "ringing";
    return c.accepted ? "live" : "calling";
  }

  // mount puts the view into env.mount (an element, or a function giving
  // one: the console re-renders its columns).
  mount() {
    const m = this.env.mount;
    if (this.view && !this.view.isConnected) (typeof m === "function" ? m() : m).append(this.view);
  }

  // draw renders the call view (or removes it) in env.mount.
  draw() {
    const st = this.state();
    if (this.env.onChange) this.env.onChange(st);
    if (st === "idle") {
      if (this.view) this.view.remove();
      this.view = null;
      if (this.problem) {
        const p = this.problem;
        this.problem = "";
        if (this.env.notify) this.env.notify(p);
      }
      return;
    }
    const c = this.call;
    if (!this.view) {
      this.view = h("section", { class: "call-view", role: "dialog", "aria-label": this.t("callTitle", "Call") });
      this.mount();
      this.remoteEl = h("video", { class: "call-remote", autoplay: "", playsinline: "" });
      this.localEl = h("video", { class: "call-local", autoplay: "", playsinline: "" });
      this.localEl.muted = true;
    }
    this.mount();
    const v = this.view;
    v.dataset.state = st;
    v.dataset.media = c.media;
    v.dataset.screen = this.screen ? "local" : this.remoteScreen ? "remote" : "";
    if (this.remoteEl.srcObject !== this.remote) this.remoteEl.srcObject = this.remote || null;
    const preview = this.screen || this.local;
    if (this.localEl.srcObject !== preview) this.localEl.srcObject = preview || null;
    const who = this.env.peer ? this.env.peer(c) : "";
    let status;
    if (st === "ringing") status = this.t(c.media === "video" ? "callIncomingVideo" : "callIncomingAudio", c.media === "video" ? "{0} is calling you (video)" : "{0} is calling you", who);
    else if (st === "calling") status = this.t("callCalling", "Calling…");
    else if (this.pc && /failed|disconnected/.test(this.pc.connectionState)) status = this.t("callReconnecting", "Reconnecting…");
    else if (this.screen) status = this.t("callSharing", "You are sharing your screen");
    else if (this.remoteScreen) status = this.t("callPeerSharing", "{0} is sharing the screen", who);
    else status = this.remoteMuted ? this.t("callPeerMuted", "{0} muted the microphone", who) : who;
    const btn = (cls, label, d, on, pressed) =>
      h("button", { type: "button", class: `call-btn ${cls}`, "aria-label": label, title: label, onclick: on, ...(pressed === undefined ? {} : { "aria-pressed": String(pressed) }) }, icon(d));
    const controls =
      st === "ringing"
        ? [
            h("button", { type: "button", class: "btn call-accept", onclick: () => this.accept(), text: this.t("callAccept", "Accept") }),
            h("button", { type: "button", class: "btn btn-danger call-decline", onclick: () => this.hangup(), text: this.t("callDecline", "Decline") }),
          ]
        : [
            btn("call-mute", this.muted ? this.t("callUnmute", "Turn microphone on") : this.t("callMute", "Mute microphone"), ICONS.mic, () => this.toggleMute(), this.muted),
            ...(c.media === "video" ? [btn("call-camera", this.camOff ? this.t("callCameraOn", "Turn camera on") : this.t("callCameraOff", "Turn camera off"), ICONS.cam, () => this.toggleCamera(), this.camOff)] : []),
            ...(c.media === "video" && this.env.share && st === "live" && navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia
              ? [btn("call-share", this.screen ? this.t("callShareStop", "Stop sharing the screen") : this.t("callShare", "Share screen"), ICONS.screen, () => this.toggleShare(), !!this.screen)]
              : []),
            btn("call-hangup", this.t("callHangup", "Hang up"), ICONS.end, () => this.hangup()),
          ];
    const time = h("span", { class: "call-timer", role: "timer" });
    const stage = h("div", { class: "call-stage" }, this.remoteEl, c.media === "video" && st !== "ringing" ? this.localEl : "");
    v.replaceChildren(stage, h("div", { class: "call-bar" }, h("p", { class: "call-status", text: status }), time), h("div", { class: "call-controls" }, ...controls));
    clearInterval(this.tick);
    if (c.accepted) {
      const show = () => {
        time.textContent = timer(Date.now() - c.accepted);
        this.mount();
      };
      show();
      this.tick = setInterval(show, 1000);
    }
    // Reattached videos pause; start them again.
    for (const el of [this.remoteEl, this.localEl]) if (el.srcObject && el.paused) el.play().catch(() => {});
  }
}
