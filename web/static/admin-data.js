// The admin console's pages about where agents and data come from and
// where they go: the company directory (its mapping, read-only, the
// latest sync and "Sync now") and data protection (the tenant's
// retention period, a retention run now, and erasing one visitor with a
// confirmation step and the receipt).

import { useState, useEffect } from "./vendor/hooks.mjs";
import { html, call, q, session, useLoad, useForm, Field, FormError, Page, toast, when } from "./admin-lib.js";
import { Face } from "./admin-agents.js";

// ---- directory ----------------------------------------------------------------

const security = {
  ldaps: ["LDAPS", "TLS from the start."],
  starttls: ["StartTLS", "Upgraded to TLS before anything is sent."],
  plain: ["Unencrypted", "Passwords cross the network in the clear (--directory-allow-plain)."],
};

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || one + "s"}`;
}

/** SyncReport says what one sync changed. */
function SyncReport({ r }) {
  const changed = r.groups_created.length + r.agents_created + r.agents_updated + r.agents_disabled;
  return html`<div class="sync-report">
    <ul class="counts">
      <li><b>${r.agents_created}</b> agents created</li>
      <li><b>${r.agents_updated}</b> updated</li>
      <li class=${r.agents_disabled ? "count-warn" : ""}><b>${r.agents_disabled}</b> disabled</li>
      <li><b>${r.sessions_ended}</b> sessions ended</li>
      <li><b>${r.groups_created.length}</b> groups created</li>
    </ul>
    ${r.groups_created.length > 0 && html`<p class="small">New groups: ${r.groups_created.join(", ")}</p>`}
    ${changed === 0 && html`<p class="small muted">The directory and Parley were already in step.</p>`}
    ${r.skipped.length > 0 && html`<div class="skipped"><p class="small"><b>Left out (${r.skipped.length})</b></p>
      <ul class="small">${r.skipped.map((s) => html`<li>${s}</li>`)}</ul></div>`}
  </div>`;
}

export function Directory() {
  const [st, reload] = useLoad(() => call("GET", "/api/v1/admin/directory"), []);
  const [agents, reloadAgents] = useLoad(() => call("GET", q("/api/v1/admin/agents")), []);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  const sync = async () => {
    setBusy(true);
    setErr("");
    try {
      const r = await call("POST", "/api/v1/admin/directory/sync");
      toast(`Synced: ${plural(r.agents_created, "agent")} created, ${r.agents_updated} updated, ${r.agents_disabled} disabled.`);
    } catch (e) {
      setErr(e.message);
    } finally {
      setBusy(false);
      reload();
      reloadAgents();
    }
  };
  const lead = "Agents and groups from your company directory (LDAP, Active Directory). The mapping is set in the server's configuration; see docs/directory.md.";
  if (st.error) return html`<${Page} title="Company directory" lead=${lead}><p class="alert" id="directory-error">${st.error}</p><//>`;
  const d = st.data;
  if (!d) return html`<${Page} title="Company directory" lead=${lead}><p class="muted">Loading…</p><//>`;
  if (!d.configured) {
    return html`<${Page} title="Company directory" lead=${lead}>
      <section class="card sect" id="directory-off"><h2>No directory is configured</h2>
        <p>Every agent is a local account with a Parley password. To take agents and groups from LDAP or Active Directory, start the server with
        <code>--directory-url</code>, <code>--directory-base-dn</code> and <code>--directory-groups</code> (or the <code>PARLEY_DIRECTORY_*</code> variables).</p>
      </section><//>`;
  }
  const m = d.mapping || { groups: [] };
  const sec = security[m.security] || [m.security, ""];
  const fromDir = (agents.data || []).filter((a) => a.directory_dn);
  const last = d.at ? (d.error ? "failed" : "ok") : "never";
  return html`<${Page} title="Company directory" lead=${lead}
    actions=${html`<button class="btn btn-primary" id="directory-sync" disabled=${busy} onClick=${sync}>${busy ? "Syncing…" : "Sync now"}</button>`}>
    ${err && html`<p class="alert" id="sync-error" role="alert">The sync failed: ${err}</p>`}
    <section class=${"card sect sync-status sync-" + last} id="sync-status" aria-live="polite">
      <h2>Latest sync</h2>
      ${last === "never" && html`<p>No sync has finished since the server started. Syncs run at start and every ${Math.round(d.interval_seconds / 60)} minutes.</p>`}
      ${last !== "never" && html`<p class="sync-line"><span class=${"sdot " + (last === "ok" ? "sdot-ready" : "sdot-not_ready")}></span>
        <b>${last === "ok" ? "Succeeded" : "Failed"}</b> <time datetime=${d.at}>${when(d.at)}</time>
        <span class="muted small">(syncs every ${Math.round(d.interval_seconds / 60)} minutes)</span></p>`}
      ${d.error && html`<p class="alert" id="sync-last-error">${d.error}. Nothing was changed: a sync that cannot read every mapped group leaves the agents as they were.</p>`}
      ${d.report && html`<${SyncReport} r=${d.report} />`}
    </section>
    <div class="split">
      <section class="card sect" id="directory-connection">
        <h2>Connection</h2>
        <dl class="kv">
          <dt>Address</dt><dd class="mono">${d.url}</dd>
          <dt>Security</dt><dd><span class=${"pill" + (m.security === "plain" ? " pill-warn" : " pill-ok")}>${sec[0]}</span> <span class="small muted">${sec[1]}</span></dd>
          <dt>Reads as</dt><dd class="mono">${m.bind_dn || html`<span class="muted">anonymous</span>`}</dd>
          <dt>Base DN</dt><dd class="mono">${m.base_dn}</dd>
          <dt>Users</dt><dd class="mono">${m.user_filter}</dd>
          <dt>Nested groups</dt><dd>${m.nested_groups ? "followed, at any depth" : html`<span class="muted">not followed</span>`}</dd>
        </dl>
      </section>
      <section class="card sect" id="directory-attributes">
        <h2>Attributes</h2>
        <dl class="kv">
          <dt>Login</dt><dd class="mono">${m.login_attribute}</dd>
          <dt>Display name</dt><dd class="mono">${m.name_attribute}</dd>
          <dt>Email</dt><dd class="mono">${m.mail_attribute}</dd>
          <dt>Phone</dt><dd class="mono">${m.phone_attribute}</dd>
          <dt>Photo</dt><dd class="mono">${m.photo_attribute || html`<span class="muted">not read</span>`}</dd>
        </dl>
      </section>
    </div>
    <section class="card flush" id="directory-mapping">
      <h2 class="flush-h">Group mapping</h2>
      <table class="table map-table">
        <thead><tr><th>Directory group</th><th class="arrow"></th><th>Parley group</th></tr></thead>
        <tbody>
          ${m.groups.map((g) => html`<tr><td class="mono">${g.directory}</td><td class="arrow" aria-hidden="true">→</td><td><b>${g.group}</b></td></tr>`)}
          ${m.portal && html`<tr><td class="mono">${m.portal.directory}</td><td class="arrow" aria-hidden="true">→</td><td><b>${m.portal.group}</b> <span class="pill">contact portal</span></td></tr>`}
        </tbody>
      </table>
    </section>
    <section class="card sect" id="directory-agents">
      <h2>Agents from the directory (${fromDir.length})</h2>
      <p class="small muted">Their names, contact details and groups follow the directory; they sign in with their directory password. Local accounts are never changed by a sync.</p>
      ${fromDir.length === 0
        ? html`<p class="empty">No agent has come from the directory yet.</p>`
        : html`<ul class="people">${fromDir.map((a) => html`<li class=${a.disabled ? "off" : ""} data-agent=${a.login}>
            <a class="person person-dir" href=${"#agents/" + a.id}><${Face} a=${a} />
              <span class="pinfo"><b>${a.display_name || a.login}</b><span class="muted small">${a.login}</span></span>
              <span class="pgroups small mono">${a.directory_dn}</span>
              <span class="pstate small">${a.disabled ? html`<span class="pill pill-warn">disabled by the sync</span>` : html`<span class="pill pill-ok">active</span>`}</span>
            </a></li>`)}</ul>`}
    </section>
  <//>`;
}

