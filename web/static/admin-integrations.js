// The admin console's page for the integration API (docs/integration.md):
// the tenant's API keys (the key itself shown once, revoking after a
// confirmation step), its webhooks with their deliveries (the signing
// secret shown once, deleting after a confirmation step) and bot-first
// groups. These endpoints work on the signed-in admin's own tenant.

import { useState } from "./vendor/hooks.mjs";
import { html, call, q, session, useLoad, useForm, Field, FormError, Page, toast, when } from "./admin-lib.js";

const base = "/integration/v1/admin";

// The integration API names no field in its errors; each form knows
// which of its fields an error is about from the message.
async function about(fn, field) {
  try {
    return await fn();
  } catch (err) {
    if (err.status === 400 && !err.field) err.field = typeof field === "function" ? field(err.message) : field;
    throw err;
  }
}

/** Secret shows a key or a signing secret the server shows only once. */
function Secret({ id, label, value, note }) {
  const copy = () =>
    navigator.clipboard
      ? navigator.clipboard.writeText(value).then(() => toast(label + " copied."), () => toast("Copying is not allowed here; select the text and copy it.", "error"))
      : toast("Select the text and copy it.", "error");
  return html`<div class="onetime secret" role="status" id=${id}>
    <p><b>${note}</b> You will not see it again: copy it now and keep it somewhere safe.</p>
    <div class="onetime-row"><input readonly value=${value} aria-label=${label} id=${id + "-value"} onFocus=${(e) => e.currentTarget.select()} />
    <button type="button" class="btn btn-sm" id=${id + "-copy"} onClick=${copy}>Copy</button></div>
  </div>`;
}

// ---- API keys -------------------------------------------------------------------

function Keys() {
  const [st, reload] = useLoad(() => call("GET", `${base}/api-keys`), []);
  const [created, setCreated] = useState(null);
  const [asking, setAsking] = useState(0);
  const [revokeErr, setRevokeErr] = useState("");
  const f = useForm({ name: "" }, (v) => ({
    name: !v.name.trim() ? "Give the key a name, e.g. the workflow that uses it." : [...v.name.trim()].length > 100 ? "At most 100 characters." : "",
  }));
  const create = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const k = await about(() => call("POST", `${base}/api-keys`, { name: v.name.trim() }), "name");
      setCreated(k);
      f.setValues({ name: "" });
      reload();
    });
  };
  const revoke = async (k) => {
    setRevokeErr("");
    try {
      await call("DELETE", `${base}/api-keys/${k.id}`);
      toast(`Key ${k.name} revoked.`);
      setAsking(0);
      if (created && created.id === k.id) setCreated(null);
      reload();
    } catch (err) {
      setRevokeErr(err.message);
    }
  };
  const keys = st.data || [];
  return html`<section class="card sect" id="api-keys">
    <h2>API keys</h2>
    <p class="small muted">Workflows and bots send a key as <code>Authorization: Bearer pk_…</code>. A key reads and writes every chat of this tenant; revoking it takes effect at its next request.</p>
    <form id="key-form" class="adm-form inline-form" onSubmit=${create} novalidate>
      <${FormError} errors=${f.errors} />
      <div class="inline-row">
        <${Field} label="Name of a new key" name="name" error=${f.errors.name}>
          <input maxlength="100" placeholder="Order workflow" value=${f.values.name} onInput=${(e) => f.set("name", e.currentTarget.value)} /><//>
        <button class="btn btn-primary" id="key-create" disabled=${f.busy}>${f.busy ? "Creating…" : "Create key"}</button>
      </div>
    </form>
    ${created && html`<${Secret} id="new-key" label="API key" value=${created.key} note=${`The key ${created.name}:`} />`}
    ${st.error && html`<p class="alert">${st.error}</p>`}
    <div class="scroll-x list-box">
      <table class="table keys-table" id="keys-table">
        <thead><tr><th>Name</th><th>Starts with</th><th>Created</th><th>State</th><th></th></tr></thead>
        <tbody>${keys.map((k) => html`<tr data-key=${k.name} class=${k.revoked_at ? "off" : ""}>
          <td><b>${k.name}</b></td><td class="mono">${k.prefix}…</td><td class="nowrap">${when(k.created_at)}</td>
          <td>${k.revoked_at ? html`<span class="pill pill-warn">revoked ${when(k.revoked_at)}</span>` : html`<span class="pill pill-ok">active</span>`}</td>
          <td class="num nowrap">${!k.revoked_at && asking !== k.id && html`<button class="btn btn-sm btn-danger-ghost key-revoke" aria-label=${"Revoke " + k.name} onClick=${() => { setAsking(k.id); setRevokeErr(""); }}>Revoke…</button>`}</td>
        </tr>
        ${asking === k.id && html`<tr class="confirm-row"><td colspan="5"><div class="confirm confirm-danger" id="key-revoke-confirm">
          <p>Revoke <b>${k.name}</b> (<span class="mono">${k.prefix}…</span>)? Whatever uses it is refused from its next request on. This cannot be undone.</p>
          ${revokeErr && html`<p class="fld-err" role="alert">${revokeErr}</p>`}
          <div class="row"><button class="btn btn-sm btn-danger" id="key-revoke-yes" onClick=${() => revoke(k)}>Revoke the key</button>
          <button class="btn btn-sm" onClick=${() => setAsking(0)}>Cancel</button></div></div></td></tr>`}`)}</tbody>
      </table>
      ${!st.loading && keys.length === 0 && html`<p class="empty">No API keys yet.</p>`}
    </div>
  </section>`;
}

