// The smaller pages of the admin console: tenants (admins of the default
// tenant), canned responses, the widget's appearance with a live preview
// of the real widget, proactive triggers and the audit log.

import { useState, useEffect, useRef } from "./vendor/hooks.mjs";
import { html, call, q, session, useLoad, useForm, Field, FormError, Page, toast, isColor, isEmail, loginRule, when, OneTimeLink } from "./admin-lib.js";

// ---- tenants ----------------------------------------------------------------

export function Tenants() {
  const [st, reload] = useLoad(() => call("GET", "/api/v1/admin/tenants"), []);
  const [created, setCreated] = useState(null);
  const f = useForm({ name: "", login: "", display_name: "", email: "" }, (v) => ({
    name: v.name.trim() ? (v.name.length > 200 ? "At most 200 characters." : "") : "The tenant needs a name.",
    "admin.login": v.login && !loginRule.test(v.login) ? "1 to 100 letters, digits or . _ @ -, starting with a letter or digit." : "",
    "admin.email": v.email && !isEmail(v.email) ? "Not an email address." : "",
  }));
  const create = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const body = { name: v.name.trim() };
      if (v.login) body.admin = { login: v.login.trim(), display_name: v.display_name.trim(), email: v.email.trim() };
      const t = await call("POST", "/api/v1/admin/tenants", body);
      setCreated(t);
      f.setValues({ name: "", login: "", display_name: "", email: "" });
      reload();
    });
  };
  const [renaming, setRenaming] = useState(null);
  // deleting is the tenant being deleted: its id, the name typed to
  // confirm, and the server's answer.
  const [deleting, setDeleting] = useState(null);
  const remove = async (e) => {
    e.preventDefault();
    const t = (st.data || []).find((x) => x.id === deleting.id);
    if (!t || deleting.typed.trim() !== t.name) return;
    setDeleting({ ...deleting, busy: true, error: "" });
    try {
      const d = await call("DELETE", `/api/v1/admin/tenants/${t.id}`);
      toast(`Tenant ${t.name} deleted: ${d.chats} chats, ${d.visitors} visitors.`);
      if (session.tenant === t.id) sessionStorage.removeItem("parley.admin.tenant");
      setDeleting(null);
      reload();
    } catch (err) {
      setDeleting({ ...deleting, busy: false, error: err.message });
    }
  };
  const rename = async (e) => {
    e.preventDefault();
    try {
      await call("PATCH", `/api/v1/admin/tenants/${renaming.id}`, { name: renaming.name });
      setRenaming(null);
      reload();
    } catch (err) {
      setRenaming({ ...renaming, error: err.message });
    }
  };
  const E = f.errors;
  return html`<${Page} title="Tenants" lead="Each tenant is a separate customer with its own groups, agents, visitors and chats. Pick the tenant to work on at the top.">
    ${created && html`<div class="card sect created" id="tenant-created">
      <p>Tenant <b>${created.name}</b> created with ID <b>${created.id}</b>. Its widget uses <code>tenant="${created.id}"</code>; its agents sign in at <code>/agent/?tenant=${created.id}</code>.</p>
      ${created.invitation && html`<${OneTimeLink} token=${created.invitation.token} expires=${created.invitation.expires_at} label=${`The first admin, ${created.admin.login}, chooses a password with this link.`} />`}
    </div>`}
    <form class="card sect adm-form" id="tenant-form" onSubmit=${create} novalidate>
      <h2>New tenant</h2>
      <${FormError} errors=${E} />
      <div class="grid2">
        <${Field} label="Name" name="name" error=${E.name}><input value=${f.values.name} onInput=${(e) => f.set("name", e.currentTarget.value)} /><//>
        <${Field} label="First admin's login" name="admin.login" error=${E["admin.login"]} hint="Optional: gets a one-time link to choose a password.">
          <input value=${f.values.login} autocapitalize="none" spellcheck="false" onInput=${(e) => f.set("login", e.currentTarget.value)} /><//>
        <${Field} label="First admin's name" name="admin.display_name" error=${E["admin.display_name"]}><input value=${f.values.display_name} onInput=${(e) => f.set("display_name", e.currentTarget.value)} /><//>
        <${Field} label="First admin's email" name="admin.email" error=${E["admin.email"]}><input type="email" value=${f.values.email} onInput=${(e) => f.set("email", e.currentTarget.value)} /><//>
      </div>
      <div class="row"><button class="btn btn-primary" id="tenant-create" disabled=${f.busy}>Create tenant</button></div>
    </form>
    ${st.error && html`<p class="alert">${st.error}</p>`}
    <div class="card flush">
      <table class="table" id="tenants-table">
        <thead><tr><th>ID</th><th>Name</th><th>Created</th><th></th></tr></thead>
        <tbody>${(st.data || []).map((t) => html`<tr data-tenant=${t.name}>
          <td class="num">${t.id}</td>
          <td>${renaming && renaming.id === t.id
            ? html`<form class="row" onSubmit=${rename}><input aria-label="New name" value=${renaming.name} onInput=${(e) => setRenaming({ ...renaming, name: e.currentTarget.value, error: "" })} />
                <button class="btn btn-sm btn-primary">Save</button><button type="button" class="btn btn-sm" onClick=${() => setRenaming(null)}>Cancel</button>
                ${renaming.error && html`<span class="fld-err" role="alert">${renaming.error}</span>`}</form>`
            : html`<b>${t.name}</b>${t.id === -1 ? html` <span class="muted small">default</span>` : ""}`}</td>
          <td class="muted">${when(t.created_at)}</td>
          <td class="num nowrap"><button class="btn btn-sm" onClick=${() => setRenaming({ id: t.id, name: t.name })}>Rename</button>
            ${t.id !== -1 && html` <button class="btn btn-sm btn-danger-ghost" data-delete=${t.name} aria-label=${"Delete " + t.name} onClick=${() => setDeleting({ id: t.id, typed: "", error: "" })}>Delete…</button>`}</td>
        </tr>
        ${deleting && deleting.id === t.id && html`<tr class="confirm-row"><td colspan="4">
          <form class="confirm confirm-danger" id="tenant-delete-confirm" onSubmit=${remove} role="alertdialog" aria-labelledby="td-q">
            <p id="td-q"><b>Delete ${t.name} and everything it holds?</b></p>
            <p class="small">Its chats with their files, visitors, offline messages and mail, its agents (signed out at once), groups, canned responses, triggers, API keys, webhooks and settings are deleted. Refused while one of its chats goes on. It cannot be undone; the audit log keeps its entries.</p>
            <div class="fld"><label for="td-name">Type <b>${t.name}</b> to confirm</label>
              <input id="td-name" autocomplete="off" spellcheck="false" value=${deleting.typed} onInput=${(e) => setDeleting({ ...deleting, typed: e.currentTarget.value, error: "" })} /></div>
            ${deleting.error && html`<p class="fld-err" role="alert" id="tenant-delete-error">${deleting.error}</p>`}
            <div class="row"><button class="btn btn-sm btn-danger" id="tenant-delete-yes" disabled=${deleting.busy || deleting.typed.trim() !== t.name}>Delete ${t.name}</button>
              <button type="button" class="btn btn-sm" onClick=${() => setDeleting(null)}>Cancel</button></div>
          </form></td></tr>`}`)}</tbody>
      </table>
    </div>
  <//>`;
}

