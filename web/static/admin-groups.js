// The groups page: the list, and a group's settings: routing, capacity,
// business hours as a week grid in the group's time zone, holidays,
// messages, the offline mail address and the transcript mail with a live
// preview rendered by the server's real template.

import { useState, useEffect, useRef } from "./vendor/hooks.mjs";
import { html, call, q, session, useLoad, useForm, Field, FormError, Page, toast, days, dayNames, isEmail } from "./admin-lib.js";

const strategies = [
  ["longest_idle", "Longest idle", "The agent who has waited longest since a chat"],
  ["least_busy", "Least busy", "The agent with the lowest share of capacity in use"],
  ["round_robin", "Round robin", "Members in turn"],
  ["manual", "Manual", "Nothing is offered; agents pick chats from the queue"],
];

export function Groups({ arg }) {
  return arg ? html`<${GroupEditor} key=${arg} id=${arg} />` : html`<${GroupList} />`;
}

function GroupList() {
  const [st] = useLoad(() => call("GET", q("/api/v1/admin/groups")), []);
  const list = st.data || [];
  return html`<${Page} title="Groups" lead="Service groups receive chats. Each has its own routing, hours and messages."
    actions=${html`<a class="btn btn-primary" id="group-new" href="#groups/new">New group</a>`}>
    ${st.error && html`<p class="alert">${st.error}</p>`}
    <div class="cards" id="groups-list">
      ${list.map((g) => html`<a class="gcard" href=${"#groups/" + g.id} data-group=${g.name}>
        <b>${g.name}</b>
        <span class="muted small">${(strategies.find((s) => s[0] === (g.routing.strategy || "longest_idle")) || [])[1]}${g.routing.wrap_up_seconds ? ` · ${g.routing.wrap_up_seconds} s wrap-up` : ""}</span>
        <${MiniWeek} hours=${g.routing.hours || []} />
        <span class="muted small">${hoursSummary(g.routing)}</span>
      </a>`)}
    </div>
    ${!st.loading && list.length === 0 && html`<p class="empty">No groups yet. Create the first one.</p>`}
  <//>`;
}

function hoursSummary(r) {
  const n = (r.hours || []).length;
  const tz = r.time_zone || "UTC";
  const hol = (r.holidays || []).length;
  return (n ? `Open ${n} periods a week, ${tz}` : "Always open") + (hol ? ` · ${hol} holiday${hol > 1 ? "s" : ""}` : "");
}

// ---- hours: the API's periods and the grid's hour cells ------------------

