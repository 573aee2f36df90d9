// The admin console at /admin/: tenants, groups with business hours,
// agents, canned responses, the widget's appearance, triggers, the
// integration API's keys, webhooks and bots, the company directory, data
// protection (retention, erasure) and the audit log, one page per URL
// fragment. Every form checks what the API
// checks and shows the API's error next to the field. One-time password
// links land at #invite/<token>. Rendered with Preact and htm.

import { render } from "./vendor/preact.mjs";
import { useState, useEffect } from "./vendor/hooks.mjs";
import { html, session, call, useForm, Field, FormError, Toasts } from "./admin-lib.js";
import { Groups } from "./admin-groups.js";
import { Agents } from "./admin-agents.js";
import { Tenants, Canned, Widget, Triggers, Audit } from "./admin-pages.js";
import { Directory, Privacy } from "./admin-data.js";
import { Integrations } from "./admin-integrations.js";

const storeKey = "parley.admin";

const pages = [
  { id: "groups", label: "Groups", icon: "M16 19v-1a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4v1M9.5 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6M21 19v-1a4 4 0 0 0-3-3.9M15.5 4.1a3 3 0 0 1 0 5.8", view: Groups },
  { id: "agents", label: "Agents", icon: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8M4 21a8 8 0 0 1 16 0", view: Agents },
  { id: "canned", label: "Canned responses", icon: "M5 4h14v16l-7-4-7 4z", view: Canned },
  { id: "widget", label: "Widget", icon: "M4 6.5A2.5 2.5 0 0 1 6.5 4h11A2.5 2.5 0 0 1 20 6.5v8a2.5 2.5 0 0 1-2.5 2.5H11l-4.5 3.5V17A2.5 2.5 0 0 1 4 14.5z", view: Widget },
  { id: "triggers", label: "Triggers", icon: "M13 3 5 13h6l-1 8 8-10h-6z", view: Triggers },
  { id: "integrations", label: "Integrations", icon: "M9 7V3M15 7V3M6 7h12v4a6 6 0 0 1-12 0zM12 17v4", view: Integrations },
  { id: "directory", label: "Directory", icon: "M4 5h16v14H4zM8 9h8M8 13h5M4 5l8 6 8-6", view: Directory },
  { id: "privacy", label: "Data protection", icon: "M12 3 5 6v5c0 4.5 3 8.3 7 10 4-1.7 7-5.5 7-10V6zM9 12l2 2 4-4", view: Privacy },
  { id: "audit", label: "Audit log", icon: "M6 3h8l4 4v14H6zM14 3v4h4M9 12h6M9 16h6", view: Audit },
  { id: "tenants", label: "Tenants", icon: "M3 21h18M5 21V7l7-4 7 4v14M9 10h.01M15 10h.01M9 14h.01M15 14h.01", view: Tenants, super: true },
];

function route() {
  const [page, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  return { page: page || "groups", arg: rest.join("/") };
}

function useRoute() {
  const [r, setR] = useState(route());
  useEffect(() => {
    const on = () => setR(route());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return r;
}

function NavIcon({ d }) {
  return html`<svg class="ic" width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d=${d} /></svg>`;
}

function Login({ onIn }) {
  const tenantParam = Number(new URLSearchParams(location.search).get("tenant")) || 0;
  const f = useForm({ login: "", password: "" }, (v) => ({
    login: v.login.trim() ? "" : "Enter your login.",
    password: v.password ? "" : "Enter your password.",
  }));
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const r = await call("POST", "/api/v1/auth/login", { tenant_id: tenantParam, login: v.login.trim(), password: v.password });
      if (r.agent.role !== "admin") throw new Error("This account is not an admin. Agents work in the console at /agent/.");
      onIn(r.token, r.agent);
    });
  };
  return html`<main class="login">
    <form class="login-card" id="login-form" onSubmit=${submit} novalidate>
      <div class="login-brand"><span class="logo-mark"><${NavIcon} d="M4 6.5A2.5 2.5 0 0 1 6.5 4h11A2.5 2.5 0 0 1 20 6.5v8a2.5 2.5 0 0 1-2.5 2.5H11l-4.5 3.5V17A2.5 2.5 0 0 1 4 14.5z" /></span>Parley admin</div>
      <h1>Sign in to administer Parley</h1>
      ${tenantParam ? html`<p class="muted small">Tenant ${tenantParam}</p>` : ""}
      <${FormError} errors=${f.errors} />
      <${Field} label="Login" name="login" error=${f.errors.login}>
        <input autocomplete="username" autocapitalize="none" spellcheck="false" value=${f.values.login} onInput=${(e) => f.set("login", e.currentTarget.value)} />
      <//>
      <${Field} label="Password" name="password" error=${f.errors.password}>
        <input type="password" autocomplete="current-password" value=${f.values.password} onInput=${(e) => f.set("password", e.currentTarget.value)} />
      <//>
      <button id="login-submit" class="btn btn-primary btn-block" disabled=${f.busy}>${f.busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}

/** Invite: a one-time link's page, where an agent chooses its password. */
function Invite({ token }) {
  const [done, setDone] = useState(null);
  const f = useForm({ password: "", again: "" }, (v) => ({
    password: [...v.password].length >= 10 ? "" : "The password needs at least 10 characters.",
    again: v.again === v.password ? "" : "The two passwords differ.",
  }));
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const r = await call("POST", "/api/v1/auth/invite", { token, password: v.password });
      // The agent console keeps its token per tab: this tab continues there.
      sessionStorage.setItem("parley.console", JSON.stringify({ token: r.token }));
      if (r.agent.role === "admin") sessionStorage.setItem(storeKey, JSON.stringify({ token: r.token }));
      setDone(r.agent);
    });
  };
  if (done) {
    const tenant = done.tenant_id > 0 ? `?tenant=${done.tenant_id}` : "";
    return html`<main class="login"><div class="login-card" id="invite-done">
      <h1>Welcome, ${done.display_name || done.login}</h1>
      <p>Your password is set and you are signed in. Your login is <b>${done.login}</b>${done.tenant_id > 0 ? html` in tenant <b>${done.tenant_id}</b>` : ""}.</p>
      <a class="btn btn-primary btn-block" id="to-console" href=${"/agent/" + tenant}>Open the agent console</a>
      ${done.role === "admin" && html`<a class="btn btn-block" href=${"/admin/" + tenant + "#groups"} onClick=${() => setTimeout(() => location.reload())}>Open the admin console</a>`}
    </div></main>`;
  }
  return html`<main class="login">
    <form class="login-card" id="invite-form" onSubmit=${submit} novalidate>
      <div class="login-brand"><span class="logo-mark"><${NavIcon} d="M4 6.5A2.5 2.5 0 0 1 6.5 4h11A2.5 2.5 0 0 1 20 6.5v8a2.5 2.5 0 0 1-2.5 2.5H11l-4.5 3.5V17A2.5 2.5 0 0 1 4 14.5z" /></span>Parley</div>
      <h1>Choose your password</h1>
      <p class="muted small">This link works once. Use at least 10 characters.</p>
      <${FormError} errors=${f.errors} />
      <${Field} label="New password" name="password" error=${f.errors.password}>
        <input type="password" autocomplete="new-password" value=${f.values.password} onInput=${(e) => f.set("password", e.currentTarget.value)} />
      <//>
      <${Field} label="The same again" name="again" error=${f.errors.again}>
        <input type="password" autocomplete="new-password" value=${f.values.again} onInput=${(e) => f.set("again", e.currentTarget.value)} />
      <//>
      <button class="btn btn-primary btn-block" id="invite-submit" disabled=${f.busy}>${f.busy ? "Saving…" : "Set password and sign in"}</button>
    </form>
  </main>`;
}

function Shell({ me, onOut }) {
  const { page, arg } = useRoute();
  const superadmin = me.tenant_id === -1;
  const [tenants, setTenants] = useState([]);
  const [tenant, setTenant] = useState(Number(sessionStorage.getItem("parley.admin.tenant")) || 0);
  const [menu, setMenu] = useState(false);
  session.tenant = superadmin && tenant !== -1 ? tenant : 0;
  useEffect(() => {
    if (!superadmin) {
      call("GET", "/api/v1/admin/tenant").then((t) => setTenants([t]), () => {});
      return;
    }
    call("GET", "/api/v1/admin/tenants").then((ts) => {
      session.tenants = ts;
      setTenants(ts);
    }, () => {});
  }, [superadmin, page]);
  const visible = pages.filter((p) => !p.super || superadmin);
  const current = visible.find((p) => p.id === page) || visible[0];
  const View = current.view;
  const pick = (e) => {
    const id = Number(e.currentTarget.value);
    sessionStorage.setItem("parley.admin.tenant", String(id));
    setTenant(id);
  };
  const tenantName = (tenants.find((t) => t.id === (session.tenant || me.tenant_id)) || {}).name;
  return html`<div class="adm">
    <a class="skip" href="#main">Skip to the page</a>
    <nav class=${"adm-nav" + (menu ? " open" : "")} aria-label="Admin pages">
      <div class="adm-brand"><span class="logo-mark"><${NavIcon} d="M4 6.5A2.5 2.5 0 0 1 6.5 4h11A2.5 2.5 0 0 1 20 6.5v8a2.5 2.5 0 0 1-2.5 2.5H11l-4.5 3.5V17A2.5 2.5 0 0 1 4 14.5z" /></span><span>Parley admin</span></div>
      <ul>
        ${visible.map(
          (p) => html`<li><a href=${"#" + p.id} id=${"nav-" + p.id} class=${p === current ? "active" : ""} aria-current=${p === current ? "page" : undefined} onClick=${() => setMenu(false)}>
            <${NavIcon} d=${p.icon} /><span>${p.label}</span></a></li>`,
        )}
      </ul>
      <a class="adm-console" href=${"/agent/" + (me.tenant_id > 0 ? "?tenant=" + me.tenant_id : "")}>Agent console →</a>
    </nav>
    <div class="adm-main">
      <header class="adm-top">
        <button class="icon-btn adm-burger" aria-label="Menu" aria-expanded=${menu} onClick=${() => setMenu(!menu)}><${NavIcon} d="M4 7h16M4 12h16M4 17h16" /></button>
        ${superadmin
          ? html`<label class="adm-tenant"><span>Tenant</span><select id="tenant-switch" value=${session.tenant || -1} onChange=${pick}>
              ${tenants.map((t) => html`<option value=${t.id}>${t.name}${t.id === -1 ? " (default)" : ""}</option>`)}</select></label>`
          : html`<span class="adm-tenant"><span>Tenant</span><b>${tenantName || me.tenant_id}</b></span>`}
        <span class="grow"></span>
        <span class="me">${me.photo_url && me.photo_url.startsWith("/") ? html`<img class="avatar avatar-sm" src=${me.photo_url} alt="" />` : ""}<span class="me-name">${me.display_name || me.login}</span></span>
        <button class="btn btn-sm" id="logout" onClick=${onOut}>Sign out</button>
      </header>
      <main id="main" class="adm-content" tabindex="-1">
        <${View} key=${current.id + ":" + session.tenant} arg=${arg} me=${me} />
      </main>
    </div>
    <${Toasts} />
  </div>`;
}

function App() {
  const r = useRoute();
  const [state, setState] = useState({ me: null, checked: false });
  useEffect(() => {
    let saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(storeKey) || "null");
    } catch {
      saved = null;
    }
    if (!saved) return setState({ me: null, checked: true });
    session.token = saved.token;
    call("GET", "/api/v1/me").then(
      (me) => setState({ me: me.role === "admin" ? me : null, checked: true }),
      () => {
        sessionStorage.removeItem(storeKey);
        session.token = null;
        setState({ me: null, checked: true });
      },
    );
  }, []);
  if (r.page === "invite") return html`<${Invite} token=${r.arg} />`;
  if (!state.checked) return html`<p class="noscript">Loading…</p>`;
  if (!state.me)
    return html`<${Login} onIn=${(token, me) => {
      session.token = token;
      session.me = me;
      sessionStorage.setItem(storeKey, JSON.stringify({ token }));
      setState({ me, checked: true });
    }} />`;
  session.me = state.me;
  const out = async () => {
    await call("POST", "/api/v1/auth/logout").catch(() => {});
    sessionStorage.removeItem(storeKey);
    session.token = null;
    setState({ me: null, checked: true });
  };
  return html`<${Shell} me=${state.me} onOut=${out} />`;
}

const theme = localStorage.getItem("parley.theme");
if (theme) document.documentElement.dataset.theme = theme;
render(html`<${App} />`, document.getElementById("app"));
