// Evaluated in a page by browsertest.Contrast: measures the contrast of
// every visible text against WCAG AA. Colours are resolved by a canvas,
// so any CSS colour syntax (color-mix, oklch, color()) is understood.
(() => {
  for (const a of document.getAnimations()) {
    if (a.playState === "running" && a.effect?.getComputedTiming().iterations !== Infinity) a.finish();
  }
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const g = canvas.getContext("2d", { willReadFrequently: true });
  const cache = new Map();

  // rgba returns [r, g, b, a] with r, g, b in 0..255 and a in 0..1.
  function rgba(css) {
    if (cache.has(css)) return cache.get(css);
    g.clearRect(0, 0, 1, 1);
    g.fillStyle = "rgba(0,0,0,0)";
    g.fillStyle = css;
    g.fillRect(0, 0, 1, 1);
    const d = g.getImageData(0, 0, 1, 1).data;
    const c = [d[0], d[1], d[2], d[3] / 255];
    cache.set(css, c);
    return c;
  }

  // over composites colour top (with alpha) over an opaque base.
  const over = (top, base) => [0, 1, 2].map((i) => top[i] * top[3] + base[i] * (1 - top[3])).concat(1);

  function luminance(c) {
    const [r, gr, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * gr + 0.0722 * b;
  }

  function ratio(a, b) {
    const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (l1 + 0.05) / (l2 + 0.05);
  }

  const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const parent = (el) => el.parentElement || (el.getRootNode() instanceof ShadowRoot ? el.getRootNode().host : null);

  // background is the opaque colour behind el: every background up the
  // tree, composited from the root down over white, with each element's
  // opacity fading what it paints.
  function background(el) {
    const chain = [];
    for (let n = el; n; n = parent(n)) chain.push(n);
    let bg = [255, 255, 255, 1];
    for (const n of chain.reverse()) {
      const s = getComputedStyle(n);
      const c = rgba(s.backgroundColor);
      c[3] *= Number(s.opacity);
      bg = over(c, bg);
    }
    return bg;
  }

  // opacity is the product of el's and its ancestors' opacity.
  function opacity(el) {
    let o = 1;
    for (let n = el; n; n = parent(n)) o *= Number(getComputedStyle(n).opacity);
    return o;
  }

  function selector(el) {
    const parts = [];
    for (let n = el; n && parts.length < 4; n = parent(n)) {
      let s = n.localName;
      if (n.id) s += "#" + n.id;
      else if (n.classList && n.classList.length) s += "." + [...n.classList].slice(0, 2).join(".");
      parts.unshift(s);
      if (n.id) break;
    }
    return parts.join(" > ");
  }

  function visible(el) {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true })) return false;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false; // visually hidden (sr-only)
    const s = getComputedStyle(el);
    return !(s.clip === "rect(0px, 0px, 0px, 0px)" || s.clipPath === "inset(50%)");
  }

  function large(s) {
    const px = parseFloat(s.fontSize);
    return px >= 24 || (px >= 18.66 && Number(s.fontWeight) >= 700);
  }

  const problems = [];
  let checked = 0;

  function measure(el, colour, text, s) {
    if (el.closest(":disabled, [aria-disabled=true]")) return;
    checked++;
    const bg = background(el);
    const fg = rgba(colour);
    fg[3] *= opacity(el);
    const eff = over(fg, bg);
    const r = ratio(eff, bg);
    const need = large(s) ? 3 : 4.5;
    if (r + 0.005 < need) {
      problems.push({ selector: selector(el), text: text.trim().slice(0, 40), fg: hex(eff), bg: hex(bg), ratio: Math.round(r * 100) / 100, need });
    }
  }

  function walk(root) {
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "OPTION"].includes(el.tagName)) continue;
      const field = el.matches("input:not([type=hidden],[type=checkbox],[type=radio],[type=file],[type=range],[type=color]), textarea, select");
      const own = field ? "" : [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join("").trim();
      if (!field && !own) continue;
      if (!visible(el)) continue;
      const s = getComputedStyle(el);
      if (field) {
        if (el.value) measure(el, s.color, el.value, s);
        else if (el.placeholder) measure(el, getComputedStyle(el, "::placeholder").color, el.placeholder, s);
        continue;
      }
      measure(el, s.color, own, s);
    }
  }

  walk(document);
  return { checked, problems };
})()
