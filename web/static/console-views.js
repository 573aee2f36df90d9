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

/** Bars is a small inline-SVG bar chart of one or two series. */
function Bars({ a, b, w = 220, h = 44, label }) {
  const n = Math.max(a.length, 1);
  const max = Math.max(1, ...a, ...(b || []));
  const bw = w / n;
  return html`<svg class="bars" viewBox=${`0 0 ${w} ${h}`} width=${w} height=${h} role="img" aria-label=${label} preserveAspectRatio="none">
    ${a.map((v, i) => {
      const hh = (v / max) * (h - 2);
      return html`<rect class="bar-a" x=${(i * bw + 1).toFixed(1)} y=${(h - hh).toFixed(1)} width=${Math.max(1, bw - 2).toFixed(1)} height=${hh.toFixed(1)} rx="1.5" />`;
    })}
    ${(b || []).map((v, i) => {
      const hh = (v / max) * (h - 2);
      return html`<rect class="bar-b" x=${(i * bw + 1).toFixed(1)} y=${(h - hh).toFixed(1)} width=${Math.max(1, bw - 2).toFixed(1)} height=${hh.toFixed(1)} rx="1.5" />`;
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

/** num reads the first numeric field of o among names. */
function num(o, ...names) {
  for (const n of names) if (o && typeof o[n] === "number") return o[n];
  return null;
}

/** pollOverview loads the supervisor overview, or composes it from the
 * group and agent endpoints on a server without the overview API. */
async function pollOverview(model) {
  try {
    return { ...(await model.call("GET", endpoints.overview)), source: "overview" };
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  const [groups, agents] = await Promise.all([model.call("GET", "/api/v1/groups"), model.call("GET", "/api/v1/agents")]);
  const rows = await Promise.all(
    groups.map(async (g) => {
      const [queue, status] = await Promise.all([
        model.call("GET", `/api/v1/groups/${g.id}/queue`).catch(() => []),
        api0(`/api/v1/groups/${g.id}/status`),
      ]);
      const longest = queue.reduce((m, c) => Math.max(m, since(c.queued_at || c.created_at) || 0), 0);
      return { id: g.id, name: g.name, waiting: queue.length, longest_wait_seconds: queue.length ? longest : 0, estimated_wait_seconds: status ? status.estimated_wait : -1, queue };
    }),
  );
  return { groups: rows, agents, kpis: null, chats: [], source: "fallback" };
}

async function api0(path) {
  try {
    const r = await fetch(path, { credentials: "same-origin" });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

function Kpi({ id, label, value, sub, children }) {
  return html`<div class="kpi" id=${id}>
    <div class="kpi-label">${label}</div>
    <div class="kpi-value">${value}</div>
    ${sub && html`<div class="kpi-sub">${sub}</div>`}
    <div class="kpi-chart">${children}</div>
  </div>`;
}

export function Supervisor({ model }) {
  const [data, setData] = useState(null);
  const [err, setErr] = useState("");
  const samples = useRef([]);
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const tick = async () => {
      try {
        const d = await pollOverview(model);
        if (stop) return;
        const waiting = (d.groups || []).reduce((n, g) => n + (num(g, "waiting") || 0), 0);
        samples.current = [...samples.current, waiting].slice(-60);
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
  const k = data.kpis || {};
  const series = k.hourly || k.series || [];
  const col = (name) => series.map((p) => p[name] || 0);
  const sl = num(k, "service_level");
  const slN = num(k, "service_level_seconds", "service_level_threshold");
  const totalWaiting = (data.groups || []).reduce((n, g) => n + (num(g, "waiting") || 0), 0);
  const agents = data.agents || [];
  const chats = data.chats || [];
  const load = (a) => num(a, "chats", "load", "active_chats");
  return html`<div class="sup">
    <div class="sup-head">
      <h1>Today</h1>
      <span class="muted small">${data.source === "fallback" ? "Live queues and agents; KPIs need the supervisor API." : "Live · updates every 2 s"}</span>
      ${err && html`<span class="alert small">${err}</span>`}
    </div>
    <div class="kpis" id="kpis">
      <${Kpi} id="kpi-waiting" label="Waiting now" value=${totalWaiting} sub="last 2 minutes"><${Spark} values=${samples.current} label="waiting over time" /><//>
      <${Kpi} id="kpi-offered" label="Offered" value=${num(k, "offered") ?? "—"} sub="per hour"><${Bars} a=${col("offered")} label="offered per hour" /><//>
      <${Kpi} id="kpi-handled" label="Handled" value=${num(k, "handled") ?? "—"} sub="per hour"><${Bars} a=${col("handled")} label="handled per hour" /><//>
      <${Kpi} id="kpi-abandoned" label="Abandoned" value=${num(k, "abandoned") ?? "—"} sub="per hour"><${Bars} a=${col("abandoned")} label="abandoned per hour" /><//>
      <${Kpi} id="kpi-wait" label="Avg wait" value=${duration(num(k, "average_wait_seconds", "avg_wait_seconds"))} sub="queued to accepted"><${Spark} values=${col("average_wait_seconds")} label="average wait per hour" /><//>
      <${Kpi} id="kpi-handle" label="Avg handle time" value=${duration(num(k, "average_handle_seconds", "avg_handle_seconds"))} sub="accepted to end"><${Spark} values=${col("average_handle_seconds")} label="average handle time per hour" /><//>
      <${Kpi} id="kpi-sl" label="Service level" value=${sl == null ? "—" : Math.round(sl * 100) + "%"} sub=${slN ? `answered within ${slN} s` : "answered in time"}><${Gauge} value=${sl} /><//>
    </div>
    <div class="sup-grid">
      <section class="card">
        <h2>Queues</h2>
        <table class="table" id="queues">
          <thead><tr><th>Group</th><th class="num">Waiting</th><th class="num">Longest</th><th class="num">Est. wait</th><th class="num">Ready</th></tr></thead>
          <tbody>
            ${(data.groups || []).map(
              (g) => html`<tr data-group=${g.id}>
                <td><b>${g.name}</b></td>
                <td class="num"><span class=${"qnum" + ((num(g, "waiting") || 0) > 0 ? " qnum-hot" : "")}>${num(g, "waiting") ?? 0}</span></td>
                <td class="num">${num(g, "waiting") ? duration(num(g, "longest_wait_seconds", "longest_wait")) : "—"}</td>
                <td class="num">${duration(num(g, "estimated_wait_seconds", "estimated_wait"))}</td>
                <td class="num">${num(g, "agents_ready", "ready") ?? agents.filter((a) => a.presence === "available" && a.status === "ready" && (a.groups || []).some((m) => m.group_id === g.id)).length}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section class="card">
        <h2>Agents</h2>
        <table class="table" id="agents">
          <thead><tr><th>Agent</th><th>Status</th><th class="num">Load</th><th class="num">In status</th></tr></thead>
          <tbody>
            ${agents.map((a) => {
              const l = load(a);
              const cap = a.capacity || 0;
              return html`<tr data-agent=${a.login}>
                <td><span class="who"><${Avatar} name=${a.display_name || a.login} size="xs" />${a.display_name || a.login}</span></td>
                <td><span class="who"><${StatusDot} agent=${a} />${statusLabel(a)}</span></td>
                <td class="num">${l == null ? "—" : html`<span class="loadbar"><span class="loadbar-fill" data-level=${cap ? Math.min(4, Math.round((l / cap) * 4)) : 0}></span></span>${l}/${cap}`}</td>
                <td class="num muted">${a.status_since ? duration(since(a.status_since)) : "—"}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </section>
      <section class="card span2">
        <h2>Active chats</h2>
        ${chats.length === 0 && (data.groups || []).every((g) => !(g.queue || []).length)
          ? html`<p class="empty">${data.source === "fallback" ? "Monitoring needs the supervisor API." : "No active chats."}</p>`
          : html`<table class="table" id="active-chats">
              <thead><tr><th>Visitor</th><th>Group</th><th>Agent</th><th>State</th><th class="num">Duration</th><th></th></tr></thead>
              <tbody>
                ${[...chats, ...(data.groups || []).flatMap((g) => (chats.length ? [] : g.queue || []))].map(
                  (c) => html`<tr data-chat=${c.id}>
                    <td>${(c.visitor && c.visitor.name) || c.visitor_name || "Visitor"}</td>
                    <td>${c.group_name || ""}</td>
                    <td>${(c.agent && c.agent.name) || c.agent_name || html`<span class="muted">—</span>`}</td>
                    <td><span class=${"pill pill-" + c.state}>${c.state}</span></td>
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
  const [page, setPage] = useState(0);
  const limit = 25;
  const search = async (p = 0) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) params.set(k, k === "from" || k === "to" ? new Date(v + (k === "to" ? "T23:59:59" : "T00:00:00")).toISOString() : v);
    params.set("limit", limit);
    params.set("offset", p * limit);
    try {
      const r = await model.call("GET", `${endpoints.archive}?${params}`);
      setRes(Array.isArray(r) ? { chats: r } : r);
      setPage(p);
      setErr("");
    } catch (x) {
      setErr(x.status === 404 ? "This server has no archive search API yet." : x.message);
    }
  };
  const set = (k) => (e) => setQ({ ...q, [k]: e.currentTarget.value });
  const chats = (res && (res.chats || res.items)) || [];
  return html`<div class="pad archive">
    <h1>Archive</h1>
    <form class="filters" id="archive-form" onSubmit=${(e) => (e.preventDefault(), search(0))}>
      <label class="field"><span>Customer</span><input name="customer" value=${q.customer} onInput=${set("customer")} placeholder="Name, email or ID" /></label>
      <label class="field"><span>Agent</span><select value=${q.agent_id} onChange=${set("agent_id")}><option value="">Any</option>${model.agents.map((a) => html`<option value=${a.id}>${a.display_name || a.login}</option>`)}</select></label>
      <label class="field"><span>Group</span><select value=${q.group_id} onChange=${set("group_id")}><option value="">Any</option>${model.groups.map((g) => html`<option value=${g.id}>${g.name}</option>`)}</select></label>
      <label class="field"><span>From</span><input type="date" value=${q.from} onInput=${set("from")} /></label>
      <label class="field"><span>To</span><input type="date" value=${q.to} onInput=${set("to")} /></label>
      <label class="field grow"><span>Text</span><input name="text" value=${q.text} onInput=${set("text")} placeholder="Words in the chat" /></label>
      <button class="btn btn-primary"><${Icon} name="search" />Search</button>
    </form>
    ${err && html`<p class="alert">${err}</p>`}
    ${res &&
    html`<table class="table" id="archive-results">
        <thead><tr><th>Started</th><th>Customer</th><th>Group</th><th>Agent</th><th class="num">Duration</th><th>Ended</th></tr></thead>
        <tbody>${chats.map(
          (c) => html`<tr data-chat=${c.id}>
            <td><a href=${"#transcript/" + c.id}>${dateTime(c.created_at)}</a></td>
            <td>${c.from || (c.visitor && c.visitor.name) || "Visitor"}</td>
            <td>${c.group_name || ""}</td>
            <td>${(c.agent && c.agent.name) || c.agent_name || ""}</td>
            <td class="num">${c.ended_at ? duration((Date.parse(c.ended_at) - Date.parse(c.created_at)) / 1000) : "—"}</td>
            <td class="muted">${(c.cause || "").replace(/_/g, " ")}</td>
          </tr>`,
        )}</tbody>
      </table>
      ${chats.length === 0 && html`<p class="empty">No chat matches.</p>`}
      <div class="pager">
        <button class="btn btn-sm" disabled=${page === 0} onClick=${() => search(page - 1)}>Previous</button>
        <span class="muted small">Page ${page + 1}${res.total != null ? ` of ${Math.max(1, Math.ceil(res.total / limit))}` : ""}</span>
        <button class="btn btn-sm" disabled=${chats.length < limit} onClick=${() => search(page + 1)}>Next</button>
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
  return html`<div class="pad transcript">
    <div class="tr-head">
      <a href="#archive" class="btn btn-sm">← Archive</a>
      <${Avatar} name=${name} />
      <div><h1>${name}</h1><span class="muted small">${chat.group_name} · ${dateTime(chat.created_at)}${chat.agent ? " · " + chat.agent.name : ""}</span></div>
      <span class="grow"></span>
      <button class="btn btn-sm" onClick=${() => model.mailTranscript(id)}><${Icon} name="mail" />Email transcript</button>
    </div>
    <ol class="tr-log">
      ${events.map((ev) => {
        const f = ev.from || { kind: "system" };
        if (ev.type === "message" || ev.type === "file") {
          return html`<li class=${"tr-row tr-" + f.kind + (ev.audience === "agents" ? " tr-internal" : "")}>
            <span class="tr-time">${clock(ev.at)}</span><b class="tr-from">${f.name || (f.kind === "visitor" ? name : f.kind)}</b>
            <span class="tr-text">${ev.type === "file" ? `${ev.file.name} (${fileSize(ev.file.size)})` : ev.text}</span></li>`;
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
  useEffect(() => {
    model.loadCanned();
  }, []);
  const save = async (e) => {
    e.preventDefault();
    const body = { folder: edit.folder, title: edit.title, shortcut: edit.shortcut, text: edit.text };
    if (edit.group_id) body.group_id = Number(edit.group_id);
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
      const res = await fetch(`${endpoints.canned}/import?name=${encodeURIComponent(f.name)}`, {
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
      <label class="btn btn-sm">Import…<input type="file" hidden accept=".csv,.json,.txt" onChange=${importFile} /></label>
      <button class="btn btn-primary btn-sm" id="canned-new" onClick=${() => setEdit({ ...blank })}><${Icon} name="plus" />New</button>
    </div>
    <p class="muted small">Placeholders: <code>{visitor.name}</code> <code>{visitor.first_name}</code> <code>{visitor.email}</code> <code>{agent.name}</code> <code>{group.name}</code> <code>{date}</code> <code>{time}</code>; <code>{visitor.name|there}</code> uses "there" when the name is unknown.</p>
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
          <td class="num"><button class="btn btn-sm" onClick=${() => setEdit({ ...blank, ...r, folder: r.path, group_id: r.group_id || "" })}>Edit</button>
            <button class="btn btn-sm btn-danger-ghost" onClick=${() => remove(r)}>Delete</button></td>
        </tr>`,
      )}</tbody>
    </table>
    ${list.length === 0 && !model.cannedError && html`<p class="empty">No canned responses yet.</p>`}
  </div>`;
}