// ---- canned responses -------------------------------------------------------

const blankCanned = { id: null, group_id: "", folder: "", title: "", shortcut: "", text: "" };

export function Canned() {
  const [st, reload] = useLoad(() => call("GET", "/api/v1/canned"), []);
  const [groups] = useLoad(() => call("GET", "/api/v1/groups"), []);
  const [editing, setEditing] = useState(null);
  const f = useForm(blankCanned, (v) => ({
    title: v.title.trim() ? "" : "The response needs a title.",
    text: v.text.trim() ? ([...v.text].length > 4000 ? "At most 4000 characters." : "") : "The response needs a text.",
    shortcut: v.shortcut && !/^\/?[a-z0-9][a-z0-9_-]{0,39}$/i.test(v.shortcut) ? "1 to 40 letters, digits, _ or -." : "",
  }));
  const open = (r) => {
    f.setValues({ ...blankCanned, ...r, folder: r.folder || "", shortcut: r.shortcut || "", group_id: r.group_id || "" });
    f.setErrors({});
    setEditing(r.id || "new");
  };
  const save = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const body = { group_id: Number(v.group_id) || 0, folder: v.folder, title: v.title, shortcut: v.shortcut.replace(/^\//, ""), text: v.text };
      if (v.id) await call("PATCH", `/api/v1/canned/${v.id}`, body);
      else await call("POST", "/api/v1/canned", body);
      toast("Response saved.");
      setEditing(null);
      reload();
    });
  };
  const remove = async (r) => {
    try {
      await call("DELETE", `/api/v1/canned/${r.id}`);
      toast("Response deleted.");
      reload();
    } catch (err) {
      toast(err.message, "error");
    }
  };
  const gname = (id) => (id ? ((groups.data || []).find((g) => g.id === id) || {}).name || `#${id}` : "All groups");
  const E = f.errors;
  if (session.tenant) {
    return html`<${Page} title="Canned responses"><p class="card sect">Canned responses are kept by each tenant's own admins and supervisors: sign in as an admin of this tenant to edit them.</p><//>`;
  }
  return html`<${Page} title="Canned responses" lead=${html`Agents insert them with <code>/shortcut</code>. Placeholders such as <code>{visitor.name}</code> and <code>{agent.name}</code> are filled in per chat.`}
    actions=${html`<button class="btn btn-primary" id="canned-new" onClick=${() => open(blankCanned)}>New response</button>`}>
    ${editing && html`<form class="card sect adm-form" id="canned-form" onSubmit=${save} novalidate>
      <h2>${editing === "new" ? "New response" : "Edit response"}</h2>
      <${FormError} errors=${E} />
      <div class="grid2">
        <${Field} label="Title" name="title" error=${E.title}><input value=${f.values.title} onInput=${(e) => f.set("title", e.currentTarget.value)} /><//>
        <${Field} label="Shortcut" name="shortcut" error=${E.shortcut} hint="Typed after a slash: /greet"><input value=${f.values.shortcut} autocapitalize="none" onInput=${(e) => f.set("shortcut", e.currentTarget.value)} /><//>
        <${Field} label="Group" name="group_id" error=${E.group_id}>
          <select value=${f.values.group_id || ""} onChange=${(e) => f.set("group_id", e.currentTarget.value)}><option value="">All groups</option>${(groups.data || []).map((g) => html`<option value=${g.id}>${g.name}</option>`)}</select><//>
        <${Field} label="Folder" name="folder" error=${E.folder} hint="Slashes make levels: Orders/Shipping"><input value=${f.values.folder} onInput=${(e) => f.set("folder", e.currentTarget.value)} /><//>
      </div>
      <${Field} label="Text" name="text" error=${E.text} wide><textarea rows="4" value=${f.values.text} onInput=${(e) => f.set("text", e.currentTarget.value)}></textarea><//>
      <div class="row"><button class="btn btn-primary" id="canned-save" disabled=${f.busy}>Save</button><button type="button" class="btn" onClick=${() => setEditing(null)}>Cancel</button></div>
    </form>`}
    ${st.error && html`<p class="alert">${st.error}</p>`}
    <div class="card flush scroll-x">
      <table class="table" id="canned-table">
        <thead><tr><th>Shortcut</th><th>Title</th><th>Group</th><th>Text</th><th></th></tr></thead>
        <tbody>${(st.data || []).map((r) => html`<tr data-id=${r.id}>
          <td><code>${r.shortcut ? "/" + r.shortcut : ""}</code></td><td><b>${r.title}</b>${r.folder && html`<div class="muted small">${r.folder.split("/").join(" › ")}</div>`}</td>
          <td>${gname(r.group_id)}</td><td class="clip">${r.text}</td>
          <td class="num nowrap"><button class="btn btn-sm" onClick=${() => open(r)}>Edit</button> <button class="btn btn-sm btn-danger-ghost" aria-label=${"Delete " + r.title} onClick=${() => remove(r)}>Delete</button></td>
        </tr>`)}</tbody>
      </table>
      ${!st.loading && (st.data || []).length === 0 && html`<p class="empty">No canned responses yet.</p>`}
    </div>
  <//>`;
}

