// The contact portal (/contact?groups=1,2) and the business card
// (/card/<agent id>): agents with live presence and a chat button that
// opens the widget straight to that agent.

import { h, byId } from "../dom.js";
import { initials, avatarColor } from "../people.js";

const q = new URLSearchParams(location.search);
const tenant = q.get("tenant") || "";
const card = location.pathname.match(/^\/card\/(\d+)$/);
const POLL_MS = 10000; // presence refresh

let strings = {};

function t(key, ...args) {
  return (strings[key] || key).replace(/\{(\d+)\}/g, (m, i) => (args[i] !== undefined ? String(args[i]) : m));
}

async function getJSON(url) {
  const res = await fetch(url);
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error && data.error.message) || `status ${res.status}`);
  return data;
}

function openChat(agent) {
  const slot = byId("chat-slot");
  const w = document.createElement("parley-widget");
  w.setAttribute("group", String(agent.groups[0].id));
  w.setAttribute("agent", String(agent.id));
  w.setAttribute("title", t("chatWith", agent.name));
  if (tenant) w.setAttribute("tenant", tenant);
  if (q.get("lang")) w.setAttribute("lang", q.get("lang"));
  w.setAttribute("open", "");
  slot.replaceChildren(w);
}

function render(agents) {
  const list = byId("agents");
  if (!agents.length) {
    list.replaceChildren(h("li", { class: "muted", text: t("noAgents") }));
    return;
  }
  list.replaceChildren(
    ...agents.map((a) =>
      h(
        "li",
        { class: a.available ? "agent on" : "agent", "data-agent": a.id },
        h("span", { class: "face", "aria-hidden": "true" }, a.photo_url ? h("img", { src: a.photo_url, alt: "" }) : initials(a.name)),
        h("h2", {}, card ? a.name : h("a", { href: `/card/${a.id}${location.search}`, text: a.name })),
        h("p", { class: "groups", text: a.groups.map((g) => g.name).join(" · ") }),
        h("p", { class: "presence", text: a.available ? t("agentAvailable") : t("agentAway") }),
        h("button", { type: "button", class: "btn btn-primary", disabled: !a.available, onclick: () => openChat(a), text: t("chat"), "aria-label": t("chatWith", a.name) }),
      ),
    ),
  );
  for (const el of list.querySelectorAll(".face")) el.style.background = avatarColor(el.parentElement.dataset.agent);
}

async function refresh() {
  const tq = tenant ? `tenant_id=${encodeURIComponent(tenant)}` : "";
  try {
    let agents;
    if (card) {
      agents = [await getJSON(`/api/v1/public/agents/${card[1]}?${tq}`)];
    } else {
      const groups = q.get("groups") ? `group_id=${encodeURIComponent(q.get("groups"))}&` : "";
      agents = (await getJSON(`/api/v1/public/agents?${groups}${tq}`)).agents;
    }
    byId("portal-error").hidden = true;
    render(agents);
    if (card) document.title = agents[0].name;
  } catch (err) {
    byId("portal-error").textContent = err.message;
    byId("portal-error").hidden = false;
  }
}

async function start() {
  if (card) document.body.classList.add("card-page");
  try {
    const params = JSON.stringify(q.get("lang") ? { lang: q.get("lang") } : {});
    const res = await getJSON(`/widget/config?params=${encodeURIComponent(params)}&lang=${encodeURIComponent(navigator.language || "")}`);
    strings = res.strings;
    document.documentElement.lang = res.lang;
  } catch {
    // English keys stand in
  }
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  await refresh();
  setInterval(refresh, POLL_MS);
}

start();
