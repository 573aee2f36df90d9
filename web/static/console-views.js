// The console's other views: the supervisor's live overview (queues,
// agents, KPIs, monitor and whisper), the archive with transcripts, and
// canned-response management.

import { useState, useEffect, useRef } from "./vendor/hooks.mjs";
import {
  html,
  endpoints,
  duration,
  since,
  clock,
  dateTime,
  sparkPath,
  noticeText,
  Icon,
  Avatar,
  StatusDot,
  statusLabel,
  fileSize,
  RichText,
  Marked,
  WebLink,
  Thumb,
  Stars,
  ratingOf,
} from "./console-lib.js";

// ---- charts -------------------------------------------------------------------

/** Spark is a small inline-SVG area chart. */
export function Spark({ values, w = 120, h = 32, label }) {
  const { line, area } = sparkPath(values, w, h);
  return html`<svg class="spark" viewBox=${`0 0 ${w} ${h}`} width=${w} height=${h} role="img" aria-label=${label || "trend"} preserveAspectRatio="none">
    ${area && html`<path class="spark-area" d=${area} />`}
    ${line && html`<path class="spark-line" d=${line} />`}
  </svg>`;
}

/** Bars is a small inline-SVG bar chart, one bar a value. */
function Bars({ values, w = 120, h = 32, label }) {
  const n = Math.max(values.length, 1);
  const max = Math.max(1, ...values);
  const bw = w / n;
  // An empty period is a faint stub, so the time axis stays readable.
  return html`<svg class="bars" viewBox=${`0 0 ${w} ${h}`} width=${w} height=${h} role="img" aria-label=${label} preserveAspectRatio="none">
    ${values.map((v, i) => {
      const bh = v > 0 ? Math.max(2, (v / max) * (h - 1)) : 2;
      return html`<rect class=${v > 0 ? "bar" : "bar bar-empty"} x=${(i * bw + bw * 0.15).toFixed(2)} y=${(h - bh).toFixed(2)} width=${(bw * 0.7).toFixed(2)} height=${bh.toFixed(2)} rx="1" />`;
    })}
  </svg>`;
}

/** Gauge is a half-circle meter for a share between 0 and 1. */
function Gauge({ value }) {
  const v = value == null ? 0 : Math.max(0, Math.min(1, value));
  const len = Math.PI * 40;
  return html`<svg class="gauge" viewBox="0 0 100 56" width="96" height="54" role="img" aria-label=${value == null ? "no data" : Math.round(v * 100) + "%"}>
    <path class="gauge-bg" d="M10 50a40 40 0 0 1 80 0" />
    <path class=${"gauge-fg" + (v < 0.8 ? " gauge-warn" : "")} d="M10 50a40 40 0 0 1 80 0" stroke-dasharray=${`${(v * len).toFixed(1)} ${len.toFixed(1)}`} />
  </svg>`;
}

// ---- supervisor ------------------------------------------------------------------

/** pollSupervisor loads the live overview and today's KPIs, and the
 * details of the chats in progress. Details are read for chats not seen
 * before or whose agent changed (a transfer); the rest come from cache. A
 * chat that cannot be read this time keeps its last known details. */
async function pollSupervisor(model, cache) {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  const [overview, kpis] = await Promise.all([
    model.call("GET", endpoints.overview),
    model.call("GET", `${endpoints.kpis}?tz=${encodeURIComponent(tz)}`).catch(() => model.call("GET", endpoints.kpis)),
  ]);
  const agentOf = new Map();
  for (const a of overview.agents || []) for (const id of a.chats || []) agentOf.set(id, a.id);
  const ids = new Set(agentOf.keys());
  const stale = [...ids].filter((id) => !cache.has(id) || (cache.get(id).agent || {}).agent_id !== agentOf.get(id));
  const waiting = (overview.groups || []).filter((g) => g.waiting > 0);
  const queues = await Promise.all(waiting.map((g) => model.call("GET", `/api/v1/groups/${g.group_id}/queue`).catch(() => [])));
  await Promise.all(
    stale.map((id) =>
        model
          .call("GET", `/api/v1/chats/${id}`)
          .then((v) => cache.set(id, v))
          .catch(() => {}),
      ),
  );
  for (const id of [...cache.keys()]) if (!ids.has(id)) cache.delete(id);
  const chats = [...ids].filter((id) => cache.has(id)).map((id) => cache.get(id));
  return { overview, kpis, chats, queued: queues.flat() };
}

