// Parley's widget loader (docs/widget.md): draws the launcher and opens the
// chat app in an iframe from Parley's origin only when the visitor asks.
(() => {
  const script = document.currentScript;
  const base = new URL(script ? script.src : "/widget.js", location.href).origin;
  const KEY = "parley.widget.open";
  const CHAT = "M4 6.5A2.5 2.5 0 0 1 6.5 4h11A2.5 2.5 0 0 1 20 6.5v8a2.5 2.5 0 0 1-2.5 2.5H11l-4.5 3.5V17A2.5 2.5 0 0 1 4 14.5z";
  const CLOSE = "M6 6l12 12M18 6 6 18";
  const CSS = `:host{all:initial}:host([hidden]){display:none}
.l{position:fixed;z-index:2147483000;display:flex;align-items:center;gap:8px;height:56px;padding:0 20px 0 16px;border:0;border-radius:28px;background:var(--bg);color:var(--fg);font:600 15px/1 system-ui,sans-serif;box-shadow:0 6px 24px rgb(16 24 40/.24);cursor:pointer;transition:transform .15s}
.l:hover{transform:translateY(-2px)}.l:focus-visible{outline:3px solid var(--bg);outline-offset:3px}
.l[aria-expanded=true]{width:56px;padding:0;justify-content:center}.l[aria-expanded=true]>:not(svg){display:none}
.l i{width:10px;height:10px;border-radius:50%;box-shadow:0 0 0 2px var(--bg),0 0 0 3px var(--fg)}
.l svg{width:26px;height:26px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.d{position:static;box-shadow:none}
.f{position:fixed;z-index:2147483001;width:380px;height:min(600px,calc(100vh - 112px));border:0;border-radius:20px;background:#fff;box-shadow:0 12px 48px rgb(16 24 40/.28)}
.right{right:20px}.left{left:20px}.bottom{bottom:20px}.top{top:20px}.center{top:50%;transform:translateY(-50%)}
.f.bottom{bottom:88px}.f.top{top:88px}.f.center.right{right:88px}.f.center.left{left:88px}
@media(max-width:480px){.f.f.f{inset:0;width:100%;height:100%;border-radius:0;transform:none}}`;

  function icon(d) {
    const ns = "http://www.w3.org/2000/svg";
    const s = document.createElementNS(ns, "svg");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("aria-hidden", "true");
    const p = document.createElementNS(ns, "path");
    p.setAttribute("d", d);
    s.append(p);
    return s;
  }

  class ParleyWidget extends HTMLElement {
    async connectedCallback() {
      if (this.root) return;
      this.root = this.attachShadow({ mode: "open" });
      const attrs = {};
      for (const a of this.attributes) attrs[a.name] = a.value;
      const file = attrs.configurl;
      delete attrs.configurl;
      const params = {};
      for (const [k, v] of new URLSearchParams(location.search)) if (k.startsWith("parley-")) params[k.slice(7)] = v;
      const q = new URLSearchParams({ attrs: JSON.stringify(attrs), params: JSON.stringify(params), lang: navigator.language || "" });
      try {
        if (file) q.set("file", JSON.stringify(await (await fetch(new URL(file, location.href))).json()));
        if (attrs.tenant) q.set("tenant", attrs.tenant);
        const res = await fetch(`${base}/widget/config?${q}`);
        if (!res.ok) throw new Error(`status ${res.status}`);
        this.res = await res.json();
      } catch (err) {
        console.warn("Parley widget: no configuration:", err.message);
        return;
      }
      const cfg = this.res.config;
      const hooks = window.Parley || {};
      if (hooks.customizePage) hooks.customizePage(cfg);
      if (!cfg.available) return;
      const st = this.res.status;
      this.draw(cfg);
      this.show(st);
      if (st && cfg.statePollInterval > 0) {
        const url = `${base}/api/v1/groups/${st.group_id}/status?tenant_id=${cfg.tenant > 0 ? cfg.tenant : 0}`;
        setInterval(() => fetch(url).then((r) => r.ok && r.json()).then((s) => s && this.show(s), () => {}), cfg.statePollInterval * 1000);
      }
      if (this.hasAttribute("open") || sessionStorage.getItem(KEY) === "1") this.open(this.hasAttribute("open"));
      if (this.res.triggers) import(`${base}/widget/triggers.js`).then((m) => m.default(this));
    }

    draw(cfg) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      this.root.adoptedStyleSheets = [sheet];
      this.pos = cfg.position.replace("-", " ");
      const b = (this.btn = document.createElement("button"));
      b.className = this.localName.endsWith("directchat") ? "l d" : `l ${this.pos}`; // d: in the page's flow
      b.style.setProperty("--bg", cfg.headerBackground);
      b.style.setProperty("--fg", cfg.headerText);
      b.setAttribute("aria-expanded", "false");
      const label = document.createElement("span");
      label.textContent = cfg.title || this.res.strings.launcher;
      this.dot = document.createElement("i");
      b.append(icon(CHAT), label, this.dot);
      b.onclick = () => (this.frame && !this.frame.hidden ? this.close() : this.open(true));
      this.root.append(b);
    }

    // show reflects the group's status: dot color, hidden while closed.
    show(st) {
      const cfg = this.res.config;
      this.res.status = st;
      this.dot.hidden = !st;
      if (!st) return;
      this.dot.style.background = st.open ? cfg.onlineColor : cfg.offlineColor;
      this.hidden = !st.open && !cfg.showWhenUnavailable && !(this.frame && !this.frame.hidden);
    }

    open(focus) {
      if (!this.frame) {
        const cfg = { ...this.res.config };
        const hooks = window.Parley || {};
        if (hooks.customizeRequest) hooks.customizeRequest(cfg);
        // The page is for the agents: the app sends it with the chat.
        const page = { url: location.href, title: document.title, referrer: document.referrer };
        const ctx = { cfg, strings: this.res.strings, lang: this.res.lang, status: this.res.status, origin: location.origin, page };
        const f = (this.frame = document.createElement("iframe"));
        f.className = `f ${this.pos}`;
        f.title = cfg.title || this.res.strings.title;
        // Calls need the camera and microphone, which a page must delegate to its frames.
        if (cfg.audioCalls || cfg.videoCalls) f.allow = "camera;microphone;autoplay";
        f.src = `${base}/widget/app#${encodeURIComponent(JSON.stringify(ctx))}`;
        this.dx = this.dy = 0;
        window.addEventListener("message", (ev) => this.onMessage(ev));
        const moved = () => this.loaded && this.post({ parley: "page", url: location.href, title: document.title });
        window.addEventListener("popstate", moved);
        window.addEventListener("hashchange", moved);
        f.onload = () => {
          this.loaded = true;
          if (this.wantFocus) this.focusCard();
        };
        this.root.append(f);
      }
      this.frame.hidden = false;
      this.wantFocus = focus;
      if (focus && this.loaded) this.focusCard();
      this.btn.setAttribute("aria-expanded", "true");
      this.btn.setAttribute("aria-label", this.res.strings.minimize);
      this.btn.firstChild.replaceWith(icon(CLOSE));
      sessionStorage.setItem(KEY, "1");
    }

    close() {
      this.frame.hidden = true;
      this.btn.setAttribute("aria-expanded", "false");
      this.btn.removeAttribute("aria-label");
      this.btn.firstChild.replaceWith(icon(CHAT));
      sessionStorage.setItem(KEY, "0");
      this.btn.focus();
    }

    // A framed page takes focus only when its frame has it.
    focusCard() {
      this.frame.focus();
      this.post({ parley: "focus" });
    }

    post(msg) {
      this.frame.contentWindow.postMessage(msg, base);
    }

    onMessage(ev) {
      if (ev.origin !== base || !this.frame || ev.source !== this.frame.contentWindow || !ev.data) return;
      const m = ev.data;
      if (m.parley === "close") this.close();
      else if (m.parley === "move") {
        this.dx += m.dx;
        this.dy += m.dy;
        this.frame.style.translate = `${this.dx}px ${this.dy}px`;
      }
    }

    // send posts text as the visitor; hideLocal hides it from the visitor.
    send(text, opts) {
      if (this.frame) this.post({ parley: "send", text, hideLocal: !!(opts && opts.hideLocal) });
    }
  }

  // estos LiveChat's element names are aliases (docs/widget.md).
  for (const p of ["parley", "estos"]) {
    for (const n of ["widget", "directchat"]) {
      if (!customElements.get(`${p}-${n}`)) customElements.define(`${p}-${n}`, class extends ParleyWidget {});
    }
  }
})();
