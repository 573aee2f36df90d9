// The agent console at /agent/: sign-in, status, offers, chats side by
// side with visitor details, canned responses, transfer and conference;
// the supervisor, archive and canned-response views live in
// console-views.js. Rendered with Preact and htm, no build step.

import { render } from "./vendor/preact.mjs";
import { useState, useEffect, useRef, useMemo } from "./vendor/hooks.mjs";
import { Model } from "./console-model.js";
import {
  html,
  duration,
  since,
  clock,
  dateTime,
  initials,
  fileSize,
  matchCanned,
  noticeText,
  notReadyReasons,
  endpoints,
  Icon,
  Avatar,
  StatusDot,
  statusLabel,
  RichText,
  WebLink,
  Thumb,
  Stars,
  ratingOf,
  visitorContext,
  browser,
  localTime,
  useTick,
} from "./console-lib.js";
import { Supervisor, Archive, Responses, Transcript } from "./console-views.js";
import { callText } from "./chatlog.js";

const model = new Model();
// Exposed for integrations and tests, like the "parley:offer" event.
window.parleyConsole = model;

// ---- small pieces ------------------------------------------------------

function useModel() {
  const [, set] = useState(0);
  useEffect(() => model.subscribe(() => set((n) => n + 1)), []);
  return model;
}

// ---- sign in -------------------------------------------------------------