/** hourly spreads hourly buckets over every hour from since to now, so
 * quiet hours show as empty bars. */
function hourly(since, buckets, key) {
  const start = Math.floor(Date.parse(since) / 3600e3);
  const end = Math.floor(Date.now() / 3600e3);
  if (!Number.isFinite(start) || end < start || end - start > 48) return buckets.map((b) => b[key] || 0);
  const out = new Array(end - start + 1).fill(0);
  for (const b of buckets) {
    const i = Math.floor(Date.parse(b.at) / 3600e3) - start;
    if (i >= 0 && i < out.length) out[i] += b[key] || 0;
  }
  return out;
}

function Kpi({ id, label, value, sub, children }) {
  return html`<div class="kpi" id=${id}>
    <div class="kpi-label">${label}</div>
    <div class="kpi-value">${value}</div>
    ${sub && html`<div class="kpi-sub">${sub}</div>`}
    <div class="kpi-chart">${children}</div>
  </div>`;
}

/** pct formats a share, or a dash for -1 (no chats yet). */
function pct(v) {
  return v == null || v < 0 ? "—" : Math.round(v * 100) + "%";
}

/** GroupBars draws one stacked bar per group: handled, abandoned and
 * waiting as parts of offered. */
function GroupBars({ groups }) {
  const max = Math.max(1, ...groups.map((g) => g.offered));
  return html`<div class="gbars">
    ${groups.map(
      (g) => html`<div class="gbar-row" data-group=${g.group_id}>
        <span class="gbar-name">${g.group_name}</span>
        <svg class="gbar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=${`${g.handled} handled, ${g.abandoned} abandoned, ${g.waiting} waiting of ${g.offered}`}>
          <rect class="gb-bg" x="0" y="0" width="100" height="10" rx="2" />
          <rect class="gb-h" x="0" y="0" width=${((g.handled / max) * 100).toFixed(2)} height="10" />
          <rect class="gb-a" x=${((g.handled / max) * 100).toFixed(2)} y="0" width=${((g.abandoned / max) * 100).toFixed(2)} height="10" />
          <rect class="gb-w" x=${(((g.handled + g.abandoned) / max) * 100).toFixed(2)} y="0" width=${((g.waiting / max) * 100).toFixed(2)} height="10" />
        </svg>
        <span class="gbar-num">${g.offered}</span>
        <span class="gbar-sl">${pct(g.service_level)}</span>
      </div>`,
    )}
    <div class="gbar-legend"><span class="lg lg-h"></span>handled <span class="lg lg-a"></span>abandoned <span class="lg lg-w"></span>waiting · right: offered, service level</div>
  </div>`;
}

/** CallPill shows a chat's open call: "Video · 2:13", or "Ringing (audio)". */
function CallPill({ call }) {
  const media = call.media === "video" ? "Video" : "Audio";
  const s = Math.max(0, Math.floor(since(call.since)));
  const mmss = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  const text = call.state === "live" ? `${media} · ${mmss}` : `Ringing (${media.toLowerCase()})`;
  return html`<span class=${"pill pill-call pill-call-" + call.state} data-media=${call.media} title=${call.state === "live" ? `${media} call for ${mmss}` : `${media} call ringing for ${mmss}`}><${Icon} name=${call.media === "video" ? "video" : "phone"} size=${12} />${text}</span>`;
}

