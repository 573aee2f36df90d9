// The agents page: who works in the tenant, with photo, role, groups and
// capacity; invite with a one-time link, reset a password, disable, sign
// out everywhere, upload a photo.

import { useState, useEffect } from "./vendor/hooks.mjs";
import { html, call, q, session, useLoad, useForm, Field, FormError, Page, toast, isEmail, loginRule, OneTimeLink } from "./admin-lib.js";
import { initials, avatarColor } from "./people.js";

const roles = [
  ["agent", "Agent", "Answers chats."],
  ["supervisor", "Supervisor", "Also watches queues and agents, whispers and barges in, edits canned responses."],
  ["admin", "Admin", "Also runs this admin console."],
];

/** Face is an agent's photo, or its initials on a colour. */
export function Face({ a, size }) {
  const name = a.display_name || a.login;
  if (a.photo_url && a.photo_url.startsWith("/")) return html`<img class=${"face face-" + (size || "md")} src=${a.photo_url} alt="" />`;
  return html`<span class=${"face face-" + (size || "md")} style=${{ background: avatarColor(a.id ?? name) }} aria-hidden="true">${initials(name)}</span>`;
}

function presenceText(a) {
  if (a.disabled) return "Disabled";
  if (a.presence === "offline") return "Signed out";
  if (a.status === "ready" && a.presence === "available") return "Ready";
  return a.status_reason ? `Not ready · ${a.status_reason}` : a.presence === "available" ? "Not ready" : a.presence;
}

export function Agents({ arg, me }) {
  const [groups] = useLoad(() => call("GET", q("/api/v1/admin/groups")), []);
  return arg ? html`<${AgentEditor} key=${arg} id=${arg} groups=${groups.data || []} me=${me} />` : html`<${AgentList} groups=${groups} />`;
}

function AgentList({ groups }) {
  const [st] = useLoad(() => call("GET", q("/api/v1/admin/agents")), []);
  const [filter, setFilter] = useState("");
  const [showOff, setShowOff] = useState(false);
  const gname = (id) => ((groups.data || []).find((g) => g.id === id) || {}).name || `#${id}`;
  const off = (st.data || []).filter((a) => a.disabled).length;
  const list = (st.data || []).filter((a) => (showOff || !a.disabled) && (!filter || `${a.login} ${a.display_name} ${a.email || ""}`.toLowerCase().includes(filter.toLowerCase())));
  return html`<${Page} title="Agents" lead="People who answer chats, supervise or administer."
    actions=${html`${off > 0 && html`<label class="check nowrap"><input type="checkbox" id="show-disabled" checked=${showOff} onChange=${(e) => setShowOff(e.currentTarget.checked)} /> Show ${off} disabled</label>`}
      <input class="search" type="search" placeholder="Filter" aria-label="Filter agents" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} />
      <a class="btn btn-primary" id="agent-new" href="#agents/new">Invite an agent</a>`}>
    ${st.error && html`<p class="alert">${st.error}</p>`}
    <ul class="people" id="agents-list">
      ${list.map((a) => html`<li class=${a.disabled ? "off" : ""} data-agent=${a.login}>
        <a href=${"#agents/" + a.id} class="person">
          <${Face} a=${a} />
          <span class="pinfo"><b>${a.display_name || a.login}</b><span class="muted small">${a.login}${a.role !== "agent" ? " · " + a.role : ""}${a.directory_dn ? html` · <span class="pill pill-dir" title="From the company directory">directory</span>` : ""}</span></span>
          <span class="pgroups small">${a.groups.length ? a.groups.map((m) => gname(m.group_id)).join(", ") : html`<span class="muted">No groups</span>`}</span>
          <span class="pstate small"><span class=${"sdot sdot-" + (a.disabled || a.presence === "offline" ? "offline" : a.status)}></span>${presenceText(a)}</span>
        </a>
      </li>`)}
    </ul>
    ${!st.loading && list.length === 0 && html`<p class="empty">No agents${filter ? " match" : ""}.</p>`}
  <//>`;
}