// ---- data protection ------------------------------------------------------------

const countLabels = [
  ["visitors", "visitor records"],
  ["chats", "chats"],
  ["events", "messages and events"],
  ["attachments", "attachment records"],
  ["files", "files"],
  ["ratings", "ratings"],
  ["offline_messages", "offline messages"],
  ["mails", "mails"],
  ["webhook_deliveries", "webhook deliveries"],
];

/** Counts lists what a run or an erasure deleted. */
function Counts({ d, id }) {
  return html`<dl class="countgrid" id=${id}>
    ${countLabels.map(([k, label]) => html`<div data-count=${k} class=${d[k] ? "" : "zero"}><dt>${label}</dt><dd>${d[k] || 0}</dd></div>`)}
  </dl>`;
}

function checkDays(v) {
  const n = Number(v.retention_days);
  return { retention_days: v.retention_days === "" || !Number.isInteger(n) || n < 0 || n > 36500 ? "Whole days from 0 (keep everything) to 36500." : "" };
}

function Retention() {
  const [st, reload] = useLoad(() => call("GET", q("/api/v1/admin/retention")), []);
  const f = useForm({ retention_days: "" }, checkDays);
  const [loaded, setLoaded] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [run, setRun] = useState(null);
  const [runErr, setRunErr] = useState("");
  useEffect(() => {
    if (!st.data) return;
    f.setValues({ retention_days: String(st.data.retention_days) });
    setLoaded(true);
  }, [st.data]);
  const save = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      await call("PUT", "/api/v1/admin/retention", { tenant_id: session.tenant, retention_days: Number(v.retention_days) });
      toast(Number(v.retention_days) ? `Personal data is now kept for ${v.retention_days} days.` : "Everything is kept.");
      reload();
    });
  };
  const runNow = async () => {
    setConfirm(false);
    setRunErr("");
    try {
      setRun(await call("POST", q("/api/v1/admin/retention/run")));
    } catch (e) {
      setRunErr(e.message);
    }
  };
  const days = st.data ? st.data.retention_days : 0;
  const dirty = loaded && String(days) !== String(f.values.retention_days);
  return html`<section class="card sect" id="retention">
    <h2>Retention period</h2>
    <p class="small muted">Ended chats with their messages, files, ratings and mail, offline messages, other mail and webhook deliveries are deleted once they are older than this. Chats still waiting or being handled are never deleted. The job runs every hour.</p>
    ${st.error && html`<p class="alert">${st.error}</p>`}
    <form id="retention-form" class="adm-form" onSubmit=${save} novalidate>
      <${FormError} errors=${f.errors} />
      <div class="retention-row">
        <${Field} label="Keep personal data for (days)" name="retention_days" error=${f.errors.retention_days} hint="0 keeps everything; at most 36500 (100 years).">
          <input type="number" min="0" max="36500" inputmode="numeric" class="days" value=${f.values.retention_days} onInput=${(e) => f.set("retention_days", e.currentTarget.value)} /><//>
        <div class="presets" role="group" aria-labelledby="presets-l"><span class="small muted" id="presets-l">Common:</span>
          ${[30, 90, 365].map((n) => html`<button type="button" class="btn btn-sm" onClick=${() => f.set("retention_days", String(n))}>${n} days</button>`)}
        </div>
      </div>
      <div class="row">
        <button class="btn btn-primary" id="retention-save" disabled=${f.busy || !loaded}>${f.busy ? "Saving…" : "Save period"}</button>
        ${st.data && st.data.updated_at && html`<span class="small muted">Last changed ${when(st.data.updated_at)}</span>`}
      </div>
    </form>
    <div class="run-now">
      <h3>Apply it now</h3>
      ${days === 0
        ? html`<p class="small muted">With no period set, nothing is deleted.</p>`
        : confirm
          ? html`<div class="confirm" id="run-confirm"><p class="small">Delete now everything the period of <b>${days} days</b> has expired? It cannot be undone.</p>
              <div class="row"><button type="button" class="btn btn-sm btn-danger" id="run-yes" onClick=${runNow}>Delete what is older than ${days} days</button>
              <button type="button" class="btn btn-sm" onClick=${() => setConfirm(false)}>Cancel</button></div></div>`
          : html`<p class="small muted">The job does this every hour; run it now after shortening the period.</p>
              <button type="button" class="btn btn-sm" id="run-now" disabled=${dirty} onClick=${() => setConfirm(true)}>Run now…</button>
              ${dirty && html`<span class="small muted"> Save the period first.</span>`}`}
      ${runErr && html`<p class="fld-err" role="alert" id="run-error">${runErr}</p>`}
      ${run && html`<div class="receipt" id="run-result" role="status"><p><b>Retention run done.</b> Deleted:</p><${Counts} d=${run} /></div>`}
    </div>
  </section>`;
}