const minutes = (hhmm) => {
  const m = /^(\d\d):(\d\d)$/.exec(hhmm || "");
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
};
const hhmm = (min) => `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;

/** cells marks each hour of each day that a period touches. */
function toCells(hours) {
  const cells = Object.fromEntries(days.map((d) => [d, Array(24).fill(false)]));
  for (const h of hours) {
    const o = minutes(h.open);
    const c = minutes(h.close);
    if (!cells[h.day] || o === null || c === null) continue;
    for (let i = Math.floor(o / 60); i < Math.ceil(c / 60) && i < 24; i++) cells[h.day][i] = true;
  }
  return cells;
}

/** periods turns one day's hour cells back into periods. */
function dayPeriods(day, row) {
  const out = [];
  for (let i = 0; i < 24; i++) {
    if (!row[i]) continue;
    let j = i;
    while (j < 24 && row[j]) j++;
    out.push({ day, open: hhmm(i * 60), close: hhmm(j * 60) });
    i = j;
  }
  return out;
}

function MiniWeek({ hours }) {
  const cells = toCells(hours);
  return html`<span class="miniweek" aria-hidden="true">${days.map((d) => html`<span class="mw-row">${cells[d].map((on) => html`<i class=${on ? "on" : ""}></i>`)}</span>`)}</span>`;
}

/**
 * WeekGrid edits opening hours by the hour: 7 days × 24 hours, one
 * button each. It is one tab stop; the arrow keys move, Space or Enter
 * toggles, and a drag with the mouse paints. A day keeps its exact
 * periods (08:30) until one of its hours is changed.
 */
function WeekGrid({ hours, onChange, error }) {
  const [focus, setFocus] = useState([0, 9]);
  const paint = useRef(null);
  const cells = toCells(hours);
  const toggle = (d, i, value) => {
    const day = days[d];
    const row = [...cells[day]];
    row[i] = value ?? !row[i];
    onChange([...hours.filter((h) => h.day !== day), ...dayPeriods(day, row)].sort((a, b) => days.indexOf(a.day) - days.indexOf(b.day) || minutes(a.open) - minutes(b.open)));
  };
  const move = (e) => {
    let [d, i] = focus;
    const k = e.key;
    if (k === "ArrowRight") i = Math.min(23, i + 1);
    else if (k === "ArrowLeft") i = Math.max(0, i - 1);
    else if (k === "ArrowDown") d = Math.min(6, d + 1);
    else if (k === "ArrowUp") d = Math.max(0, d - 1);
    else if (k === "Home") i = 0;
    else if (k === "End") i = 23;
    else if (k === " " || k === "Enter") {
      e.preventDefault();
      toggle(d, i);
      return;
    } else return;
    e.preventDefault();
    setFocus([d, i]);
    requestAnimationFrame(() => document.querySelector(`.wg-cell[data-d="${d}"][data-h="${i}"]`)?.focus());
  };
  useEffect(() => {
    const up = () => (paint.current = null);
    window.addEventListener("pointerup", up);
    return () => window.removeEventListener("pointerup", up);
  }, []);
  return html`<div class=${"weekgrid" + (error ? " fld-bad" : "")} role="grid" aria-label="Opening hours, by the hour" aria-describedby="wg-help" onKeyDown=${move} data-field="routing.hours">
    <div class="wg-row wg-hours" role="row" aria-hidden="true"><span class="wg-day"></span>${Array.from({ length: 24 }, (_, i) => html`<span class="wg-h">${i % 3 === 0 ? String(i).padStart(2, "0") : ""}</span>`)}<span class="wg-sum"></span></div>
    ${days.map((day, d) => {
      const exact = hours.filter((h) => h.day === day);
      return html`<div class="wg-row" role="row" data-day=${day}>
        <span class="wg-day" role="rowheader">${dayNames[day].slice(0, 3)}</span>
        ${cells[day].map((on, i) => html`<button type="button" role="gridcell" class=${"wg-cell" + (on ? " on" : "")} data-d=${d} data-h=${i}
            tabindex=${focus[0] === d && focus[1] === i ? 0 : -1} aria-pressed=${on}
            aria-label=${`${dayNames[day]} ${hhmm(i * 60)} to ${hhmm((i + 1) * 60)}, ${on ? "open" : "closed"}`}
            onPointerDown=${(e) => { e.preventDefault(); paint.current = !on; setFocus([d, i]); toggle(d, i, !on); }}
            onPointerEnter=${() => paint.current !== null && on !== paint.current && toggle(d, i, paint.current)}
            onClick=${(e) => e.detail === 0 && toggle(d, i)}></button>`)}
        <span class="wg-sum">${exact.length ? exact.map((h) => `${h.open}–${h.close}`).join(", ") : html`<span class="muted">closed</span>`}</span>
      </div>`;
    })}
  </div>
  <p class="fld-hint" id="wg-help">Click or drag across hours to open or close them; with the keyboard, the arrows move and Space toggles. No hours at all means always open.</p>`;
}

/** nowIn says what time it is in the zone and whether the hours are open. */
function ZoneClock({ zone, hours, holidays }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 30000);
    return () => clearInterval(t);
  }, []);
  let parts;
  try {
    parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: zone || "UTC", weekday: "short", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  } catch {
    return null;
  }
  const day = parts.weekday.slice(0, 3).toLowerCase();
  const now = Number(parts.hour) * 60 + Number(parts.minute);
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const holiday = (holidays || []).includes(date);
  const open = !holiday && (hours.length === 0 || hours.some((h) => h.day === day && minutes(h.open) <= now && now < minutes(h.close)));
  return html`<p class="zoneclock" id="zone-clock"><span class=${"sdot " + (open ? "sdot-ready" : "sdot-not_ready")}></span>
    Now in ${zone || "UTC"}: ${parts.weekday} ${parts.hour}:${parts.minute} — <b>${open ? "open" : holiday ? "closed (holiday)" : "closed"}</b></p>`;
}

const zones = (() => {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC", "Europe/Berlin", "Europe/London", "America/New_York"];
  }
})();

function blankGroup() {
  return {
    name: "", welcome_message: "", queue_message: "", closed_message: "",
    limits: {}, routing: { strategy: "longest_idle", wrap_up_seconds: 0, auto_accept: false, time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", hours: [], holidays: [] },
    transcript: { sender: "", subject: "", template: "", html: false, on_close: false, locale: "", offline_to: "" },
  };
}

function checkGroup(v) {
  const e = {};
  if (!v.name.trim()) e.name = "The group needs a name.";
  else if (v.name.length > 200) e.name = "At most 200 characters.";
  const ot = v.routing.offer_timeout_seconds;
  if (ot !== "" && ot != null && ot !== 0 && (!Number.isInteger(Number(ot)) || ot < 5 || ot > 3600)) e["routing.offer_timeout_seconds"] = "Between 5 and 3600 seconds, or empty for the server's.";
  const w = Number(v.routing.wrap_up_seconds);
  if (!Number.isInteger(w) || w < 0 || w > 3600) e["routing.wrap_up_seconds"] = "Between 0 and 3600 seconds.";
  const cap = v.limits.capacity;
  if (cap !== undefined && cap !== null && cap !== "" && (!Number.isInteger(Number(cap)) || cap < 1 || cap > 50)) e["limits.capacity"] = "Between 1 and 50, or empty for each agent's own.";
  const t = v.transcript;
  if (t.sender && !isEmail(t.sender)) e["transcript.sender"] = "Not an email address.";
  if (t.offline_to && !isEmail(t.offline_to)) e["transcript.offline_to"] = "Not an email address.";
  if (/[\r\n]/.test(t.subject)) e["transcript.subject"] = "One line only.";
  for (const d of v.routing.holidays) if (!/^\d{4}-\d\d-\d\d$/.test(d)) e["routing.holidays"] = `${d} is not a date.`;
  return e;
}

function GroupEditor({ id }) {
  const isNew = id === "new";
  const f = useForm(blankGroup(), checkGroup);
  const [loadErr, setLoadErr] = useState("");
  const [holiday, setHoliday] = useState("");
  const [cfg] = useLoad(() => call("GET", "/api/v1/config"), []);
  const serverTimeout = (cfg.data && cfg.data.offer_timeout_seconds) || 0;
  useEffect(() => {
    if (isNew) return;
    call("GET", `/api/v1/admin/groups/${id}`).then(
      (g) => f.setValues({ ...blankGroup(), ...g, limits: g.limits || {}, routing: { ...blankGroup().routing, hours: [], holidays: [], time_zone: "UTC", ...g.routing }, transcript: { ...blankGroup().transcript, ...g.transcript } }),
      (err) => setLoadErr(err.message),
    );
  }, [id]);
  const v = f.values;
  const setIn = (part, key, value) => {
    f.setValues((cur) => ({ ...cur, [part]: { ...cur[part], [key]: value } }));
    f.setErrors((e) => ({ ...e, [part + "." + key]: undefined, "": undefined }));
  };
  const save = (e) => {
    e.preventDefault();
    f.submit(async (val) => {
      const cap = val.limits.capacity;
      const body = {
        name: val.name.trim(), welcome_message: val.welcome_message, queue_message: val.queue_message, closed_message: val.closed_message,
        limits: { ...val.limits, capacity: cap === "" || cap == null ? undefined : Number(cap) },
        routing: { ...val.routing, wrap_up_seconds: Number(val.routing.wrap_up_seconds) || 0, offer_timeout_seconds: Number(val.routing.offer_timeout_seconds) || 0 },
        transcript: val.transcript,
      };
      if (isNew) {
        const g = await call("POST", "/api/v1/admin/groups", { ...body, tenant_id: session.tenant });
        toast(`Group ${g.name} created.`);
        location.hash = "#groups/" + g.id;
      } else {
        await call("PATCH", `/api/v1/admin/groups/${id}`, body);
        toast("Saved.");
      }
    });
  };
  const addHoliday = () => {
    if (!/^\d{4}-\d\d-\d\d$/.test(holiday) || v.routing.holidays.includes(holiday)) return;
    setIn("routing", "holidays", [...v.routing.holidays, holiday].sort());
    setHoliday("");
  };
  if (loadErr) return html`<${Page} title="Group"><p class="alert">${loadErr}</p><a href="#groups">Back to the groups</a><//>`;
  const E = f.errors;
  const num = (s) => (s === "" ? "" : Number(s));
  return html`<${Page} id="group-editor" title=${isNew ? "New group" : v.name || "Group"} lead=${html`<a href="#groups">← All groups</a>`}
    actions=${html`<button class="btn btn-primary" form="group-form" id="group-save" disabled=${f.busy}>${f.busy ? "Saving…" : isNew ? "Create group" : "Save changes"}</button>`}>
    <form id="group-form" class="adm-form" onSubmit=${save} novalidate>
      <${FormError} errors=${E} />
      <fieldset class="card sect"><legend>Routing</legend>
        <div class="grid2">
          <${Field} label="Name" name="name" error=${E.name}><input value=${v.name} maxlength="200" onInput=${(e) => f.set("name", e.currentTarget.value)} /><//>
          <${Field} label="Strategy" name="routing.strategy" error=${E["routing.strategy"]} hint=${(strategies.find((s) => s[0] === v.routing.strategy) || strategies[0])[2]}>
            <select value=${v.routing.strategy || "longest_idle"} onChange=${(e) => setIn("routing", "strategy", e.currentTarget.value)}>${strategies.map((s) => html`<option value=${s[0]}>${s[1]}</option>`)}</select><//>
          <${Field} label="Chats per agent in this group" name="limits.capacity" error=${E["limits.capacity"]} hint="Empty: each agent's own capacity.">
            <input type="number" min="1" max="50" inputmode="numeric" value=${v.limits.capacity ?? ""} onInput=${(e) => setIn("limits", "capacity", num(e.currentTarget.value))} /><//>
          <${Field} label="Wrap-up time (seconds)" name="routing.wrap_up_seconds" error=${E["routing.wrap_up_seconds"]} hint="After a chat, the agent gets no new one for this long.">
            <input type="number" min="0" max="3600" inputmode="numeric" value=${v.routing.wrap_up_seconds || 0} onInput=${(e) => setIn("routing", "wrap_up_seconds", num(e.currentTarget.value))} /><//>
          <${Field} label="Offer timeout (seconds)" name="routing.offer_timeout_seconds" error=${E["routing.offer_timeout_seconds"]}
            hint=${v.routing.auto_accept ? "Not used: chats are assigned without an offer." : `An offer not taken in this time goes to the next agent. Empty: the server's ${serverTimeout ? serverTimeout + "\u00a0s" : "setting (offers wait)"}.`}>
            <input type="number" min="5" max="3600" inputmode="numeric" placeholder=${serverTimeout ? String(serverTimeout) : ""} value=${v.routing.offer_timeout_seconds || ""}
              onInput=${(e) => setIn("routing", "offer_timeout_seconds", num(e.currentTarget.value))} /><//>
        </div>
        <label class="check"><input type="checkbox" id="f-routing-auto_accept" checked=${!!v.routing.auto_accept} onChange=${(e) => setIn("routing", "auto_accept", e.currentTarget.checked)} /> Assign chats without an offer (auto-accept)</label>
      </fieldset>

      <fieldset class="card sect"><legend>Business hours</legend>
        <div class="grid2">
          <${Field} label="Time zone" name="routing.time_zone" error=${E["routing.time_zone"]}>
            <input list="zones" value=${v.routing.time_zone || ""} onInput=${(e) => setIn("routing", "time_zone", e.currentTarget.value)} /><//>
          <div class="fld hours-quick"><span class="lbl">Quick set</span><div class="row">
            <button type="button" class="btn btn-sm" id="hours-weekdays" onClick=${() => setIn("routing", "hours", days.slice(0, 5).map((d) => ({ day: d, open: "09:00", close: "17:00" })))}>Mon–Fri 9–17</button>
            <button type="button" class="btn btn-sm" onClick=${() => setIn("routing", "hours", [])}>Always open</button>
          </div></div>
        </div>
        <datalist id="zones">${zones.map((z) => html`<option value=${z} />`)}</datalist>
        <${ZoneClock} zone=${v.routing.time_zone} hours=${v.routing.hours || []} holidays=${v.routing.holidays} />
        <${WeekGrid} hours=${v.routing.hours || []} error=${E["routing.hours"]} onChange=${(h) => setIn("routing", "hours", h)} />
        ${E["routing.hours"] && html`<p class="fld-err" role="alert">${E["routing.hours"]}</p>`}
        <div class="holidays">
          <div class="fld"><label for="holiday-date">Holidays (closed all day)</label>
            <div class="row"><input type="date" id="holiday-date" value=${holiday} onInput=${(e) => setHoliday(e.currentTarget.value)} onKeyDown=${(e) => e.key === "Enter" && (e.preventDefault(), addHoliday())} />
            <button type="button" class="btn btn-sm" id="holiday-add" onClick=${addHoliday}>Add holiday</button></div>
          </div>
          <ul class="chips" id="holiday-list" data-field="routing.holidays" tabindex="-1">
            ${v.routing.holidays.map((d) => html`<li class="chip">${new Date(d + "T12:00:00").toLocaleDateString([], { weekday: "short", year: "numeric", month: "short", day: "numeric" })}
              <button type="button" aria-label=${"Remove " + d} onClick=${() => setIn("routing", "holidays", v.routing.holidays.filter((x) => x !== d))}>×</button></li>`)}
            ${v.routing.holidays.length === 0 && html`<li class="muted small">No holidays.</li>`}
          </ul>
          ${E["routing.holidays"] && html`<p class="fld-err" role="alert">${E["routing.holidays"]}</p>`}
        </div>
      </fieldset>

      <fieldset class="card sect"><legend>Messages to visitors</legend>
        <div class="grid2">
          <${Field} label="Welcome (when an agent joins)" name="welcome_message" error=${E.welcome_message}><textarea rows="3" value=${v.welcome_message} onInput=${(e) => f.set("welcome_message", e.currentTarget.value)}></textarea><//>
          <${Field} label="In the queue" name="queue_message" error=${E.queue_message}><textarea rows="3" value=${v.queue_message} onInput=${(e) => f.set("queue_message", e.currentTarget.value)}></textarea><//>
          <${Field} label="Closed (outside the hours, nobody signed in)" name="closed_message" error=${E.closed_message}><textarea rows="3" value=${v.closed_message} onInput=${(e) => f.set("closed_message", e.currentTarget.value)}></textarea><//>
          <${Field} label="Offline messages go to" name="transcript.offline_to" error=${E["transcript.offline_to"]} hint="What visitors leave on the offline form is mailed here; empty keeps it in the console only.">
            <input type="email" value=${v.transcript.offline_to} onInput=${(e) => setIn("transcript", "offline_to", e.currentTarget.value.trim())} /><//>
        </div>
      </fieldset>

      <${TranscriptSettings} v=${v} E=${E} setIn=${setIn} />
    </form>
    ${!isNew && html`<${DeleteGroup} id=${id} name=${v.name} />`}
  <//>`;
}

