// Proactive triggers on the host page (docs/widget.md, "Proactive
// triggers"). The loader imports this module only when the tenant has
// enabled triggers. It reads the rules of the widget's group, evaluates
// them here (page address, time on site, the visitor opening the chat)
// and, when one fires, opens the chat card with the rule's greeting.
// Visitors who have chatted in this browser session get no triggers;
// a run-once rule fires once per browser.

const START = "parley.visit"; // sessionStorage: when the visit began (ms)
const CHATTED = "parley.chatted"; // sessionStorage: a chat ran in this session
const DONE = "parley.trigger."; // localStorage + id: a run-once rule fired

// Storage may be unavailable (privacy modes); triggers then run as if new.
function get(store, key) {
  try {
    return store.getItem(key);
  } catch {
    return null;
  }
}

function put(store, key, value) {
  try {
    store.setItem(key, value);
  } catch {
    // nothing to remember with
  }
}

/** matches reports whether the page address matches a rule's pattern;
 * the server allows only syntax that Go and JavaScript read alike. */
function matches(pattern, url) {
  if (!pattern) return true;
  try {
    return new RegExp(pattern).test(url);
  } catch {
    return false;
  }
}

/** Starts the triggers of widget element w (the loader's ParleyWidget). */
export default async function triggers(w) {
  const base = new URL(import.meta.url).origin;
  const cfg = w.res.config;
  const q = new URLSearchParams({ tenant_id: cfg.tenant > 0 ? cfg.tenant : 0, group_id: (w.res.status || {}).group_id || 0 });
  let rules;
  try {
    const res = await fetch(`${base}/api/v1/public/triggers?${q}`);
    if (!res.ok) throw new Error(`status ${res.status}`);
    rules = (await res.json()).triggers || [];
  } catch (err) {
    console.warn("Parley widget: no triggers:", err.message);
    return;
  }
  const start = Number(get(sessionStorage, START)) || Date.now();
  put(sessionStorage, START, String(start));
  // The chat app reports a chat; from then on the visitor is talking.
  window.addEventListener("message", (ev) => {
    if (ev.origin === base && w.frame && ev.source === w.frame.contentWindow && ev.data && ev.data.parley === "chat") {
      put(sessionStorage, CHATTED, "1");
    }
  });

  let fired = false;
  const live = rules.filter((r) => matches(r.url_pattern, location.href) && !(r.run_once && get(localStorage, DONE + r.id)));
  const fire = (r) => {
    if (fired || get(sessionStorage, CHATTED)) return;
    fired = true;
    if (r.run_once) put(localStorage, DONE + r.id, "1");
    const greet = () => w.post({ parley: "trigger", id: r.id, sender: r.sender_name || "", text: r.message });
    if (!w.frame || w.frame.hidden) w.open(false);
    if (w.loaded) greet();
    else w.frame.addEventListener("load", greet, { once: true });
  };
  const elapsed = () => (Date.now() - start) / 1000;

  for (const r of live.filter((r) => !r.chat_opened)) {
    setTimeout(() => fire(r), Math.max(0, (r.time_on_site || 0) - elapsed()) * 1000);
  }
  const onOpen = live.filter((r) => r.chat_opened);
  if (!onOpen.length) return;
  // The visitor opening the card (open with focus) fires the first
  // on-open rule whose time on site has passed; so does a card already
  // open when this module arrives (opened meanwhile, or kept open from
  // the previous page).
  const opened = () => {
    const r = onOpen.find((x) => elapsed() >= (x.time_on_site || 0));
    if (r) fire(r);
  };
  const open = w.open;
  w.open = function (focus) {
    open.call(this, focus);
    if (focus) opened();
  };
  if (w.frame && !w.frame.hidden) opened();
}