// ---- webhooks -------------------------------------------------------------------

const events = [
  ["requested", "a visitor asked for a chat"],
  ["queued", "the chat waits for an agent"],
  ["offered", "offered to an agent"],
  ["accepted", "an agent took it"],
  ["message", "a message of anyone"],
  ["transferred", "transferred"],
  ["ended", "the chat ended"],
  ["offline_message", "a visitor left a message"],
  ["rating", "the visitor rated it"],
];

const statusPill = { delivered: "pill-ok", failed: "pill-warn", pending: "" };

function Deliveries({ hook }) {
  const [st, reload] = useLoad(() => call("GET", `${base}/webhooks/${hook.id}/deliveries?limit=50`), [hook.id]);
  const list = st.data || [];
  return html`<div class="deliveries" id=${"deliveries-" + hook.id}>
    <div class="row deliveries-head"><h3>Deliveries, newest first</h3>
      <button class="btn btn-sm" id="deliveries-refresh" disabled=${st.loading} onClick=${reload}>${st.loading ? "Loading…" : "Refresh"}</button></div>
    ${st.error && html`<p class="alert">${st.error}</p>`}
    ${!st.loading && !st.error && list.length === 0 && html`<p class="empty">Nothing delivered yet. Deliveries appear when a subscribed event happens and stay listed for 7 days.</p>`}
    ${list.length > 0 && html`<ul class="dlist">${list.map((d) => html`<li data-event=${d.event} data-status=${d.status}>
      <span class="dwhat"><b>${d.event}</b>${d.chat_id && html`<span class="mono small muted">${d.chat_id}</span>`}</span>
      <span class="dstate"><span class=${"pill " + (statusPill[d.status] || "")}>${d.status}</span>
        <span class="small">${d.attempts} ${d.attempts === 1 ? "attempt" : "attempts"}${d.last_status ? ", HTTP " + d.last_status : ""}</span></span>
      <time class="small" datetime=${d.created_at}>${when(d.delivered_at || d.created_at)}</time>
      ${d.last_error && html`<span class="derr small">${d.last_error}${d.status === "pending" ? html` · next try ${when(d.next_attempt)}` : ""}</span>`}
    </li>`)}</ul>`}
    ${list.length === 50 && html`<p class="small muted">The 50 newest are shown; the API pages further back with <code>before</code>.</p>`}
  </div>`;
}

function checkHook(v) {
  let url = "";
  try {
    const u = new URL(v.url.trim());
    if (u.protocol !== "http:" && u.protocol !== "https:") url = "An http or https address.";
    else if (u.hash) url = "The address may not have a #fragment.";
  } catch {
    url = v.url.trim() ? "An http or https address, such as https://crm.example.com/parley." : "Enter the address Parley posts to.";
  }
  if (!url && v.url.trim().length > 2000) url = "At most 2000 characters.";
  return { url };
}