/** DeleteGroup removes a group nobody chatted in, after a confirmation;
 * the server refuses a group whose chats the archive keeps, and says so. */
function DeleteGroup({ id, name }) {
  const [confirm, setConfirm] = useState(false);
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    setBusy(true);
    try {
      await call("DELETE", `/api/v1/admin/groups/${id}`);
      toast(`Group ${name} deleted.`);
      location.hash = "#groups";
    } catch (e) {
      setErr(e.message);
      setConfirm(false);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card sect danger-zone" id="group-delete">
    <h2>Delete the group</h2>
    ${confirm
      ? html`<div class="confirm confirm-danger" id="group-delete-confirm" role="alertdialog" aria-labelledby="gd-q">
          <p id="gd-q"><b>Delete ${name}?</b></p>
          <p class="small">Its members leave it, and its own canned responses and triggers are deleted with it. It cannot be undone.</p>
          <div class="row"><button type="button" class="btn btn-sm btn-danger" id="group-delete-yes" disabled=${busy} onClick=${remove}>Delete ${name}</button>
            <button type="button" class="btn btn-sm" onClick=${() => setConfirm(false)}>Cancel</button></div></div>`
      : html`<p class="small muted">Only a group nobody has chatted in can be deleted: the archive keeps every chat with its group until the retention period removes it.</p>
          <button type="button" class="btn btn-sm btn-danger-ghost" id="group-delete-ask" onClick=${() => { setErr(""); setConfirm(true); }}>Delete group…</button>`}
    ${err && html`<p class="fld-err" role="alert" id="group-delete-error">${err}</p>`}
  </section>`;
}

const placeholders = ["$Customer$", "$Agent$", "$ServiceGroup$", "$Date$", "$Time$", "$Received$", "$Transcript$"];

function TranscriptSettings({ v, E, setIn }) {
  const t = v.transcript;
  const [preview, setPreview] = useState(null);
  const [perr, setPerr] = useState("");
  useEffect(() => {
    // The preview follows the unsaved settings, rendered by the server.
    const timer = setTimeout(() => {
      call("POST", "/api/v1/admin/groups/transcript-preview", { name: v.name || "Support", routing: { time_zone: v.routing.time_zone }, transcript: t }).then(
        (p) => {
          setPreview(p);
          setPerr("");
        },
        (err) => setPerr(err.message),
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [v.name, v.routing.time_zone, t.sender, t.subject, t.template, t.html, t.locale]);
  return html`<fieldset class="card sect"><legend>Transcript mail</legend>
    <div class="split">
      <div>
        <div class="grid2">
          <${Field} label="Sender" name="transcript.sender" error=${E["transcript.sender"]} hint="From address; empty uses the server's.">
            <input type="email" value=${t.sender} onInput=${(e) => setIn("transcript", "sender", e.currentTarget.value.trim())} /><//>
          <${Field} label="Date format" name="transcript.locale" error=${E["transcript.locale"]}>
            <select value=${t.locale || ""} onChange=${(e) => setIn("transcript", "locale", e.currentTarget.value)}>
              <option value="">English (US)</option><option value="en-GB">English (UK)</option><option value="de-DE">German</option><option value="fr-FR">French</option></select><//>
        </div>
        <${Field} label="Subject" name="transcript.subject" error=${E["transcript.subject"]} hint="Empty: “Your chat with $ServiceGroup$ on $Date$”.">
          <input value=${t.subject} maxlength="500" onInput=${(e) => setIn("transcript", "subject", e.currentTarget.value)} /><//>
        <${Field} label="Template" name="transcript.template" error=${E["transcript.template"]} hint=${html`Placeholders: ${placeholders.map((p) => html`<code>${p}</code> `)}`}>
          <textarea rows="8" class="mono" value=${t.template} onInput=${(e) => setIn("transcript", "template", e.currentTarget.value)} placeholder="Empty: the default text."></textarea><//>
        <label class="check"><input type="checkbox" id="f-transcript-html" checked=${!!t.html} onChange=${(e) => setIn("transcript", "html", e.currentTarget.checked)} /> The template is HTML</label>
        <label class="check"><input type="checkbox" id="f-transcript-on_close" checked=${!!t.on_close} onChange=${(e) => setIn("transcript", "on_close", e.currentTarget.checked)} /> Mail the transcript when a chat ends (if the visitor gave an address)</label>
      </div>
      <div class="mailprev" aria-live="polite">
        <h3>Preview</h3>
        ${perr && html`<p class="alert">${perr}</p>`}
        ${preview && html`<div class="mail" id="mail-preview">
          <dl><dt>From</dt><dd>${preview.from || "— (the server's sender)"}</dd><dt>To</dt><dd>vera@example.com</dd><dt>Subject</dt><dd id="mail-subject">${preview.subject}</dd></dl>
          ${preview.html
            ? html`<iframe class="mail-html" title="The HTML mail" sandbox="" srcdoc=${preview.html}></iframe>`
            : html`<pre class="mail-text" id="mail-body">${preview.text}</pre>`}
        </div>`}
      </div>
    </div>
  </fieldset>`;
}