// ---- widget appearance -------------------------------------------------------

const colorFields = [
  ["header_background", "headerBackground", "Header", "#4f46e5"],
  ["header_text", "headerText", "Header text", "#ffffff"],
  ["highlight", "highlight", "Buttons and links", "#4f46e5"],
  ["online_color", "onlineColor", "Online dot", "#16a34a"],
  ["offline_color", "offlineColor", "Offline dot", "#6b7280"],
];
const textFields = [
  ["launcher", "Launcher button", "Chat with us"],
  ["subtitle", "Line under the title", "We usually answer within a few minutes."],
  ["offlineTitle", "Offline form title", "We are offline right now"],
  ["offlineText", "Offline form text", "Leave us a message and we will answer by email."],
];
const positions = ["bottom-right", "bottom-left", "center-right", "center-left", "top-right", "top-left"];

function checkWidget(v) {
  const e = {};
  for (const [k] of colorFields) if (v[k] && !isColor(v[k])) e[k] = "A hex colour such as #4f46e5.";
  if (v.logo && !/^https:\/\/[^\s/]+/.test(v.logo)) e.logo = "An https address.";
  if ([...(v.title || "")].length > 100) e.title = "At most 100 characters.";
  return e;
}

export function Widget() {
  const f = useForm({ title: "", logo: "", position: "", texts: {} }, checkWidget);
  const [groups] = useLoad(() => call("GET", q("/api/v1/admin/groups")), []);
  const [mode, setMode] = useState("open");
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    call("GET", q("/api/v1/admin/widget")).then((w) => {
      f.setValues({ title: "", logo: "", position: "", ...w, texts: w.texts || {} });
      setLoaded(true);
    }, (err) => f.setErrors({ "": err.message }));
  }, []);
  const v = f.values;
  const save = (e) => {
    e.preventDefault();
    f.submit(async (val) => {
      const body = {};
      for (const k of ["title", "logo", "position", ...colorFields.map((c) => c[0])]) if (val[k]) body[k] = val[k];
      const texts = Object.fromEntries(Object.entries(val.texts || {}).filter(([, t]) => t));
      if (Object.keys(texts).length) body.texts = texts;
      await call("PUT", q("/api/v1/admin/widget"), body);
      toast("Widget saved. Pages show it on their next load.");
    });
  };
  const tenantID = session.tenant || (session.me && session.me.tenant_id) || -1;
  const group = (groups.data || [])[0];
  const snippet = `<script src="${location.origin}/widget.js" async></script>\n<parley-widget${tenantID > 0 ? ` tenant="${tenantID}"` : ""}${group ? ` group="${group.id}"` : ""}></parley-widget>`;
  return html`<${Page} title="Widget" lead="How the chat widget looks on your website. The preview is the real widget with your unsaved settings."
    actions=${html`<button class="btn btn-primary" form="widget-form" id="widget-save" disabled=${f.busy || !loaded}>Save widget</button>`}>
    <div class="widget-layout">
      <form id="widget-form" class="adm-form" onSubmit=${save} novalidate>
        <${FormError} errors=${f.errors} />
        <fieldset class="card sect"><legend>Colours</legend>
          <div class="colors">
            ${colorFields.map(([k, , label, def]) => html`<div class=${"fld color-fld" + (f.errors[k] ? " fld-bad" : "")}>
              <label for=${"f-" + k}>${label}</label>
              <div class="color-row">
                <input type="color" aria-label=${label + " (picker)"} value=${isColor(v[k] || "") && v[k].length === 7 ? v[k] : def} onInput=${(e) => f.set(k, e.currentTarget.value)} />
                <input id=${"f-" + k} data-field=${k} class="hex" value=${v[k] || ""} placeholder=${def} spellcheck="false" maxlength="7"
                  aria-invalid=${f.errors[k] ? "true" : undefined} aria-describedby=${f.errors[k] ? "f-" + k + "-err" : undefined} onInput=${(e) => f.set(k, e.currentTarget.value.trim())} />
              </div>
              ${f.errors[k] && html`<p class="fld-err" id=${"f-" + k + "-err"} role="alert">${f.errors[k]}</p>`}
            </div>`)}
          </div>
        </fieldset>
        <fieldset class="card sect"><legend>Header and place</legend>
          <div class="grid2">
            <${Field} label="Title" name="title" error=${f.errors.title} hint="Empty: “Chat with us”."><input value=${v.title} maxlength="100" onInput=${(e) => f.set("title", e.currentTarget.value)} /><//>
            <${Field} label="Position on the page" name="position" error=${f.errors.position}>
              <select value=${v.position || ""} onChange=${(e) => f.set("position", e.currentTarget.value)}><option value="">Default (bottom right)</option>${positions.map((p) => html`<option value=${p}>${p.replace("-", " ")}</option>`)}</select><//>
            <${Field} label="Logo" name="logo" error=${f.errors.logo} hint="An https address of an image for the header." wide><input type="url" value=${v.logo} placeholder="https://www.example.com/logo.png" onInput=${(e) => f.set("logo", e.currentTarget.value.trim())} /><//>
          </div>
        </fieldset>
        <fieldset class="card sect"><legend>Texts</legend>
          <div class="grid2">
            ${textFields.map(([k, label, def]) => html`<${Field} label=${label} name=${"texts." + k} error=${f.errors["texts." + k]}>
              <input value=${(v.texts || {})[k] || ""} placeholder=${def} onInput=${(e) => f.set("texts", { ...v.texts, [k]: e.currentTarget.value })} /><//>`)}
          </div>
        </fieldset>
        <section class="card sect"><h2>On your website</h2><p class="muted small">Paste this before the end of the page's body.</p><pre class="snippet-code" id="widget-snippet">${snippet}</pre></section>
      </form>
      <aside class="preview-col" aria-label="Preview">
        <div class="row preview-tabs" role="group" aria-label="Preview state">
          <button type="button" class=${"btn btn-sm" + (mode === "open" ? " btn-primary" : "")} aria-pressed=${mode === "open"} onClick=${() => setMode("open")}>Open</button>
          <button type="button" class=${"btn btn-sm" + (mode === "offline" ? " btn-primary" : "")} aria-pressed=${mode === "offline"} onClick=${() => setMode("offline")}>Offline</button>
        </div>
        ${loaded && html`<${WidgetPreview} v=${v} mode=${mode} tenant=${tenantID} group=${group} />`}
      </aside>
    </div>
  <//>`;
}

