// The contact portal (/contact?groups=1,2) and the business card
// (/card/<agent id>): agents with live presence and "Chat", "Audio" and
// "Video" buttons that open the widget straight to that agent; "Audio"
// and "Video" also ask for the call, which the widget rings as soon as
// the chat is accepted (when the widget configuration allows calls).

import { h, byId, icon } from "../dom.js";
import { initials, avatarColor } from "../people.js";

const q = new URLSearchParams(location.search);
const tenant = q.get("tenant") || "";
const card = location.pathname.match(/^\/card\/(\d+)$/);
const POLL_MS = 10000; // presence refresh

let strings = {};
let media = []; // the calls the widget configuration allows: "audio", "video"

const ICONS = {
  chat: "M4 5h16v11H8l-4 4z",
  audio: "M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2",
  video: "M3 7h12v10H3zM15 10l6-3v10l-6-3",
};

function t(key, ...args) {
  return (strings[key] || key).replace(/\{(\d+)\}/g, (m, i) => (args[i] !== undefined ? String(args[i]) : m));
}

async function getJSON(url) {
  const res = await fetch(url);
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error && data.error.message) || `status ${res.status}`);
  return data;
}

function openChat(agent, call) {
  const slot = byId("chat-slot");
  const w = document.createElement("parley-widget");
  w.setAttribute("group", String(agent.groups[0].id));
  w.setAttribute("agent", String(agent.id));
  w.setAttribute("title", t(call ? `${call}With` : "chatWith", agent.name));
  if (tenant) w.setAttribute("tenant", tenant);
  if (q.get("lang")) w.setAttribute("lang", q.get("lang"));
  if (call) w.setAttribute("call", call);
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
        h(
          "div",
          { class: "contact-actions" },
          h("button", { type: "button", class: "btn btn-primary contact-chat", disabled: !a.available, onclick: () => openChat(a), "aria-label": t("chatWith", a.name) }, icon(ICONS.chat), t("chat")),
          ...media.map((m) =>
            h(
              "button",
              { type: "button", class: `btn contact-${m}`, disabled: !a.available, onclick: () => openChat(a, m), "aria-label": t(`${m}With`, a.name) },
              icon(ICONS[m]),
              t(m === "audio" ? "portalAudio" : "portalVideo"),
            ),
          ),
        ),
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
    media = ["audio", "video"].filter((m) => res.config && res.config[`${m}Calls`]);
    document.documentElement.lang = res.lang;
  } catch {
    // English keys stand in
  }
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  await refresh();
  setInterval(refresh, POLL_MS);
}

start();