function Webhooks() {
  const [st, reload] = useLoad(() => call("GET", `${base}/webhooks`), []);
  const [created, setCreated] = useState(null);
  const [open, setOpen] = useState(0);
  const [asking, setAsking] = useState(0);
  const [delErr, setDelErr] = useState("");
  const f = useForm({ url: "", events: [] }, checkHook);
  const toggle = (ev) => f.set("events", f.values.events.includes(ev) ? f.values.events.filter((x) => x !== ev) : [...f.values.events, ev]);
  const create = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const body = { url: v.url.trim(), events: events.map(([ev]) => ev).filter((ev) => v.events.includes(ev)) };
      const w = await about(() => call("POST", `${base}/webhooks`, body), (m) => (m.startsWith("unknown event") ? "events" : "url"));
      setCreated(w);
      f.setValues({ url: "", events: [] });
      reload();
    });
  };
  const remove = async (w) => {
    setDelErr("");
    try {
      await call("DELETE", `${base}/webhooks/${w.id}`);
      toast("Webhook deleted.");
      setAsking(0);
      if (open === w.id) setOpen(0);
      if (created && created.id === w.id) setCreated(null);
      reload();
    } catch (err) {
      setDelErr(err.message);
    }
  };
  const hooks = st.data || [];
  return html`<section class="card sect" id="webhooks">
    <h2>Webhooks</h2>
    <p class="small muted">Parley posts chat events to these addresses, signed with the webhook's secret, retried until the receiver answers 2xx. Parley posts to any address you give, inside your network too.</p>
    <form id="hook-form" class="adm-form" onSubmit=${create} novalidate>
      <${FormError} errors=${f.errors} />
      <${Field} label="Address of a new webhook" name="url" error=${f.errors.url}>
        <input type="url" inputmode="url" autocapitalize="none" spellcheck="false" placeholder="https://crm.example.com/parley" value=${f.values.url} onInput=${(e) => f.set("url", e.currentTarget.value)} /><//>
      <fieldset class="keykind hook-events" aria-describedby="hook-events-hint">
        <legend class="lbl">Events</legend>
        <p class="fld-hint" id="hook-events-hint">None ticked: every event, also those added later.</p>
        <div class="evgrid">${events.map(([ev, what]) => html`<label class="check"><input type="checkbox" data-event=${ev} checked=${f.values.events.includes(ev)} onChange=${() => toggle(ev)} />
          <span><span class="mono">${ev}</span> <span class="muted small">${what}</span></span></label>`)}</div>
        ${f.errors.events && html`<p class="fld-err" role="alert" data-field="events" tabindex="-1">${f.errors.events}</p>`}
      </fieldset>
      <div class="row"><button class="btn btn-primary" id="hook-create" disabled=${f.busy}>${f.busy ? "Adding…" : "Add webhook"}</button></div>
    </form>
    ${created && html`<${Secret} id="new-secret" label="Signing secret" value=${created.secret} note=${"The signing secret of " + created.url + ":"} />`}
    ${st.error && html`<p class="alert" id="webhooks-error">${st.error}</p>`}
    ${!st.loading && !st.error && hooks.length === 0 && html`<p class="empty">No webhooks yet.</p>`}
    ${hooks.length > 0 && html`<ul class="hooks" id="hooks-list">${hooks.map((w) => html`<li data-hook=${w.url} class=${open === w.id ? "open" : ""}>
      <div class="hook-row">
        <span class="hook-what"><b class="mono">${w.url}</b>
          <span class="small muted">${w.events.length ? w.events.join(", ") : "every event"} · added ${when(w.created_at)}</span></span>
        <span class="hook-acts">
          <button class="btn btn-sm hook-deliveries" aria-expanded=${open === w.id} onClick=${() => setOpen(open === w.id ? 0 : w.id)}>${open === w.id ? "Hide deliveries" : "Deliveries"}</button>
          ${asking !== w.id && html`<button class="btn btn-sm btn-danger-ghost hook-delete" aria-label=${"Delete the webhook " + w.url} onClick=${() => { setAsking(w.id); setDelErr(""); }}>Delete…</button>`}
        </span>
      </div>
      ${asking === w.id && html`<div class="confirm confirm-danger" id="hook-delete-confirm">
        <p>Delete the webhook to <span class="mono">${w.url}</span>? Deliveries still pending are given up. This cannot be undone.</p>
        ${delErr && html`<p class="fld-err" role="alert">${delErr}</p>`}
        <div class="row"><button class="btn btn-sm btn-danger" id="hook-delete-yes" onClick=${() => remove(w)}>Delete the webhook</button>
        <button class="btn btn-sm" onClick=${() => setAsking(0)}>Cancel</button></div></div>`}
      ${open === w.id && html`<${Deliveries} hook=${w} />`}
    </li>`)}</ul>`}
  </section>`;
}

