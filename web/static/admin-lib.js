// Shared pieces of the admin console: the API client that keeps the
// field of an error, form state with per-field errors, and the small
// components every page uses.

import { h } from "./vendor/preact.mjs";
import { useState, useEffect, useCallback } from "./vendor/hooks.mjs";
import htm from "./vendor/htm.mjs";
import { ApiError } from "./api.js";

export const html = htm.bind(h);

/** An API error with the request field it is about (error.field). */
export class FieldError extends ApiError {
  constructor(status, code, message, field) {
    super(status, code, message);
    this.field = field || "";
  }
}

/** Session state shared by the pages: the token and the tenant worked on. */
export const session = {
  token: null,
  me: null,
  // tenant is the tenant an admin of the default tenant works on (0: its own).
  tenant: 0,
  tenants: [],
};

/** q adds the tenant worked on to a path for the admin API. */
export function q(path) {
  if (!session.tenant) return path;
  return path + (path.includes("?") ? "&" : "?") + "tenant_id=" + session.tenant;
}

/** call makes an API request and throws FieldError on an error answer. */
export async function call(method, path, body, raw) {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  let payload;
  if (raw) {
    payload = body;
    headers["Content-Type"] = body.type || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch {
    throw new FieldError(0, "network", "The server cannot be reached. Check your connection.");
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new FieldError(res.status, e.code || "http", e.message || `The server answered with status ${res.status}.`, e.field);
  }
  return data;
}

/** useLoad loads data with fn and reloads when deps change. */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: "", loading: true });
  const load = useCallback(() => {
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => setState({ data, error: "", loading: false }),
      (err) => setState({ data: null, error: err.message, loading: false }),
    );
  }, deps);
  useEffect(load, [load]);
  return [state, load];
}

/**
 * useForm holds a form's values and its errors by field. submit runs fn;
 * an API error naming a field is shown next to it, any other above the
 * form. check(values) returns client-side errors by field, the same rules
 * the API applies, so most mistakes are caught before a request.
 */
export function useForm(initial, check) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const set = (name, value) => {
    setValues((v) => ({ ...v, [name]: value }));
    setErrors((e) => (e[name] || e[""] ? { ...e, [name]: undefined, "": undefined } : e));
  };
  const submit = async (fn) => {
    const found = check ? check(values) : {};
    if (Object.values(found).some(Boolean)) {
      setErrors(found);
      focusError(found);
      return false;
    }
    setBusy(true);
    try {
      await fn(values);
      setErrors({});
      return true;
    } catch (err) {
      const e = err.field ? { [err.field]: err.message } : { "": err.message };
      setErrors(e);
      focusError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { values, setValues, set, errors, setErrors, busy, submit };
}

function focusError(errors) {
  const first = Object.keys(errors).find((k) => errors[k]);
  if (first === undefined) return;
  requestAnimationFrame(() => {
    const el = document.querySelector(`[data-field="${CSS.escape(first)}"]`) || document.getElementById("form-error");
    if (el) el.focus();
  });
}

const ids = (name) => "f-" + name.replace(/[^A-Za-z0-9_-]/g, "-");

/**
 * Field is a labelled input with its error under it. children is the
 * control; it gets the id, data-field and ARIA attributes from props.
 */
export function Field({ label, name, error, hint, wide, children }) {
  const id = ids(name);
  const control = children && children.props ? children : null;
  if (control) {
    control.props.id = id;
    control.props["data-field"] = name;
    control.props["aria-invalid"] = error ? "true" : undefined;
    control.props["aria-describedby"] = error ? id + "-err" : hint ? id + "-hint" : undefined;
  }
  return html`<div class=${"fld" + (wide ? " fld-wide" : "") + (error ? " fld-bad" : "")}>
    <label for=${id}>${label}</label>
    ${children}
    ${hint && !error && html`<p class="fld-hint" id=${id + "-hint"}>${hint}</p>`}
    ${error && html`<p class="fld-err" id=${id + "-err"} role="alert">${error}</p>`}
  </div>`;
}

/** FormError shows an error that is about no single field. */
export function FormError({ errors }) {
  if (!errors[""]) return null;
  return html`<p class="alert" id="form-error" tabindex="-1" role="alert">${errors[""]}</p>`;
}

/** Page is a page's frame: a title, actions and the content. */
export function Page({ title, lead, actions, children, id }) {
  return html`<section class="adm-page" id=${id}>
    <header class="adm-head">
      <div><h1>${title}</h1>${lead && html`<p class="muted">${lead}</p>`}</div>
      ${actions && html`<div class="adm-actions">${actions}</div>`}
    </header>
    ${children}
  </section>`;
}

/** Toasts confirm a save without moving focus. */
let toastSink = null;
export function toast(text, kind) {
  if (toastSink) toastSink(text, kind);
}
export function Toasts() {
  const [list, setList] = useState([]);
  useEffect(() => {
    toastSink = (text, kind) => {
      const id = Math.random();
      setList((l) => [...l, { id, text, kind }]);
      setTimeout(() => setList((l) => l.filter((t) => t.id !== id)), 3500);
    };
    return () => (toastSink = null);
  }, []);
  return html`<div class="toasts" role="status" aria-live="polite">${list.map((t) => html`<div key=${t.id} class=${"toast" + (t.kind === "error" ? " toast-error" : "")}>${t.text}</div>`)}</div>`;
}

/** The day names of the API, Monday first, and how people read them. */
export const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export const dayNames = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday" };

/** isEmail is the API's rule for a bare address, roughly. */
export const isEmail = (s) => /^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$/.test(s);
export const isColor = (s) => /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(s);
export const loginRule = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

/** inviteLink is where a one-time link's token lands. */
export function inviteLink(token) {
  return `${location.origin}/admin/#invite/${token}`;
}

/** when formats an RFC 3339 time for people. */
export function when(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/** Linkish copies a one-time link with a button. */
export function OneTimeLink({ token, expires, label }) {
  const link = inviteLink(token);
  const copy = () => navigator.clipboard && navigator.clipboard.writeText(link).then(() => toast("Link copied."));
  return html`<div class="onetime" role="status">
    <p><b>${label}</b> Send it to the person; it works once, until ${when(expires)}.</p>
    <div class="onetime-row"><input readonly value=${link} aria-label="One-time link" id="onetime-link" onFocus=${(e) => e.currentTarget.select()} />
    <button type="button" class="btn btn-sm" onClick=${copy}>Copy</button></div>
  </div>`;
}