/** WidgetPreview frames the real chat app with the unsaved settings: the
 * server resolves them as a page's attributes would be, then the app
 * opens with them as the loader opens it. */
function WidgetPreview({ v, mode, tenant, group }) {
  const [src, setSrc] = useState("");
  const n = useRef(0);
  useEffect(() => {
    const attrs = {};
    for (const [k, key] of colorFields.map((c) => [c[0], c[1]])) if (isColor(v[k] || "")) attrs[key] = v[k];
    if (v.title) attrs.title = v.title;
    if (v.logo && /^https:\/\//.test(v.logo)) attrs.logo = v.logo;
    if (v.position) attrs.position = v.position;
    const qs = new URLSearchParams({ attrs: JSON.stringify(attrs), lang: navigator.language || "" });
    if (tenant > 0) qs.set("tenant", String(tenant));
    const timer = setTimeout(async () => {
      try {
        const res = await (await fetch(`/widget/config?${qs}`)).json();
        const strings = { ...res.strings };
        for (const [k, t] of Object.entries(v.texts || {})) if (t) strings[k] = t;
        const ctx = {
          cfg: { ...res.config, group: group ? String(group.id) : "" }, strings, lang: res.lang,
          status: { group_id: group ? group.id : 0, open: mode === "open" }, origin: location.origin,
          page: { url: location.origin + "/", title: "Preview" },
        };
        n.current++;
        setSrc(`/widget/app?preview=${n.current}#${encodeURIComponent(JSON.stringify(ctx))}`);
      } catch {
        // the form shows the values; the preview waits for the next change
      }
    }, 250);
    return () => clearTimeout(timer);
  }, [JSON.stringify(v), mode, tenant, group && group.id]);
  const bg = isColor(v.header_background || "") ? v.header_background : "#4f46e5";
  const fg = isColor(v.header_text || "") ? v.header_text : "#ffffff";
  return html`<div class="preview-stage">
    ${src && html`<iframe class="preview-frame" id="widget-preview" title="Widget preview" src=${src}></iframe>`}
    <span class="preview-launcher" aria-hidden="true" style=${{ background: bg, color: fg }}>${(v.texts || {}).launcher || v.title || "Chat with us"}</span>
  </div>`;
}

// ---- triggers ------------------------------------------------------------------

const blankTrigger = { id: null, name: "", description: "", enabled: true, run_once: false, url_pattern: "", time_on_site: 0, chat_opened: false, sender_name: "", message: "", group_id: 0 };

export function Triggers() {
  const [st, reload] = useLoad(() => call("GET", q("/api/v1/admin/triggers")), []);
  const [groups] = useLoad(() => call("GET", q("/api/v1/admin/groups")), []);
  const [editing, setEditing] = useState(false);
  const f = useForm(blankTrigger, (v) => ({
    name: v.name.trim() ? "" : "The trigger needs a name.",
    message: v.message.trim() ? "" : "The trigger needs a message.",
    url_pattern: !v.url_pattern && !Number(v.time_on_site) && !v.chat_opened ? "Give a condition: a page address, a time on site or the chat opening." : "",
  }));
  const open = (t) => {
    f.setValues({ ...blankTrigger, ...t });
    f.setErrors({});
    setEditing(true);
  };
  const save = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const body = { group_id: Number(v.group_id) || 0, name: v.name, description: v.description, enabled: v.enabled, run_once: v.run_once,
        url_pattern: v.url_pattern, time_on_site: Number(v.time_on_site) || 0, chat_opened: v.chat_opened, sender_name: v.sender_name, message: v.message };
      if (v.id) await call("PATCH", `/api/v1/admin/triggers/${v.id}`, body);
      else await call("POST", "/api/v1/admin/triggers", { ...body, tenant_id: session.tenant });
      toast("Trigger saved.");
      setEditing(false);
      reload();
    });
  };
  const remove = async (t) => {
    try {
      await call("DELETE", `/api/v1/admin/triggers/${t.id}`);
      reload();
    } catch (err) {
      toast(err.message, "error");
    }
  };
  const E = f.errors;
  const v = f.values;
  return html`<${Page} title="Triggers" lead="Proactive greetings: the widget opens with a message when a visitor matches a rule."
    actions=${html`<button class="btn btn-primary" id="trigger-new" onClick=${() => open(blankTrigger)}>New trigger</button>`}>
    ${editing && html`<form class="card sect adm-form" id="trigger-form" onSubmit=${save} novalidate>
      <h2>${v.id ? "Edit trigger" : "New trigger"}</h2>
      <${FormError} errors=${E} />
      <div class="grid2">
        <${Field} label="Name" name="name" error=${E.name}><input value=${v.name} onInput=${(e) => f.set("name", e.currentTarget.value)} /><//>
        <${Field} label="Group" name="group_id" error=${E.group_id}><select value=${v.group_id || 0} onChange=${(e) => f.set("group_id", Number(e.currentTarget.value))}><option value="0">Every group</option>${(groups.data || []).map((g) => html`<option value=${g.id}>${g.name}</option>`)}</select><//>
        <${Field} label="Page address matches" name="url_pattern" error=${E.url_pattern} hint="A regular expression, e.g. /pricing"><input value=${v.url_pattern} onInput=${(e) => f.set("url_pattern", e.currentTarget.value)} /><//>
        <${Field} label="After seconds on the site" name="time_on_site" error=${E.time_on_site}><input type="number" min="0" value=${v.time_on_site} onInput=${(e) => f.set("time_on_site", e.currentTarget.value)} /><//>
        <${Field} label="Sender name" name="sender_name" error=${E.sender_name}><input value=${v.sender_name} onInput=${(e) => f.set("sender_name", e.currentTarget.value)} /><//>
        <${Field} label="Description" name="description" error=${E.description}><input value=${v.description} onInput=${(e) => f.set("description", e.currentTarget.value)} /><//>
      </div>
      <${Field} label="Message" name="message" error=${E.message} wide><textarea rows="3" value=${v.message} onInput=${(e) => f.set("message", e.currentTarget.value)}></textarea><//>
      <div class="row wrap">
        <label class="check"><input type="checkbox" checked=${v.enabled} onChange=${(e) => f.set("enabled", e.currentTarget.checked)} /> Enabled</label>
        <label class="check"><input type="checkbox" checked=${v.run_once} onChange=${(e) => f.set("run_once", e.currentTarget.checked)} /> Once per visitor</label>
        <label class="check"><input type="checkbox" checked=${v.chat_opened} onChange=${(e) => f.set("chat_opened", e.currentTarget.checked)} /> When the visitor opens the chat</label>
      </div>
      <div class="row"><button class="btn btn-primary" disabled=${f.busy}>Save</button><button type="button" class="btn" onClick=${() => setEditing(false)}>Cancel</button></div>
    </form>`}
    ${st.error && html`<p class="alert">${st.error}</p>`}
    <div class="card flush scroll-x">
      <table class="table" id="triggers-table">
        <thead><tr><th>Name</th><th>When</th><th>Message</th><th>State</th><th></th></tr></thead>
        <tbody>${(st.data || []).map((t) => html`<tr>
          <td><b>${t.name}</b></td>
          <td class="small">${[t.url_pattern && `page ~ ${t.url_pattern}`, t.time_on_site && `after ${t.time_on_site} s`, t.chat_opened && "chat opened"].filter(Boolean).join(", ")}</td>
          <td class="clip">${t.message}</td><td>${t.enabled ? "On" : html`<span class="muted">Off</span>`}</td>
          <td class="num nowrap"><button class="btn btn-sm" onClick=${() => open(t)}>Edit</button> <button class="btn btn-sm btn-danger-ghost" aria-label=${"Delete " + t.name} onClick=${() => remove(t)}>Delete</button></td>
        </tr>`)}</tbody>
      </table>
      ${!st.loading && (st.data || []).length === 0 && html`<p class="empty">No triggers yet.</p>`}
    </div>
  <//>`;
}