// ---- bot-first groups -----------------------------------------------------------

function BotRow({ g }) {
  const [done, setDone] = useState(null); // the name set this visit, "" when cleared
  const field = `bot-${g.id}`;
  const f = useForm({ name: "" }, (v) => ({ [field]: [...v.name.trim()].length > 100 ? "At most 100 characters." : "" }));
  const put = (name) =>
    f.submit(async () => {
      await about(() => call("PUT", `${base}/groups/${g.id}/bot`, { name }), field);
      setDone(name);
      toast(name ? `${g.name} now starts with the bot ${name}.` : `${g.name} goes straight to the agents.`);
    });
  const set = (e) => {
    e.preventDefault();
    const name = f.values.name.trim();
    if (!name) {
      f.setErrors({ [field]: "Enter the bot's name, or use Clear to end bot first." });
      return;
    }
    put(name);
  };
  return html`<li data-group=${g.name}>
    <form class="bot-row" onSubmit=${set} novalidate>
      <span class="bot-group"><b>${g.name}</b>
        <span class="small muted" id=${"bot-state-" + g.id}>${done === null ? "" : done ? html`Bot first: <b>${done}</b>` : "Straight to the agents"}</span></span>
      <${Field} label=${"Bot name for " + g.name} name=${field} error=${f.errors[field]}>
        <input maxlength="100" placeholder="Helper" value=${f.values.name} onInput=${(e) => { f.set("name", e.currentTarget.value); f.setErrors({}); }} /><//>
      <span class="bot-acts">
        <button class="btn btn-sm btn-primary bot-set" disabled=${f.busy}>Set bot</button>
        <button type="button" class="btn btn-sm bot-clear" disabled=${f.busy} onClick=${() => { f.setValues({ name: "" }); put(""); }}>Clear</button>
      </span>
    </form>
    ${f.errors[""] && html`<p class="fld-err" role="alert">${f.errors[""]}</p>`}
  </li>`;
}

function Bots() {
  const [st] = useLoad(() => call("GET", q("/api/v1/admin/groups")), []);
  const groups = st.data || [];
  return html`<section class="card sect" id="bots">
    <h2>Bot-first groups</h2>
    <p class="small muted">A new chat of a bot-first group starts with its bot, which your bot program speaks for through the API, and reaches the agents when the bot hands it over. Parley does not report which groups are bot first: setting a name replaces the group's bot, Clear ends bot first.</p>
    ${st.error && html`<p class="alert">${st.error}</p>`}
    ${!st.loading && groups.length === 0 && html`<p class="empty">No groups yet.</p>`}
    ${groups.length > 0 && html`<ul class="bots" id="bots-list">${groups.map((g) => html`<${BotRow} key=${g.id} g=${g} />`)}</ul>`}
  </section>`;
}

export function Integrations() {
  const lead = html`Keys for workflows and bots, webhooks to other systems and bot-first groups. See <code>docs/integration.md</code> for the API.`;
  if (session.tenant && session.me && session.tenant !== session.me.tenant_id) {
    return html`<${Page} title="Integrations" lead=${lead}><p class="card sect" id="integrations-own">API keys, webhooks and bots are kept by each tenant's own admins: sign in as an admin of this tenant to manage them.</p><//>`;
  }
  return html`<${Page} title="Integrations" lead=${lead}>
    <${Keys} />
    <${Webhooks} />
    <${Bots} />
  <//>`;
}