const keys = [
  ["email", "Email address", "email", "erika@example.com", "Compared without regard to case."],
  ["phone", "Phone number", "tel", "+49 30 1234567", "Compared exactly as the visitor gave it."],
  ["visitor_id", "Visitor ID", "text", "v_…", "As shown in a chat's details and the archive."],
];

function Erasure() {
  const [kind, setKind] = useState("email");
  const f = useForm({ value: "" }, (v) => {
    const s = v.value.trim();
    return { [kind]: s === "" ? "Enter the " + keys.find((k) => k[0] === kind)[1].toLowerCase() + "." : s.length > 320 ? "At most 320 characters." : "" };
  });
  const [step, setStep] = useState("edit"); // edit, confirm
  const [receipt, setReceipt] = useState(null);
  const k = keys.find((x) => x[0] === kind);
  const tenantName = ((session.tenants || []).find((t) => t.id === session.tenant) || {}).name;
  const review = (e) => {
    e.preventDefault();
    f.submit(async () => {
      setReceipt(null);
      setStep("confirm");
    });
  };
  const erase = () =>
    f.submit(async (v) => {
      try {
        setReceipt(await call("POST", "/api/v1/admin/erasure", { tenant_id: session.tenant, [kind]: v.value.trim() }));
        f.setValues({ value: "" });
      } finally {
        setStep("edit");
      }
    });
  const E = f.errors;
  const total = receipt ? countLabels.reduce((n, [c]) => n + (receipt.deleted[c] || 0), 0) : 0;
  return html`<section class="card sect" id="erasure">
    <h2>Erase one person's data</h2>
    <p class="small muted">On a data-protection request: every visitor record that matches, with all their chats, messages, files, ratings, offline messages and mail. Refused while one of their chats is still going on.</p>
    <form id="erasure-form" class="adm-form" onSubmit=${review} novalidate>
      <${FormError} errors=${E} />
      <fieldset class="keykind" disabled=${step === "confirm"}><legend class="lbl">Find the person by</legend>
        <div class="row">${keys.map(([id, label]) => html`<label class="check"><input type="radio" name="erase-key" value=${id} checked=${kind === id}
          onChange=${() => { setKind(id); f.setErrors({}); }} /> ${label}</label>`)}</div>
      </fieldset>
      <${Field} label=${k[1]} name=${kind} error=${E[kind]} hint=${k[4]}>
        <input type=${k[2]} value=${f.values.value} placeholder=${k[3]} autocomplete="off" spellcheck="false" readonly=${step === "confirm"}
          onInput=${(e) => { f.set("value", e.currentTarget.value); f.setErrors({}); }} /><//>
      ${step === "edit"
        ? html`<div class="row"><button class="btn btn-danger-ghost" id="erase-review">Erase…</button></div>`
        : html`<div class="confirm confirm-danger" id="erase-confirm" role="alertdialog" aria-labelledby="erase-q">
            <p id="erase-q"><b>Erase everything of the visitor with ${k[1].toLowerCase()} <span class="mono">${f.values.value.trim()}</span>${tenantName ? html` in ${tenantName}` : ""}?</b></p>
            <p class="small">Their chats disappear from the archive and the reports' details. It cannot be undone. The audit log records that you erased, not whom.</p>
            <div class="row"><button type="button" class="btn btn-danger" id="erase-yes" disabled=${f.busy} onClick=${erase}>${f.busy ? "Erasing…" : "Erase for good"}</button>
              <button type="button" class="btn" id="erase-cancel" onClick=${() => setStep("edit")}>Cancel</button></div>
          </div>`}
    </form>
    ${receipt && html`<div class="receipt" id="erasure-receipt" role="status">
      <p><b>${total === 0 ? "Nobody matched: nothing was deleted." : "Erased."}</b> <span class="small muted">Receipt of ${when(receipt.erased_at)}, by ${receipt.key.replace("_", " ")}</span></p>
      <${Counts} d=${receipt.deleted} id="receipt-counts" />
      <p class="small muted">Not reached: mail that already left the server, copies kept by webhook receivers and backups. The entry is in the <a href="#audit">audit log</a>.</p>
    </div>`}
  </section>`;
}

export function Privacy() {
  return html`<${Page} title="Data protection" lead="How long personal data is kept, and erasing one person's data on request.">
    <div class="split split-top"><div><${Retention} /></div><div><${Erasure} /></div></div>
  <//>`;
}