export function Supervisor({ model }) {
  const [data, setData] = useState(null);
  const [err, setErr] = useState("");
  const hist = useRef({ waiting: [], wait: [], handle: [] });
  const cache = useRef(new Map());
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const tick = async () => {
      try {
        const d = await pollSupervisor(model, cache.current);
        if (stop) return;
        const t = d.kpis.total || {};
        const h = hist.current;
        const push = (k, v) => (h[k] = [...h[k], v || 0].slice(-90));
        push("waiting", (d.overview.groups || []).reduce((n, g) => n + g.waiting, 0));
        push("wait", t.average_wait_seconds);
        push("handle", t.average_handle_seconds);
        setData(d);
        setErr("");
      } catch (x) {
        if (!stop) setErr(x.message);
      }
      if (!stop) timer = setTimeout(tick, 2000);
    };
    tick();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, []);
  if (!data) return html`<div class="pad">${err ? html`<p class="alert">${err}</p>` : html`<p class="muted">Loading…</p>`}</div>`;
  const t = data.kpis.total || {};
  const h = hist.current;
  // Offered, handled and abandoned are charted per hour (per day over
  // longer periods) from the server; the rest from this view's samples.
  const buckets = t.buckets || [];
  const daily = buckets.length > 1 && Date.parse(buckets[1].at) - Date.parse(buckets[0].at) > 3600e3;
  const per = daily ? "by day" : "by hour";
  const bucket = (k) => (daily ? buckets.map((b) => b[k] || 0) : hourly(data.kpis.since, buckets, k));
  // The server pushes the overview when it changes; the poll is the floor.
  const pushed = model.overview;
  const ov = pushed && Date.parse(pushed.at) > Date.parse(data.overview.at) ? pushed : data.overview;
  const groups = ov.groups || [];
  const agents = ov.agents || [];
  const waitingNow = groups.reduce((n, g) => n + g.waiting, 0);
  const rows = [...data.queued, ...data.chats];
  const calls = new Map((ov.calls || []).map((c) => [c.chat_id, c]));
  return html`<div class="sup">
    <div class="sup-head">
      <h1>Today</h1>
      <span class="muted small">since ${clock(data.kpis.since)} · live, every 2 s</span>
      <span class="grow"></span>
      ${err && html`<span class="alert small">${err}</span>`}
    </div>
    <div class="kpis" id="kpis">
      <${Kpi} id="kpi-waiting" label="Waiting" value=${waitingNow} sub="in all queues"><${Spark} values=${h.waiting} label="waiting over time" /><//>
      <${Kpi} id="kpi-offered" label="Offered" value=${t.offered ?? 0} sub=${"requested · " + per}><${Bars} values=${bucket("offered")} label=${"offered " + per} /><//>
      <${Kpi} id="kpi-handled" label="Handled" value=${t.handled ?? 0} sub=${"answered · " + per}><${Bars} values=${bucket("handled")} label=${"handled " + per} /><//>
      <${Kpi} id="kpi-abandoned" label="Abandoned" value=${t.abandoned ?? 0} sub=${"unanswered · " + per}><${Bars} values=${bucket("abandoned")} label=${"abandoned " + per} /><//>
      <${Kpi} id="kpi-wait" label="Avg wait" value=${t.handled ? duration(t.average_wait_seconds) : "—"} sub="to answer"><${Spark} values=${h.wait} label="average wait over time" /><//>
      <${Kpi} id="kpi-handle" label="Avg handle" value=${t.handled > 0 && t.average_handle_seconds != null ? duration(t.average_handle_seconds) : "—"} sub="answer to end"><${Spark} values=${h.handle} label="average handle time over time" /><//>
      <${Kpi} id="kpi-csat" label="CSAT" value=${pct(t.csat)} sub=${t.rated ? `${t.satisfied} of ${t.rated} rated 4–5 · avg ${t.average_rating.toFixed(1)} ★` : "no ratings yet"}>
        <${Bars} values=${bucket("rated").map((n, i) => (n ? Math.round((bucket("satisfied")[i] / n) * 100) : 0))} label=${"satisfied share of ratings " + per} /><//>
      <${Kpi} id="kpi-sl" label="Service level" value=${pct(t.service_level)} sub=${`answered within ${data.kpis.service_level_seconds} s`}><${Gauge} value=${t.service_level < 0 ? null : t.service_level} /><//>
    </div>
    <div class="sup-grid">
      <section class="card">
        <h2>Queues</h2>
        <table class="table" id="queues">
          <thead><tr><th>Group</th><th class="num">Waiting</th><th class="num">Longest</th><th class="num">Est. wait</th><th class="num">Ready / in</th></tr></thead>
          <tbody>
            ${groups.map(
              (g) => html`<tr data-group=${g.group_id}>
                <td><span class="who"><span class=${"sdot " + (g.open ? "sdot-ready" : "")}></span><b>${g.group_name}</b></span></td>
                <td class="num"><span class=${"qnum" + (g.waiting > 0 ? " qnum-hot" : "")}>${g.waiting}</span></td>
                <td class="num">${g.waiting ? duration(g.longest_wait_seconds) : "—"}</td>
                <td class="num">${duration(g.estimated_wait_seconds)}</td>
                <td class="num">${g.agents_ready} / ${g.agents_logged_in}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section class="card">
        <h2>Today by group</h2>
        <${GroupBars} groups=${data.kpis.groups || []} />
      </section>
      <section class="card">
        <h2>Agents</h2>
        <table class="table" id="agents">
          <thead><tr><th>Agent</th><th>Status</th><th class="num">Load</th></tr></thead>
          <tbody>
            ${agents.map(
              (a) => html`<tr data-agent=${a.login}>
                <td><span class="who"><${Avatar} name=${a.display_name || a.login} id=${a.id} photo=${a.photo_url} size="xs" />${a.display_name || a.login}${a.role !== "agent" ? html`<span class="muted small">${a.role}</span>` : ""}</span></td>
                <td><span class="who"><${StatusDot} agent=${a} />${statusLabel(a)}</span></td>
                <td class="num"><span class="loadbar"><span class="loadbar-fill" data-level=${a.capacity ? Math.min(4, Math.ceil((a.load / a.capacity) * 4)) : 0}></span></span>${a.load}/${a.capacity}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section class="card">
        <h2>Chats in progress</h2>
        ${rows.length === 0
          ? html`<p class="empty">No chats right now.</p>`
          : html`<table class="table" id="active-chats">
              <thead><tr><th>Visitor</th><th>Group</th><th>Agent</th><th>Call</th><th class="num">Time</th><th></th></tr></thead>
              <tbody>
                ${rows.map(
                  (c) => html`<tr data-chat=${c.id}>
                    <td><span class="who"><${Avatar} name=${(c.visitor && c.visitor.name) || "Visitor"} size="xs" />${(c.visitor && c.visitor.name) || "Visitor"}</span></td>
                    <td>${c.group_name}</td>
                    <td>${c.agent ? c.agent.name : html`<span class="pill pill-queued">waiting</span>`}</td>
                    <td class="call-cell">${calls.has(c.id) ? html`<${CallPill} call=${calls.get(c.id)} />` : ""}</td>
                    <td class="num">${duration(since(c.accepted_at || c.queued_at || c.created_at))}</td>
                    <td class="num"><button class="btn btn-sm monitor" onClick=${async () => {
                      if (await model.monitor(c.id)) location.hash = "chats";
                    }}><${Icon} name="eye" size=${14} />Monitor</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
      </section>
    </div>
  </div>`;
}

// ---- archive and transcripts ----------------------------------------------------------

export function Archive({ model }) {
  const [q, setQ] = useState({ customer: "", agent_id: "", group_id: "", from: "", to: "", text: "" });
  const [res, setRes] = useState(null);
  const [err, setErr] = useState("");
  const [cursors, setCursors] = useState([""]); // the "before" of each page seen
  const [term, setTerm] = useState(""); // the text the shown results matched
  const latest = useRef(0); // only the newest search's answer is shown
  const limit = 25;
  const search = async (page) => {
    const mine = ++latest.current;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) params.set(k, v);
    params.set("limit", limit);
    if (cursors[page]) params.set("before", cursors[page]);
    try {
      const r = await model.call("GET", `${endpoints.archive}?${params}`);
      if (mine !== latest.current) return;
      setRes({ ...r, page });
      setTerm(q.text.trim());
      const next = cursors.slice(0, page + 1);
      if (r.next) next.push(r.next);
      setCursors(next);
      setErr("");
    } catch (x) {
      setErr(x.message);
    }
  };
  // The latest chats show at once; filters narrow them down.
  useEffect(() => {
    search(0);
  }, []);
  const set = (k) => (e) => setQ({ ...q, [k]: e.currentTarget.value });
  const chats = (res && res.chats) || [];
  const agentsOf = (c) =>
    (c.participants || [])
      .filter((p) => p.kind === "agent")
      .map((p) => p.name)
      .filter((n, i, all) => all.indexOf(n) === i)
      .join(", ");
  return html`<div class="pad archive">
    <h1>Archive</h1>
    <form class="filters" id="archive-form" onSubmit=${(e) => (e.preventDefault(), setCursors([""]), search(0))}>
      <label class="field"><span>Customer</span><input name="customer" value=${q.customer} onInput=${set("customer")} placeholder="Name, email, phone or ID" /></label>
      <label class="field"><span>Agent</span><select name="agent_id" value=${q.agent_id} onChange=${set("agent_id")}><option value="">Any</option>${model.agents.map((a) => html`<option value=${a.id}>${a.display_name || a.login}</option>`)}</select></label>
      <label class="field"><span>Group</span><select name="group_id" value=${q.group_id} onChange=${set("group_id")}><option value="">Any</option>${model.groups.map((g) => html`<option value=${g.id}>${g.name}</option>`)}</select></label>
      <label class="field"><span>From</span><input type="date" name="from" value=${q.from} onInput=${set("from")} /></label>
      <label class="field"><span>To</span><input type="date" name="to" value=${q.to} onInput=${set("to")} /></label>
      <label class="field grow"><span>Text</span><input name="text" value=${q.text} onInput=${set("text")} placeholder="Words in the chat" /></label>
      <button class="btn btn-primary" id="archive-search"><${Icon} name="search" />Search</button>
    </form>
    ${err && html`<p class="alert">${err}</p>`}
    ${res &&
    html`<div class="card flush"><table class="table" id="archive-results">
        <thead><tr><th>Started</th><th>Customer</th><th>Group</th><th>Agents</th><th class="num">Duration</th><th>End</th><th>Rating</th></tr></thead>
        <tbody>${chats.map((c) => {
          // The name when the visitor gave one, else what FromPriority picks.
          const name = (c.visitor && c.visitor.name) || c.from || "Visitor";
          const rows = [
            html`<tr data-chat=${c.id} class=${c.snippet ? "has-snippet" : ""}>
            <td data-label="Started"><a href=${"#transcript/" + c.id}>${dateTime(c.created_at)}</a></td>
            <td data-label="Customer"><span class="who"><${Avatar} name=${name} size="xs" /><span class="arch-who"><span class="arch-name">${name}</span>${c.from && c.from !== name && html`<span class="muted small arch-from">${c.from}</span>`}</span></span></td>
            <td data-label="Group">${c.group_name || ""}</td>
            <td data-label="Agents">${agentsOf(c) || html`<span class="muted">—</span>`}</td>
            <td data-label="Duration" class="num">${c.ended_at ? duration((Date.parse(c.ended_at) - Date.parse(c.created_at)) / 1000) : html`<span class="pill pill-${c.state}">${c.state}</span>`}</td>
            <td data-label="End" class="muted">${(c.cause || "").replace(/_/g, " ")}</td>
            <td data-label="Rating" class="arch-rating">${c.rating ? html`<${Stars} score=${c.rating.score} />${c.rating.comment && html`<span class="muted small arch-comment" title=${c.rating.comment}>${c.rating.comment}</span>`}` : html`<span class="muted">—</span>`}</td>
          </tr>`,
          ];
          if (c.snippet) rows.push(html`<tr class="snippet-row" data-snippet=${c.id}><td colspan="7"><span class="snippet"><${Marked} text=${c.snippet} term=${term} /></span></td></tr>`);
          return rows;
        })}</tbody>
      </table>
      ${chats.length === 0 && html`<p class="empty pad-s">No chat matches.</p>`}</div>
      <div class="pager">
        <button class="btn btn-sm" disabled=${res.page === 0} onClick=${() => search(res.page - 1)}>Newer</button>
        <span class="muted small">Page ${res.page + 1}</span>
        <button class="btn btn-sm" id="archive-older" disabled=${!res.next} onClick=${() => search(res.page + 1)}>Older</button>
      </div>`}
  </div>`;
}

export function Transcript({ model, id }) {
  const [chat, setChat] = useState(null);
  const [events, setEvents] = useState([]);
  const [err, setErr] = useState("");
  useEffect(() => {
    (async () => {
      try {
        const view = await model.call("GET", `/api/v1/chats/${id}`);
        let after = 0;
        let all = [];
        for (;;) {
          const r = await model.call("GET", `/api/v1/chats/${id}/events?after=${after}`);
          all = all.concat(r.events);
          if (!r.events.length || r.last_seq <= after) break;
          after = r.last_seq;
          if (after >= view.last_seq) break;
        }
        setChat(view);
        setEvents(all);
      } catch (x) {
        setErr(x.message);
      }
    })();
  }, [id]);
  if (err) return html`<div class="pad"><p class="alert">${err}</p></div>`;
  if (!chat) return html`<div class="pad"><p class="muted">Loading…</p></div>`;
  const name = (chat.visitor && chat.visitor.name) || "Visitor";
  const rating = ratingOf(chat, events);
  const agentNames = (chat.participants || []).filter((p) => p.kind === "agent").map((p) => p.name).filter((n, i, all) => all.indexOf(n) === i).join(", ");
  return html`<div class="pad transcript">
    <div class="tr-head">
      <a href="#archive" class="btn btn-sm">← Archive</a>
      <${Avatar} name=${name} />
      <div><h1>${name}</h1><span class="muted small">${chat.group_name} · ${dateTime(chat.created_at)}${agentNames ? " · " + agentNames : ""}${chat.cause ? " · " + chat.cause.replace(/_/g, " ") : ""}</span></div>
      <span class="grow"></span>
      ${chat.visitor && chat.visitor.email && html`<button class="btn btn-sm" onClick=${() => model.mailTranscript(id)}><${Icon} name="mail" />Email to ${chat.visitor.email}</button>`}
    </div>
    ${rating &&
    html`<div class="card tr-rating" id="tr-rating"><h2>Visitor's rating</h2><${Stars} score=${rating.score} />${rating.comment && html`<p class="det-quote">${rating.comment}</p>`}</div>`}
    <ol class="tr-log">
      ${events.map((ev) => {
        const f = ev.from || { kind: "system" };
        if (ev.type === "message" || ev.type === "file") {
          const internal = ev.audience === "agents";
          return html`<li class=${"tr-row tr-" + f.kind + (internal ? " tr-internal" : "")}>
            <span class="tr-time">${clock(ev.at)}</span><b class="tr-from">${f.name || (f.kind === "visitor" ? name : chat.group_name)}${internal && html`<span class="tag-internal tr-tag">${f.kind === "agent" ? "Whisper" : "Agents only"}</span>`}</b>
            <span class="tr-text">${ev.type === "file"
              ? html`<button class="file-chip" onClick=${() => model.openFile(id, ev.file)}><${Icon} name="file" /><span>${ev.file.name}</span><span class="muted">${fileSize(ev.file.size)}</span></button>
                  <${Thumb} chatID=${id} file=${ev.file} token=${model.token} onOpen=${() => model.openFile(id, ev.file)} />`
              : html`<${RichText} text=${ev.text} />`}</span></li>`;
        }
        if (ev.type === "notice" && ev.notice === "rated") {
          return html`<li class="tr-row tr-system"><span class="tr-time">${clock(ev.at)}</span><span class="tr-text muted">The visitor rated the chat <${Stars} score=${Number((ev.args || [])[0])} /></span></li>`;
        }
        if (ev.type === "url" && ev.url) {
          return html`<li class="tr-row tr-system"><span class="tr-time">${clock(ev.at)}</span><span class="tr-text muted">${f.kind === "visitor" ? "Visitor is on " : "Shared "}<${WebLink} href=${ev.url}>${(ev.context && ev.context.title) || ev.url}</${WebLink}></span></li>`;
        }
        if (ev.type === "notice") return html`<li class="tr-row tr-system"><span class="tr-time">${clock(ev.at)}</span><span class="tr-text muted">${noticeText(ev)}</span></li>`;
        return null;
      })}
    </ol>
  </div>`;
}

// ---- canned responses ----------------------------------------------------------------

const blank = { id: null, group_id: "", folder: "", title: "", shortcut: "", text: "" };

export function Responses({ model }) {
  const [edit, setEdit] = useState(null);
  const [err, setErr] = useState("");
  const [filter, setFilter] = useState("");
  const [importGroup, setImportGroup] = useState("");
  useEffect(() => {
    model.loadCanned();
  }, []);
  const save = async (e) => {
    e.preventDefault();
    const body = { group_id: Number(edit.group_id) || 0, folder: edit.folder, title: edit.title, shortcut: edit.shortcut.replace(/^\//, ""), text: edit.text };
    try {
      if (edit.id) await model.call("PATCH", endpoints.cannedItem(edit.id), body);
      else await model.call("POST", endpoints.canned, body);
      setEdit(null);
      setErr("");
      model.loadCanned();
    } catch (x) {
      setErr(x.message);
    }
  };
  const remove = async (r) => {
    try {
      await model.call("DELETE", endpoints.cannedItem(r.id));
      model.loadCanned();
    } catch (x) {
      setErr(x.message);
    }
  };
  const importFile = async (e) => {
    const f = e.currentTarget.files[0];
    e.currentTarget.value = "";
    if (!f) return;
    try {
      const format = f.name.toLowerCase().endsWith(".json") ? "json" : "csv";
      const res = await fetch(`${endpoints.cannedImport}?format=${format}${importGroup ? "&group_id=" + importGroup : ""}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${model.token}` },
        body: f,
      });
      if (!res.ok) {
        const d = await res.json().catch(() => null);
        throw new Error((d && d.error && d.error.message) || `Import failed (${res.status}).`);
      }
      model.toast("Responses imported.");
      model.loadCanned();
    } catch (x) {
      setErr(x.message);
    }
  };
  const groupName = (id) => (id ? (model.groups.find((g) => g.id === id) || {}).name || `Group ${id}` : "All groups");
  const list = (model.canned || []).filter((r) => !filter || `${r.title} ${r.shortcut} ${r.text} ${r.path}`.toLowerCase().includes(filter.toLowerCase()));
  const set = (k) => (e) => setEdit({ ...edit, [k]: e.currentTarget.value });
  return html`<div class="pad responses">
    <div class="row">
      <h1>Canned responses</h1><span class="grow"></span>
      <input class="search" placeholder="Filter" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} />
      ${model.isSupervisor &&
      html`<select class="sel-sm" aria-label="Group for the import" value=${importGroup} onChange=${(e) => setImportGroup(e.currentTarget.value)}>
          <option value="">Import for all groups</option>${model.groups.map((g) => html`<option value=${g.id}>Import for ${g.name}</option>`)}
        </select>
        <label class="btn btn-sm">Import CSV or JSON…<input type="file" hidden accept=".csv,.json" onChange=${importFile} /></label>`}
      ${model.isSupervisor && html`<button class="btn btn-primary btn-sm" id="canned-new" onClick=${() => setEdit({ ...blank })}><${Icon} name="plus" />New</button>`}
    </div>
    <p class="muted small">Type <code>/shortcut</code> in a chat to insert a response. Placeholders, filled in for each chat: <code>{visitor.name}</code> <code>{visitor.email}</code> <code>{visitor.phone}</code> <code>{visitor.customer_id}</code> <code>{agent.name}</code> <code>{agent.first_name}</code> <code>{agent.last_name}</code> <code>{group.name}</code> <code>{chat.id}</code> <code>{date}</code> <code>{time}</code>.</p>
    ${(err || model.cannedError) && html`<p class="alert">${err || model.cannedError}</p>`}
    ${edit &&
    html`<form class="card edit" id="canned-form" onSubmit=${save}>
      <div class="row">
        <label class="field"><span>Group</span><select value=${edit.group_id || ""} onChange=${set("group_id")}><option value="">All groups</option>${model.groups.map((g) => html`<option value=${g.id}>${g.name}</option>`)}</select></label>
        <label class="field"><span>Folder</span><input name="folder" value=${edit.folder} onInput=${set("folder")} placeholder="Orders/Shipping" /></label>
        <label class="field"><span>Shortcut</span><input name="shortcut" value=${edit.shortcut} onInput=${set("shortcut")} placeholder="greet" /></label>
        <label class="field grow"><span>Title</span><input name="title" value=${edit.title} onInput=${set("title")} required /></label>
      </div>
      <label class="field"><span>Text</span><textarea name="text" rows="3" value=${edit.text} onInput=${set("text")} required></textarea></label>
      <div class="row"><button class="btn btn-primary btn-sm">Save</button><button type="button" class="btn btn-sm" onClick=${() => setEdit(null)}>Cancel</button></div>
    </form>`}
    <table class="table" id="canned-table">
      <thead><tr><th>Shortcut</th><th>Title</th><th>Folder</th><th>Group</th><th>Text</th><th></th></tr></thead>
      <tbody>${list.map(
        (r) => html`<tr data-id=${r.id}>
          <td><code>${r.shortcut ? "/" + r.shortcut.replace(/^\//, "") : ""}</code></td>
          <td><b>${r.title}</b></td><td class="muted">${r.path}</td><td>${groupName(r.group_id)}</td>
          <td class="clip">${r.text}</td>
          <td class="num">${model.isSupervisor &&
          html`<button class="btn btn-sm" onClick=${() => setEdit({ ...blank, ...r, folder: r.folder || "", shortcut: r.shortcut || "", group_id: r.group_id || "" })}>Edit</button>
            <button class="btn btn-sm btn-danger-ghost" onClick=${() => remove(r)}>Delete</button>`}</td>
        </tr>`,
      )}</tbody>
    </table>
    ${list.length === 0 && !model.cannedError && html`<p class="empty">No canned responses yet.</p>`}
  </div>`;
}