function blankAgent() {
  return { login: "", display_name: "", chat_name: "", first_name: "", last_name: "", email: "", role: "agent", capacity: 3, groups: [] };
}

function checkAgent(v) {
  const e = {};
  if (!loginRule.test(v.login)) e.login = "1 to 100 letters, digits or . _ @ -, starting with a letter or digit.";
  for (const k of ["display_name", "chat_name", "first_name", "last_name"]) if (v[k].length > 200) e[k] = "At most 200 characters.";
  if (v.email && !isEmail(v.email)) e.email = "Not an email address.";
  const c = Number(v.capacity);
  if (!Number.isInteger(c) || c < 1 || c > 50) e.capacity = "Between 1 and 50 chats.";
  return e;
}

function AgentEditor({ id, groups, me }) {
  const isNew = id === "new";
  const f = useForm(blankAgent(), checkAgent);
  const [agent, setAgent] = useState(null);
  const [link, setLink] = useState(null);
  const [loadErr, setLoadErr] = useState("");
  const [photoErr, setPhotoErr] = useState("");
  const [confirm, setConfirm] = useState("");
  useEffect(() => {
    if (isNew) return;
    call("GET", `/api/v1/admin/agents/${id}`).then(
      (a) => {
        setAgent(a);
        f.setValues({ ...blankAgent(), ...a, chat_name: a.chat_name || "", first_name: a.first_name || "", last_name: a.last_name || "", email: a.email || "" });
      },
      (err) => setLoadErr(err.message),
    );
  }, [id]);
  const v = f.values;
  const save = (e) => {
    e.preventDefault();
    f.submit(async (val) => {
      const body = { display_name: val.display_name, chat_name: val.chat_name, first_name: val.first_name, last_name: val.last_name,
        email: val.email.trim(), role: val.role, capacity: Number(val.capacity), groups: val.groups };
      if (isNew && !agent) {
        const a = await call("POST", "/api/v1/admin/agents", { ...body, login: val.login.trim(), tenant_id: session.tenant });
        const inv = await call("POST", `/api/v1/admin/agents/${a.id}/invite`);
        setLink({ ...inv, label: "Invitation link created." });
        toast(`${a.login} created.`);
        history.replaceState(null, "", "#agents/" + a.id);
        setAgent(a);
      } else {
        setAgent(await call("PATCH", `/api/v1/admin/agents/${agent.id}`, body));
        toast("Saved.");
      }
    });
  };
  const act = async (what) => {
    setConfirm("");
    try {
      const aid = agent.id;
      if (what === "invite" || what === "password-reset") {
        const inv = await call("POST", `/api/v1/admin/agents/${aid}/${what}`);
        setLink({ ...inv, label: what === "invite" ? "Invitation link created." : "The password is reset and every session ended. The reset link:" });
        if (what === "password-reset") setAgent(await call("GET", `/api/v1/admin/agents/${aid}`));
      } else if (what === "sign-out") {
        const r = await call("POST", `/api/v1/admin/agents/${aid}/sign-out`);
        toast(`Signed out of ${r.ended} session${r.ended === 1 ? "" : "s"}.`);
        setAgent(await call("GET", `/api/v1/admin/agents/${aid}`));
      } else {
        setAgent(await call("POST", `/api/v1/admin/agents/${aid}/${what}`));
        toast(what === "disable" ? "Disabled." : "Enabled.");
      }
    } catch (err) {
      toast(err.message, "error");
    }
  };
  const upload = async (e) => {
    const file = e.currentTarget.files[0];
    e.currentTarget.value = "";
    if (!file) return;
    setPhotoErr("");
    if (file.size > 512 * 1024) return setPhotoErr("The photo is larger than 512 KB.");
    if (!/^image\/(png|jpeg|webp)$/.test(file.type)) return setPhotoErr("The photo must be a PNG, JPEG or WebP image.");
    try {
      setAgent(await call("PUT", `/api/v1/admin/agents/${agent.id}/photo`, file, true));
      toast("Photo saved.");
    } catch (err) {
      setPhotoErr(err.message);
    }
  };
  const removePhoto = async () => {
    try {
      setAgent(await call("DELETE", `/api/v1/admin/agents/${agent.id}/photo`));
    } catch (err) {
      setPhotoErr(err.message);
    }
  };
  const member = (gid) => v.groups.find((m) => m.group_id === gid);
  const toggleGroup = (gid, on) => f.set("groups", on ? [...v.groups, { group_id: gid }] : v.groups.filter((m) => m.group_id !== gid));
  const groupCap = (gid, cap) => f.set("groups", v.groups.map((m) => (m.group_id === gid ? { ...m, capacity: cap === "" ? 0 : Number(cap) } : m)));
  if (loadErr) return html`<${Page} title="Agent"><p class="alert">${loadErr}</p><a href="#agents">Back to the agents</a><//>`;
  const E = f.errors;
  const self = agent && agent.id === me.id;
  // The directory owns these agents' names, email, groups and password.
  const fromDir = !!(agent && agent.directory_dn);
  return html`<${Page} id="agent-editor" title=${isNew && !agent ? "Invite an agent" : v.display_name || v.login} lead=${html`<a href="#agents">← All agents</a>`}
    actions=${html`<button class="btn btn-primary" form="agent-form" id="agent-save" disabled=${f.busy}>${f.busy ? "Saving…" : isNew && !agent ? "Create and invite" : "Save changes"}</button>`}>
    ${link && html`<${OneTimeLink} token=${link.token} expires=${link.expires_at} label=${link.label} />`}
    <div class="agent-layout">
      <form id="agent-form" class="adm-form" onSubmit=${save} novalidate>
        <${FormError} errors=${E} />
        ${agent && agent.directory_dn && html`<p class="dir-note" id="agent-directory-note"><span class="pill pill-dir">directory</span>
          This agent comes from the company directory (<span class="mono">${agent.directory_dn}</span>): names, email, phone, photo and groups follow it at every sync, and the password is the directory's. Role and capacity are set here.</p>`}
        <fieldset class="card sect"><legend>Person</legend>
          <div class="grid2">
            <${Field} label="Login" name="login" error=${E.login} hint=${isNew && !agent ? "They sign in with it; it cannot change later." : ""}>
              <input value=${v.login} disabled=${!isNew || !!agent} autocapitalize="none" spellcheck="false" onInput=${(e) => f.set("login", e.currentTarget.value)} /><//>
            <${Field} label="Email" name="email" error=${E.email}><input type="email" value=${v.email} disabled=${fromDir} onInput=${(e) => f.set("email", e.currentTarget.value)} /><//>
            <${Field} label="Display name (for colleagues)" name="display_name" error=${E.display_name} hint="Empty: the login.">
              <input value=${v.display_name} disabled=${fromDir} onInput=${(e) => f.set("display_name", e.currentTarget.value)} /><//>
            <${Field} label="Chat name (for visitors)" name="chat_name" error=${E.chat_name} hint="Empty: the display name.">
              <input value=${v.chat_name} onInput=${(e) => f.set("chat_name", e.currentTarget.value)} /><//>
            <${Field} label="First name" name="first_name" error=${E.first_name}><input value=${v.first_name} onInput=${(e) => f.set("first_name", e.currentTarget.value)} /><//>
            <${Field} label="Last name" name="last_name" error=${E.last_name}><input value=${v.last_name} onInput=${(e) => f.set("last_name", e.currentTarget.value)} /><//>
          </div>
        </fieldset>
        <fieldset class="card sect"><legend>Work</legend>
          <div class="roles" role="radiogroup" aria-label="Role" data-field="role" tabindex="-1">
            ${roles.map((r) => html`<label class=${"role" + (v.role === r[0] ? " on" : "")}><input type="radio" name="role" value=${r[0]} checked=${v.role === r[0]}
              disabled=${self && r[0] !== "admin"} onChange=${() => f.set("role", r[0])} /><span><b>${r[1]}</b><span class="muted small">${r[2]}</span></span></label>`)}
          </div>
          ${E.role && html`<p class="fld-err" role="alert">${E.role}</p>`}
          <${Field} label="Chats at the same time" name="capacity" error=${E.capacity}>
            <input type="number" min="1" max="50" inputmode="numeric" class="narrow" value=${v.capacity} onInput=${(e) => f.set("capacity", e.currentTarget.value === "" ? "" : Number(e.currentTarget.value))} /><//>
          <div class="fld"><span class="lbl">Groups</span>
            <ul class="memberships" data-field="groups" tabindex="-1">
              ${groups.map((g) => {
                const m = member(g.id);
                return html`<li><label class="check"><input type="checkbox" data-group=${g.name} checked=${!!m} disabled=${fromDir} onChange=${(e) => toggleGroup(g.id, e.currentTarget.checked)} /> ${g.name}</label>
                  ${m && html`<label class="small muted gcap">own capacity <input type="number" min="0" max="50" class="narrow" aria-label=${"Capacity in " + g.name} value=${m.capacity || ""} placeholder="—" onInput=${(e) => groupCap(g.id, e.currentTarget.value)} /></label>`}</li>`;
              })}
              ${groups.length === 0 && html`<li class="muted small">The tenant has no groups yet.</li>`}
            </ul>
            ${E.groups && html`<p class="fld-err" role="alert">${E.groups}</p>`}
          </div>
        </fieldset>
      </form>
      ${agent && html`<aside class="agent-side">
        <section class="card sect photo-card">
          <h2>Photo</h2>
          <${Face} a=${agent} size="xl" />
          <p class="muted small">Visitors see it in the chat, on the contact page and the business card.</p>
          <div class="row">
            <label class="btn btn-sm" id="photo-pick">Upload…<input type="file" id="photo-file" accept="image/png,image/jpeg,image/webp" class="visually-hidden" data-field="photo" onChange=${upload} /></label>
            ${agent.photo_url && html`<button type="button" class="btn btn-sm btn-danger-ghost" onClick=${removePhoto}>Remove</button>`}
          </div>
          ${photoErr && html`<p class="fld-err" role="alert" id="photo-error">${photoErr}</p>`}
        </section>
        <section class="card sect">
          <h2>Access</h2>
          <p class="small"><span class=${"sdot sdot-" + (agent.disabled || agent.presence === "offline" ? "offline" : agent.status)}></span> ${presenceText(agent)}</p>
          <div class="stack">
            <button type="button" class="btn btn-sm" id="act-invite" disabled=${fromDir} onClick=${() => act("invite")}>New invitation link</button>
            ${confirm === "reset"
              ? html`<div class="confirm"><p class="small">The current password stops working and every session ends.</p><div class="row"><button type="button" class="btn btn-sm btn-danger" id="act-reset-yes" onClick=${() => act("password-reset")}>Reset password</button><button type="button" class="btn btn-sm" onClick=${() => setConfirm("")}>Cancel</button></div></div>`
              : html`<button type="button" class="btn btn-sm" id="act-reset" disabled=${self || !!agent.directory_dn} title=${agent.directory_dn ? "The password is the directory's" : undefined} onClick=${() => setConfirm("reset")}>Reset password…</button>`}
            <button type="button" class="btn btn-sm" id="act-signout" onClick=${() => act("sign-out")}>Sign out everywhere</button>
            ${agent.disabled
              ? html`<button type="button" class="btn btn-sm" id="act-enable" onClick=${() => act("enable")}>Enable</button>`
              : confirm === "disable"
                ? html`<div class="confirm" id="disable-confirm"><p class="small">${agent.display_name || agent.login} is signed out everywhere, gets no chats and cannot sign in. Chats in the archive keep the name.</p>
                    <div class="row"><button type="button" class="btn btn-sm btn-danger" id="act-disable-yes" onClick=${() => act("disable")}>Disable</button><button type="button" class="btn btn-sm" onClick=${() => setConfirm("")}>Cancel</button></div></div>`
                : html`<button type="button" class="btn btn-sm btn-danger-ghost" id="act-disable" disabled=${self} onClick=${() => setConfirm("disable")}>Disable…</button>`}
          </div>
        </section>
      </aside>`}
    </div>
  <//>`;
}