// ---- audit log ---------------------------------------------------------------

const kinds = ["", "tenant", "group", "agent", "canned", "trigger"];

export function Audit() {
  const [filter, setFilter] = useState({ action: "", target_kind: "", since: "", until: "" });
  const [pages, setPages] = useState([]);
  const [err, setErr] = useState("");
  const [more, setMore] = useState(false);
  const load = async (before) => {
    const p = new URLSearchParams({ limit: "50" });
    if (filter.action) p.set("action", filter.action);
    if (filter.target_kind) p.set("target_kind", filter.target_kind);
    if (filter.since) p.set("since", new Date(filter.since + "T00:00:00").toISOString());
    if (filter.until) p.set("until", new Date(filter.until + "T00:00:00").toISOString());
    if (before) p.set("before", String(before));
    try {
      const list = await call("GET", q("/api/v1/admin/audit?" + p));
      setPages((cur) => (before ? [...cur, ...list] : list));
      setMore(list.length === 50);
      setErr("");
    } catch (x) {
      setErr(x.message);
    }
  };
  useEffect(() => {
    load(0);
  }, [filter.action, filter.target_kind, filter.since, filter.until]);
  const set = (k) => (e) => setFilter({ ...filter, [k]: e.currentTarget.value });
  return html`<${Page} title="Audit log" lead="Who changed what, when and from where. Entries are never changed or removed.">
    <div class="filters" role="search">
      <div class="fld"><label for="audit-kind">Target</label><select id="audit-kind" value=${filter.target_kind} onChange=${set("target_kind")}>${kinds.map((k) => html`<option value=${k}>${k || "Everything"}</option>`)}</select></div>
      <div class="fld"><label for="audit-action">Action</label><input id="audit-action" placeholder="agent. or group.update" value=${filter.action} onChange=${set("action")} /></div>
      <div class="fld"><label for="audit-since">From</label><input id="audit-since" type="date" value=${filter.since} onChange=${set("since")} /></div>
      <div class="fld"><label for="audit-until">Before</label><input id="audit-until" type="date" value=${filter.until} onChange=${set("until")} /></div>
    </div>
    ${err && html`<p class="alert">${err}</p>`}
    <ol class="audit" id="audit-list">
      ${pages.map((e) => html`<li data-action=${e.action}>
        <time datetime=${e.at}>${when(e.at)}</time>
        <span class="who"><b>${e.actor_login || "system"}</b><span class="muted small">${e.remote_addr}</span></span>
        <span class="what"><code class=${"act act-" + e.action.split(".")[0]}>${e.action}</code> ${e.target_kind} ${e.target_name ? html`<b>${e.target_name}</b>` : ""}<span class="muted"> #${e.target_id}</span>
          ${e.detail && html`<span class="detail">${e.detail}</span>`}</span>
      </li>`)}
    </ol>
    ${pages.length === 0 && !err && html`<p class="empty">Nothing logged${filter.action || filter.target_kind || filter.since || filter.until ? " for this filter" : " yet"}.</p>`}
    ${more && html`<div class="pager"><button class="btn" onClick=${() => load(pages[pages.length - 1].id)}>Older entries</button></div>`}
  <//>`;
}