function Login() {
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const f = e.currentTarget;
    setBusy(true);
    setErr("");
    try {
      await model.login(f.login.value.trim(), f.password.value);
    } catch (x) {
      setErr(x.message);
      setBusy(false);
    }
  };
  return html`<main class="login">
    <form class="login-card" id="login-form" onSubmit=${submit} novalidate>
      <div class="login-brand"><span class="logo-mark"><${Icon} name="chat" size=${18} /></span>Parley</div>
      <h1>Sign in to the console</h1>
      <label class="field"><span>Login</span>
        <input id="login-name" name="login" autocomplete="username" autocapitalize="none" spellcheck="false" required /></label>
      <label class="field"><span>Password</span>
        <input id="login-password" name="password" type="password" autocomplete="current-password" required /></label>
      ${err && html`<p class="alert" role="alert">${err}</p>`}
      <button id="login-submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}

// ---- top bar ----------------------------------------------------------------

function StatusMenu() {
  const me = model.me;
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const ref = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const close = (e) => ref.current && !ref.current.contains(e.target) && setOpen(false);
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);
  const pick = (status, why) => {
    setOpen(false);
    model.setStatus(status, why);
  };
  const cls = me.presence === "available" ? me.status : me.presence;
  return html`<div class="status" ref=${ref}>
    <button id="status-button" class=${"status-btn st-" + cls} aria-haspopup="menu" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      <${StatusDot} agent=${me} /><span id="status-label">${statusLabel(me)}</span><span class="caret" aria-hidden="true">▾</span>
    </button>
    ${(me.status !== "ready" || me.presence !== "available") &&
    html`<button id="go-ready" class="btn btn-primary btn-sm" onClick=${() => pick("ready")}>Go ready</button>`}
    ${open &&
    html`<div class="menu" role="menu">
      <button role="menuitem" id="status-ready" onClick=${() => pick("ready")}><span class="sdot sdot-ready"></span>Ready</button>
      <div class="menu-label">Not ready</div>
      ${notReadyReasons.map(
        (r) =>
          html`<button role="menuitem" data-reason=${r} onClick=${() => pick("not_ready", r)}><span class="sdot sdot-not_ready"></span>${r}</button>`,
      )}
      <form class="menu-reason" onSubmit=${(e) => (e.preventDefault(), reason.trim() && pick("not_ready", reason.trim()))}>
        <input id="status-reason" placeholder="Other reason…" maxlength="200" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} />
      </form>
      <button role="menuitem" id="status-wrapup" onClick=${() => pick("wrap_up")}><span class="sdot sdot-wrap_up"></span>Wrap-up</button>
      <div class="menu-sep"></div>
      <button role="menuitem" onClick=${() => (setOpen(false), model.setPresence("away"))}><span class="sdot sdot-away"></span>Away</button>
    </div>`}
  </div>`;
}

function Topbar() {
  const me = model.me;
  const handling = [...model.chats.values()].filter((c) => c.mode === "handle" && !c.ended && !c.gone).length;
  const conn = { online: "Live", connecting: "Connecting…", offline: "Reconnecting…", stopped: "Offline", polling: "Live (polling)" }[model.conn] || "";
  return html`<header class="topbar">
    <${StatusMenu} />
    <div class="top-stats">
      <span class="stat"><b id="load">${handling}</b>/${me.capacity || "–"} chats</span>
      <span class="stat"><b>${model.offers.size}</b> waiting for you</span>
    </div>
    <div class="top-right">
      <span class=${"conn conn-" + model.conn} title="Connection">${conn}</span>
      <button class="icon-btn" title="Switch theme" aria-label="Switch theme"
        onClick=${() => model.setTheme(effectiveTheme() === "dark" ? "light" : "dark")}>
        <${Icon} name=${effectiveTheme() === "dark" ? "sun" : "moon"} />
      </button>
      <span class="me"><${Avatar} name=${me.display_name || me.login} id=${me.id} photo=${me.photo_url} size="sm" /><span class="me-name">${me.display_name || me.login}</span></span>
      <button class="icon-btn" id="logout" title="Sign out" aria-label="Sign out" onClick=${() => model.logout()}><${Icon} name="logout" /></button>
    </div>
  </header>`;
}

function effectiveTheme() {
  if (model.theme) return model.theme;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function Rail() {
  const items = [
    ["chats", "chat", "Chats"],
    ...(model.isSupervisor ? [["supervisor", "chart", "Supervisor"]] : []),
    ["archive", "archive", "Archive"],
    ["responses", "canned", "Responses"],
  ];
  const unread =
    [...model.chats.values()].reduce((n, c) => n + c.unread, 0) + [...model.team.values()].reduce((n, t) => n + t.unread, 0) + model.offers.size;
  return html`<nav class="rail" aria-label="Views">
    <a class="rail-logo" href="#chats" title="Parley"><${Icon} name="chat" size=${18} /></a>
    ${items.map(
      ([id, icon, label]) => html`<a href=${"#" + id} id=${"nav-" + id} class=${"rail-item" + (model.view === id ? " active" : "")}
        aria-current=${model.view === id ? "page" : undefined} title=${label}>
        <${Icon} name=${icon} size=${18} /><span>${label}</span>
        ${id === "chats" && unread > 0 && html`<span class="rail-badge">${unread}</span>`}
      </a>`,
    )}
  </nav>`;
}

// ---- offers and the chat list --------------------------------------------------

function Offer({ id, offer }) {
  const chat = offer.chat;
  const name = (chat.visitor && chat.visitor.name) || "Visitor";
  const left = offer.deadline ? Math.max(0, Math.ceil((offer.deadline - Date.now()) / 1000)) : null;
  const total = offer.secs || 0;
  const frac = left != null && total ? left / total : 1;
  const waited = since(chat.queued_at || chat.created_at);
  return html`<li class="offer" data-chat=${id}>
    <div class="offer-head">
      <${Avatar} name=${name} />
      <div class="offer-who"><strong class="offer-name">${name}</strong><span class="muted">${chat.group_name} · waited ${duration(waited)}</span></div>
      ${left != null &&
      html`<svg class=${"ring" + (left <= 10 ? " ring-late" : "")} viewBox="0 0 36 36" width="34" height="34" role="img" aria-label=${left + " seconds left"}>
        <circle cx="18" cy="18" r="15" class="ring-bg" />
        <circle cx="18" cy="18" r="15" class="ring-fg" stroke-dasharray=${`${(frac * 94.25).toFixed(2)} 94.25`} />
        <text x="18" y="22" text-anchor="middle" class="offer-countdown">${left}</text>
      </svg>`}
    </div>
    ${chat.transfer_note && html`<p class="offer-note"><b>Note:</b> ${chat.transfer_note}</p>`}
    <div class="offer-actions">
      <button class="btn btn-primary btn-sm accept" onClick=${() => model.accept(id)}>Accept</button>
      <button class="btn btn-sm decline" onClick=${() => model.decline(id)}>Decline</button>
    </div>
  </li>`;
}

function ChatList() {
  const chats = [...model.chats.values()];
  const offers = [...model.offers.entries()];
  return html`<section class="list-col" aria-label="Offers and chats">
    <div class="list-section">
      <h2>Offers ${offers.length > 0 && html`<span class="count count-hot" id="offer-count">${offers.length}</span>`}</h2>
      ${offers.length
        ? html`<ul class="offers" id="offers">${offers.map(([id, o]) => html`<${Offer} key=${id} id=${id} offer=${o} />`)}</ul>`
        : html`<p class="empty">${model.me.status === "ready" ? "You are ready. New chats appear here." : "Go ready to receive chats."}</p>`}
    </div>
    ${model.manualGroups.length > 0 &&
    html`<div class="list-section">
      <h2>Waiting to be picked ${model.pickable.length > 0 && html`<span class="count count-hot">${model.pickable.length}</span>`}</h2>
      ${model.pickable.length === 0
        ? html`<p class="empty">Nobody is waiting in ${model.manualGroups.map((g) => g.name).join(", ")}.</p>`
        : html`<ul class="offers" id="pickable">${model.pickable.map((c) => {
            const name = (c.visitor && c.visitor.name) || "Visitor";
            return html`<li key=${c.id} class="pickable" data-chat=${c.id}>
              <${Avatar} name=${name} size="sm" />
              <span class="ci-main"><span class="ci-name">${name}</span><span class="ci-prev">${c.group_name} · waiting ${duration(since(c.queued_at || c.created_at))}</span></span>
              <button class="btn btn-sm btn-primary pick-chat" onClick=${() => model.pick(c.id)}>Pick</button>
            </li>`;
          })}</ul>`}
    </div>`}
    <div class="list-section grow">
      <h2>Chats <span class="count">${chats.length}</span></h2>
      <ul class="chat-list" id="chat-list">
        ${chats.map((c) => {
          const p = c.preview;
          return html`<li key=${c.id}>
            <button class=${"chat-item" + (model.focus === c.id ? " active" : "") + (c.ended || c.gone ? " ended" : "")}
              data-chat=${c.id} onClick=${() => model.focusChat(c.id)}>
              <${Avatar} name=${c.title} size="sm" />
              <span class="ci-main">
                <span class="ci-top"><span class="ci-name">${c.title}</span>
                  <span class="ci-time">${c.ended ? "ended" : c.mode === "monitor" ? "monitor" : duration(since(c.view.accepted_at || c.view.created_at))}</span></span>
                <span class="ci-prev">${c.typing ? html`<i>typing…</i>` : p ? (p.type === "file" ? "📎 " + p.file.name : p.text) : c.view.group_name}</span>
              </span>
              ${c.unread > 0 && html`<span class="unread" aria-label=${c.unread + " unread"}>${c.unread}</span>`}
            </button>
          </li>`;
        })}
      </ul>
      ${chats.length === 0 && html`<p class="empty">Accepted chats appear here, side by side.</p>`}
    </div>
    <${Team} />
  </section>`;
}

function Team() {
  const others = model.agents.filter((a) => model.me && a.id !== model.me.id);
  return html`<div class="list-section team">
    <h2>Team</h2>
    <ul class="team-list" id="team">
      ${others.map((a) => {
        const t = model.team.get(a.id);
        return html`<li key=${a.id}><button class=${"team-item" + (model.teamOpen === a.id ? " active" : "")} data-agent=${a.login}
          onClick=${() => model.openThread(model.teamOpen === a.id ? null : a.id)}>
          <${StatusDot} agent=${a} /><span class="grow">${a.display_name || a.login}</span>
          ${t && t.unread > 0 ? html`<span class="unread">${t.unread}</span>` : html`<span class="muted small">${statusLabel(a)}</span>`}
        </button></li>`;
      })}
    </ul>
  </div>`;
}

function TeamColumn({ agentID }) {
  const a = model.agents.find((x) => x.id === agentID) || { display_name: "Colleague" };
  const t = model.thread(agentID);
  const [text, setText] = useState("");
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current) ref.current.scrollTop = ref.current.scrollHeight;
  });
  const submit = async (e) => {
    e.preventDefault();
    const v = text.trim();
    if (!v) return;
    setText(""); // as in Composer: keep what is typed during the send
    if (!(await model.sendInternal(agentID, v))) setText((cur) => (cur === "" ? v : cur));
  };
  return html`<section class="column team-column" aria-label=${"Team chat with " + (a.display_name || a.login)}>
    <header class="col-head">
      <${Avatar} name=${a.display_name || a.login} id=${a.id} photo=${a.photo_url} />
      <div class="col-who"><b class="col-name">${a.display_name || a.login}</b><span class="muted small">Team chat · never shown to visitors</span></div>
      <div class="col-actions"><button class="icon-btn" aria-label="Close" title="Close" onClick=${() => model.openThread(null)}><${Icon} name="end" /></button></div>
    </header>
    <ol class="log" ref=${ref}>
      ${t.messages.length === 0 && html`<li class="ev-system">Say hello to ${a.display_name || a.login}.</li>`}
      ${t.messages.map((m) => {
        const own = m.from.agent_id === model.me.id;
        return html`<li class=${"msg " + (own ? "msg-out msg-own" : "msg-in")}><div class="msg-meta">${m.from.name} · ${clock(m.at)}</div><div class="bubble">${m.text}</div></li>`;
      })}
    </ol>
    <form class="composer" onSubmit=${submit}>
      <textarea class="composer-input" rows="1" value=${text} aria-label="Team message" placeholder=${"Message " + (a.display_name || a.login)}
        onInput=${(e) => setText(e.currentTarget.value)} onKeyDown=${(e) => e.key === "Enter" && !e.shiftKey && submit(e)}></textarea>
      <div class="composer-bar"><span class="grow"></span><button class="btn btn-primary btn-sm send" disabled=${!text.trim()}><${Icon} name="send" />Send</button></div>
    </form>
  </section>`;
}

// ---- the chat log ------------------------------------------------------------

function EventRow({ chat, ev, seen }) {
  const me = model.me;
  const from = ev.from || { kind: "system" };
  const internal = ev.audience === "agents";
  if (ev.type === "message" || ev.type === "file") {
    if (from.kind === "system" && ev.type === "message") {
      return html`<li class="ev-system">${ev.text}</li>`;
    }
    const own = from.kind === "agent" && from.agent_id === me.id;
    const who = from.name || (from.kind === "visitor" ? chat.title : "Agent");
    const body =
      ev.type === "file"
        ? html`<div class="file-box"><button class="file-chip" onClick=${() => model.openFile(chat.id, ev.file)}><${Icon} name="file" /><span>${ev.file.name}</span><span class="muted">${fileSize(ev.file.size)}</span></button>
            <${Thumb} chatID=${chat.id} file=${ev.file} token=${model.token} onOpen=${() => model.openFile(chat.id, ev.file)} /></div>`
        : html`<div class="bubble"><${RichText} text=${ev.text} /></div>`;
    if (internal) {
      // A whisper or an agents-only note: its own style in the middle of
      // the log, labelled in words, never mistaken for a reply.
      const label = from.kind === "agent" ? "Whisper" : "Agents only";
      return html`<li class="msg msg-whisper" data-seq=${ev.seq} role="note" aria-label=${`${label} from ${who}, the visitor can't see this`}>
        <div class="msg-meta"><span class="tag-internal"><${Icon} name="eye" size=${12} />${label}</span> · ${who} · ${clock(ev.at)} · <span class="whisper-note">the visitor can't see this</span></div>
        ${body}
      </li>`;
    }
    const side = from.kind === "visitor" ? "in" : "out";
    const bot = from.kind === "bot";
    const cls = `msg msg-${side}${own ? " msg-own" : ""}${bot ? " msg-bot" : ""}`;
    return html`<li class=${cls} data-seq=${ev.seq}>
      <div class="msg-meta">${bot && html`<span class="tag-bot">Bot</span> `}${who} · ${clock(ev.at)}${ev.message_type && html` · <span class="msg-type">${ev.message_type}</span>`}</div>
      ${body}
      ${seen && html`<div class="msg-status">Seen</div>`}
    </li>`;
  }
  if (ev.type === "notice" && ev.notice === "rated") {
    const score = Number((ev.args || [])[0]);
    const comment = (ev.args || [])[1] || "";
    return html`<li class="ev-rating" data-seq=${ev.seq}><span>The visitor rated the chat</span> <${Stars} score=${score} />${comment && html`<q class="rating-comment">${comment}</q>`}</li>`;
  }
  if (ev.type === "notice") {
    return html`<li class=${"ev-system" + (internal ? " ev-internal" : "")}>${noticeText(ev)}</li>`;
  }
  if (ev.type === "joined" || ev.type === "left") {
    const who = from.name || (from.kind === "visitor" ? chat.title : "Agent");
    return html`<li class="ev-system">${who} ${ev.type === "joined" ? "joined" : "left"} · ${clock(ev.at)}</li>`;
  }
  if (ev.type === "state" && ev.state.state === "terminated") {
    return html`<li class="ev-system ev-end">Chat ended${ev.state.cause ? " · " + ev.state.cause.replace(/_/g, " ") : ""}</li>`;
  }
  if (ev.type === "signal") {
    const text = ev.signal && callText(ev.signal, (k, en, ...a) => en.replace(/\{(\d+)\}/g, (m, i) => a[i] ?? m));
    return text ? html`<li class="ev-system ev-call">${text} · ${clock(ev.at)}</li>` : null;
  }
  if (ev.type === "url") {
    const c = ev.context || {};
    if (!ev.url) return null;
    const who = from.kind === "visitor" ? "Visitor" : from.name || "Agent";
    return html`<li class="ev-system ev-url">${who} ${from.kind === "visitor" && ev.context ? "is on" : "shared"} <${WebLink} href=${ev.url}>${c.title || ev.url}</${WebLink}> · ${clock(ev.at)}</li>`;
  }
  return null;
}

function Log({ chat }) {
  const ref = useRef(null);
  const stick = useRef(true);
  useEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });
  const onScroll = (e) => {
    const el = e.currentTarget;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };
  // "Seen" goes under the newest agent message the visitor has read.
  const seenSeq = chat.events.findLast((e) => e.seq <= chat.visitorSeen && (e.type === "message" || e.type === "file") && e.from && e.from.kind === "agent" && e.audience !== "agents")?.seq;
  return html`<ol class="log" ref=${ref} role="log" aria-live="polite" onScroll=${onScroll}>
    ${chat.events.map((ev) => html`<${EventRow} key=${ev.seq} chat=${chat} ev=${ev} seen=${ev.seq === seenSeq} />`)}
  </ol>`;
}

// ---- composer with canned responses --------------------------------------------------

function CannedPicker({ items, loading, active, onPick, onHover }) {
  if (!items.length) {
    return html`<div class="picker" role="listbox"><p class="picker-empty">${loading ? "Loading…" : model.cannedError || "No response matches."}</p></div>`;
  }
  return html`<div class="picker" role="listbox" id="canned-picker">
    ${items.slice(0, 8).map(
      (r, i) => html`<button type="button" role="option" aria-selected=${i === active} class=${"pick" + (i === active ? " active" : "")}
        data-shortcut=${r.shortcut} onMouseDown=${(e) => (e.preventDefault(), onPick(r))} onMouseEnter=${() => onHover(i)}>
        <span class="pick-top">${r.shortcut && html`<code>${r.shortcut.startsWith("/") ? r.shortcut : "/" + r.shortcut}</code>`}<b>${r.title}</b>${r.path && html`<span class="muted">${r.path}</span>`}</span>
        <span class="pick-text">${r.text}</span>
      </button>`,
    )}
  </div>`;
}

function Composer({ chat, whisperOnly }) {
  const [text, setText] = useState("");
  const [active, setActive] = useState(0);
  const [pickerOpen, setPickerOpen] = useState(false);
  const [whisper, setWhisper] = useState(!!whisperOnly);
  const ta = useRef(null);
  const file = useRef(null);
  const stopTimer = useRef(0);
  const query = pickerOpen ? text : text.startsWith("/") && !text.includes("\n") ? text : null;
  const showPicker = query != null && !whisper && !whisperOnly;
  useEffect(() => {
    if (showPicker) model.cannedFor(chat);
  }, [showPicker]);
  const items = useMemo(() => (showPicker && chat.canned ? matchCanned(chat.canned, query) : []), [query, chat.canned, showPicker]);

  const resize = () => {
    const el = ta.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = Math.min(el.scrollHeight, 160) + "px";
  };
  useEffect(resize, [text]);

  const insert = (r) => {
    // The server filled the placeholders in ({visitor.name} and others).
    setText(r.text);
    setPickerOpen(false);
    setActive(0);
    requestAnimationFrame(() => ta.current && ta.current.focus());
  };
  const submit = async (e) => {
    if (e) e.preventDefault();
    const t = text.trim();
    if (!t) return;
    // Cleared at once, so what the agent types while the send is on its
    // way is kept; a failed send puts the text back unless there is new.
    setText("");
    const ok = whisper || whisperOnly ? await model.whisper(chat.id, t) : await model.send(chat.id, t);
    if (!ok) setText((cur) => (cur === "" ? t : cur));
  };
  const onInput = (e) => {
    const v = e.currentTarget.value;
    setText(v);
    setActive(0);
    if (whisper || whisperOnly) return;
    model.typing(chat.id, v.length > 0);
    clearTimeout(stopTimer.current);
    stopTimer.current = setTimeout(() => model.typing(chat.id, false), 4000);
  };
  const onKey = (e) => {
    if (showPicker && items.length) {
      if (e.key === "ArrowDown") return (e.preventDefault(), setActive((active + 1) % Math.min(items.length, 8)));
      if (e.key === "ArrowUp") return (e.preventDefault(), setActive((active + Math.min(items.length, 8) - 1) % Math.min(items.length, 8)));
      if (e.key === "Enter" || e.key === "Tab") return (e.preventDefault(), insert(items[active]));
    }
    if (e.key === "Escape" && showPicker) return (e.preventDefault(), setPickerOpen(false), setText(text.startsWith("/") ? "" : text));
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
  };
  const max = (model.config && model.config.max_message_length) || 0;
  return html`<form class=${"composer" + (whisper || whisperOnly ? " composer-whisper" : "")} onSubmit=${submit}>
    ${showPicker && html`<${CannedPicker} items=${items} loading=${!chat.canned} active=${active} onPick=${insert} onHover=${setActive} />`}
    ${chat.uploads.map((u) => html`<div class="upload"><span>${u.name}</span><progress max="1" value=${u.progress}></progress></div>`)}
    <textarea ref=${ta} rows="1" class="composer-input" value=${text} onInput=${onInput} onKeyDown=${onKey}
      maxlength=${max || undefined}
      placeholder=${whisper || whisperOnly ? "Whisper to the agent — the visitor never sees this" : "Reply, or type / for canned responses"}
      aria-label=${whisper || whisperOnly ? "Whisper" : "Reply"}></textarea>
    <div class="composer-bar">
      ${!whisperOnly &&
      html`<button type="button" class="icon-btn" title="Canned responses" aria-label="Canned responses" onClick=${() => (setPickerOpen(!pickerOpen), ta.current.focus())}><${Icon} name="bolt" /></button>
        <button type="button" class="icon-btn" title="Attach a file" aria-label="Attach a file" onClick=${() => file.current.click()}><${Icon} name="attach" /></button>
        <input type="file" ref=${file} hidden onChange=${(e) => {
          for (const f of e.currentTarget.files) model.upload(chat.id, f);
          e.currentTarget.value = "";
        }} />`}
      ${model.isSupervisor &&
      !whisperOnly &&
      chat.view.agent &&
      chat.view.agent.agent_id !== model.me.id &&
      html`<label class="toggle"><input type="checkbox" checked=${whisper} onChange=${(e) => setWhisper(e.currentTarget.checked)} />Whisper</label>`}
      <span class="grow"></span>
      ${max > 0 && text.length > max * 0.8 && html`<span class="muted small">${text.length}/${max}</span>`}
      <button type="submit" class="btn btn-primary btn-sm send" disabled=${!text.trim()}><${Icon} name="send" />${whisper || whisperOnly ? "Whisper" : "Send"}</button>
    </div>
  </form>`;
}

// ---- transfer, conference ----------------------------------------------------------------

function TargetPicker({ chat, kind, onDone }) {
  const [q, setQ] = useState("");
  const [note, setNote] = useState(""); // for the colleague who takes a transfer
  useEffect(() => {
    model.refreshAgents();
  }, []);
  const agents = model.agents.filter(
    (a) => a.id !== model.me.id && a.presence !== "offline" && (q === "" || (a.display_name + a.login).toLowerCase().includes(q.toLowerCase())),
  );
  const groups = kind === "transfer" ? model.groups.filter((g) => q === "" || g.name.toLowerCase().includes(q.toLowerCase())) : [];
  const go = async (target) => {
    const ok =
      kind === "transfer"
        ? await model.transfer(chat.id, note.trim() ? { ...target, note: note.trim() } : target)
        : await model.conference(chat.id, target.agent_id);
    if (ok) onDone();
  };
  return html`<div class="pop" role="dialog" aria-label=${kind === "transfer" ? "Transfer" : "Add an agent"}>
    <div class="pop-head">
      <b>${kind === "transfer" ? "Transfer to…" : "Invite an agent"}</b>
      <button class="icon-btn" aria-label="Close" onClick=${onDone}><${Icon} name="end" /></button>
    </div>
    <input class="pop-search" placeholder="Search agents and groups" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} />
    ${kind === "transfer" &&
    html`<textarea class="pop-note" id="transfer-note" rows="2" maxlength="1024" aria-label="Note for your colleague" placeholder="Note for your colleague (optional)" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea>`}
    <div class="pop-label">Agents</div>
    ${agents.length === 0 && html`<p class="empty">Nobody else is signed in.</p>`}
    ${agents.map(
      (a) => html`<button class="pop-item" data-agent=${a.login} onClick=${() => go({ agent_id: a.id })}>
        <${StatusDot} agent=${a} /><span class="grow">${a.display_name || a.login}</span><span class="muted small">${statusLabel(a)}</span>
      </button>`,
    )}
    ${groups.length > 0 && html`<div class="pop-label">Groups</div>`}
    ${groups.map(
      (g) => html`<button class="pop-item" data-group=${g.id} onClick=${() => go({ group_id: g.id })}>
        <span class="sdot sdot-group"></span><span class="grow">${g.name}</span><span class="muted small">queue</span>
      </button>`,
    )}
  </div>`;
}

function MailPop({ chat, onDone }) {
  const [to, setTo] = useState((chat.view.visitor && chat.view.visitor.email) || "");
  const submit = async (e) => {
    e.preventDefault();
    if (await model.mailTranscript(chat.id, to.trim())) onDone();
  };
  return html`<form class="pop pop-mail" role="dialog" aria-label="Email transcript" onSubmit=${submit}>
    <div class="pop-head"><b>Email the transcript</b><button type="button" class="icon-btn" aria-label="Close" onClick=${onDone}><${Icon} name="end" /></button></div>
    <input class="pop-search" type="email" name="to" placeholder="visitor@example.com" value=${to} onInput=${(e) => setTo(e.currentTarget.value)} />
    <p class="muted small">Only what the visitor saw is mailed; whispers never are.</p>
    <div class="row"><button class="btn btn-primary btn-sm mail-send" disabled=${!to.trim()}>Send</button></div>
  </form>`;
}

function ChatColumn({ chat }) {
  const [pop, setPop] = useState(null); // "transfer" | "conference" | "end"
  const focused = model.focus === chat.id;
  const monitor = chat.mode === "monitor";
  const v = chat.view;
  const agentName = v.agent && v.agent.name;
  const handler = chat.handledBy(model.me);
  const joined = chat.mode === "handle" && !handler; // by conference or barge-in
  const rating = ratingOf(v, chat.events);
  return html`<section class=${"column" + (focused ? " focused" : "") + (monitor ? " monitoring" : "")} data-chat=${chat.id}
    onMouseDown=${() => !focused && model.focusChat(chat.id)} aria-label=${"Chat with " + chat.title}>
    <header class="col-head">
      <${Avatar} name=${chat.title} />
      <div class="col-who">
        <b class="col-name">${chat.title}</b>
        <span class="muted small">${v.group_name}${(monitor || joined) && agentName ? " · handled by " + agentName : ""}${!chat.ended ? " · " + duration(since(v.accepted_at || v.created_at)) : ""}</span>
      </div>
      <div class="col-actions">
        ${joined &&
        !chat.ended &&
        !chat.gone &&
        html`<span class="pill pill-monitor"><${Icon} name="users" size=${12} />Joined</span>
          <button class="btn btn-sm leave" onClick=${() => model.leave(chat.id)}>Leave</button>`}
        ${handler &&
        !chat.gone &&
        html`<button class="icon-btn mail" title="Email transcript" aria-label="Email transcript" onClick=${() => setPop(pop === "mail" ? null : "mail")}><${Icon} name="mail" /></button>`}
        ${handler &&
        !chat.ended &&
        !chat.gone &&
        (!chat.callState || chat.callState === "idle") &&
        html`<button class="icon-btn call-audio" title="Audio call" aria-label="Audio call" onClick=${() => model.startCall(chat.id, "audio")}><${Icon} name="phone" /></button>
          <button class="icon-btn call-video" title="Video call" aria-label="Video call" onClick=${() => model.startCall(chat.id, "video")}><${Icon} name="video" /></button>`}
        ${handler &&
        !chat.ended &&
        !chat.gone &&
        html`<button class="icon-btn transfer" title="Transfer" aria-label="Transfer" onClick=${() => setPop(pop === "transfer" ? null : "transfer")}><${Icon} name="transfer" /></button>
          <button class="icon-btn conference" title="Invite an agent" aria-label="Invite an agent" onClick=${() => setPop(pop === "conference" ? null : "conference")}><${Icon} name="users" /></button>
          <button class="btn btn-sm btn-danger-ghost end" onClick=${() => setPop(pop === "end" ? null : "end")}>End</button>`}
        ${monitor &&
        !chat.ended &&
        html`<span class="pill pill-monitor"><${Icon} name="eye" size=${12} />Monitoring</span>
          <button class="btn btn-sm barge" onClick=${() => model.barge(chat.id)}>Barge in</button>`}
        ${(chat.ended || chat.gone || monitor) &&
        html`<button class="icon-btn close" title="Close" aria-label="Close" onClick=${() => model.close(chat.id)}><${Icon} name="end" /></button>`}
      </div>
      ${pop === "transfer" || pop === "conference" ? html`<${TargetPicker} chat=${chat} kind=${pop} onDone=${() => setPop(null)} />` : null}
      ${pop === "mail" && html`<${MailPop} chat=${chat} onDone=${() => setPop(null)} />`}
      ${pop === "end" &&
      html`<div class="pop pop-confirm" role="dialog" aria-label="End chat">
        <p>End the chat with ${chat.title}?</p>
        <div class="row"><button class="btn btn-danger btn-sm end-yes" onClick=${() => (setPop(null), model.end(chat.id))}>End chat</button>
        <button class="btn btn-sm" onClick=${() => setPop(null)}>Cancel</button></div>
      </div>`}
    </header>
    <${Log} chat=${chat} />
    <div class="typing" aria-live="polite">${chat.typing ? html`<span class="dots"><i></i><i></i><i></i></span>${chat.typing} is typing${chat.typingText ? html`: <q class="typing-preview">${chat.typingText}</q>` : ""}` : ""}</div>
    ${chat.ended || chat.gone
      ? html`<div class="col-ended">
          <span>${chat.gone ? "This chat is no longer yours." : "The chat has ended."}${model.me.status === "wrap_up" ? " You are in wrap-up." : ""}
            ${rating && html`<span class="chat-rating">Rating <${Stars} score=${rating.score} /></span>`}</span>
          ${model.me.status === "wrap_up" && html`<button class="btn btn-sm btn-primary" onClick=${() => model.setStatus("ready")}>Ready</button>`}
          <button class="btn btn-sm close-chat" onClick=${() => model.close(chat.id)}>Close</button>
        </div>`
      : monitor
        ? model.isSupervisor && html`<${Composer} key="whisper" chat=${chat} whisperOnly=${true} />`
        : html`<${Composer} key="reply" chat=${chat} />`}
  </section>`;
}

// ---- visitor details -----------------------------------------------------------

function Details({ chat }) {
  const [earlier, setEarlier] = useState(null);
  useTick(30000); // the visitor's local time
  const vis = (chat && chat.view.visitor) || {};
  useEffect(() => {
    setEarlier(null);
    if (!chat) return;
    model
      .call("GET", `${endpoints.history(chat.id)}?limit=5`)
      .then((r) => setEarlier((r.chats || []).filter((c) => c.id !== chat.id)))
      .catch(() => setEarlier(false));
  }, [chat && chat.id]);
  if (!chat) {
    return html`<aside class="details"><p class="empty">Select a chat to see the visitor.</p></aside>`;
  }
  const cx = visitorContext(chat.events);
  const firstMsg = chat.events.find((e) => e.type === "message" && e.from && e.from.kind === "visitor");
  const rating = ratingOf(chat.view, chat.events);
  const local = localTime(cx.time_zone, vis.tz_offset);
  const rows = [
    ["Asks for", cx.call && (cx.call === "video" ? "a video call" : "an audio call"), "det-call"],
    ["Email", vis.email],
    ["Phone", vis.phone],
    ["Customer", vis.customer_id],
    ["Page", cx.url && html`<${WebLink} href=${cx.url}>${cx.title || cx.url}</${WebLink}>`, "det-page"],
    ["Came from", cx.referrer && html`<${WebLink} href=${cx.referrer} />`, "det-referrer"],
    ["Browser", browser(cx.user_agent), "det-browser"],
    ["Language", cx.language, "det-language"],
    ["Local time", local, "det-local"],
    // The wait to the first answer; a transfer keeps accepted_at.
    ["Waited", duration((Date.parse(chat.view.accepted_at) - Date.parse(chat.view.created_at)) / 1000)],
    ["Started", dateTime(chat.view.created_at)],
  ];
  return html`<aside class="details" aria-label="Visitor details" id="visitor-details">
    <div class="det-head">
      <${Avatar} name=${chat.title} size="lg" />
      <div><b class="det-name">${chat.title}</b><span class="muted small">${chat.view.group_name}</span></div>
    </div>
    <dl class="det-list">
      ${rows.filter(([, v, id]) => v || id !== "det-call").map(([k, v, id]) => html`<div class="det-row" id=${id}><dt>${k}</dt><dd>${v || html`<span class="muted">—</span>`}</dd></div>`)}
    </dl>
    ${chat.view.transfer_note &&
    html`<div class="det-block" id="transfer-note-shown"><h3>Transfer note</h3><p class="det-quote">${chat.view.transfer_note}</p></div>`}
    ${rating &&
    html`<div class="det-block" id="det-rating"><h3>Rating</h3><${Stars} score=${rating.score} />${rating.comment && html`<p class="det-quote">${rating.comment}</p>`}</div>`}
    ${vis.private_data &&
    html`<div class="det-block"><h3>Private data</h3><pre class="det-pre">${vis.private_data}</pre></div>`}
    ${firstMsg && html`<div class="det-block"><h3>First message</h3><p class="det-quote">${firstMsg.text}</p></div>`}
    <div class="det-block"><h3>Earlier chats</h3>
      ${earlier === null
        ? html`<p class="muted small">Loading…</p>`
        : earlier === false
          ? html`<p class="muted small">Not available.</p>`
          : earlier.length === 0
            ? html`<p class="muted small">None.</p>`
            : html`<ul class="det-earlier">${earlier.map(
                (c) => html`<li><a href=${"#transcript/" + c.id}>${dateTime(c.created_at)}</a><span class="muted small">${c.group_name || ""}</span></li>`,
              )}</ul>`}
    </div>
  </aside>`;
}

function Workspace() {
  const chats = [...model.chats.values()];
  const focused = model.chats.get(model.focus) || null;
  return html`<div class="workspace">
    <${ChatList} />
    <div class="columns" id="columns">
      ${model.teamOpen != null && html`<${TeamColumn} agentID=${model.teamOpen} />`}
      ${chats.length === 0 && model.teamOpen == null
        ? html`<div class="blank"><div class="blank-icon"><${Icon} name="chat" size=${28} /></div><h2>No open chats</h2>
            <p>${model.me.status === "ready" ? "You are ready. Offers appear on the left with a countdown." : "Go ready to start receiving chats."}</p></div>`
        : chats.map((c) => html`<${ChatColumn} key=${c.id} chat=${c} />`)}
    </div>
    <${Details} chat=${focused} />
  </div>`;
}

// ---- the app ---------------------------------------------------------------------------

function Toasts() {
  return html`<div class="toasts" role="status" aria-live="polite">
    ${model.toasts.map((t) => html`<div key=${t.id} class=${"toast toast-" + t.kind}>${t.text}</div>`)}
  </div>`;
}

function App() {
  useModel();
  useEffect(() => {
    document.documentElement.dataset.theme = model.theme || "";
  });
  useEffect(() => {
    const n = model.offers.size;
    document.title = n ? `(${n}) Parley console` : "Parley console";
  });
  if (!model.me) return html`<${Login} /><${Toasts} />`;
  const [view, arg] = model.view.split("/");
  let body;
  if (view === "supervisor" && model.isSupervisor) body = html`<${Supervisor} model=${model} />`;
  else if (view === "archive") body = html`<${Archive} model=${model} />`;
  else if (view === "transcript" && arg) body = html`<${Transcript} model=${model} id=${arg} />`;
  else if (view === "responses") body = html`<${Responses} model=${model} />`;
  else body = html`<${Workspace} />`;
  return html`<div class="app">
    <${Rail} />
    <div class="main">
      <${Topbar} />
      <main class="view" id=${"view-" + view}>${body}</main>
    </div>
    <${Toasts} />
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
model.resume();
