// The Mitel MiCC stock chat client's page interface on top of Parley's
// loader (docs/widget.md, "Drop-in for Mitel and estos pages"). Served
// after the loader at /CustomerChat/Chat/Toolbox: pages keep their
// Mitel.ChatToolbox.Config settings and customizePage/customizeRequest
// hooks. Properties the page leaves at Mitel's defaults take Parley's
// server configuration, as unchanged ones took Mitel's Config.js.
(() => {
  // Mitel property: [widget key, kind (b bool, n number, s string, l list), Mitel's default].
  const PROPS = {
    ToolboxAvailable: ["available", "b", true],
    ShowWhenUnavailable: ["showWhenUnavailable", "b", true],
    StatePollInterval: ["statePollInterval", "n", 20],
    ShowEstimatedWaitTime: ["showEstimatedWaitTime", "b", true],
    SessionID: ["sessionId", "s", ""],
    CustomerName: ["customerName", "s", "Customer"],
    CustomerID: ["customerId", "s", ""],
    CustomerEmail: ["customerEmail", "s", ""],
    CustomerPhone: ["customerPhone", "s", ""],
    InitialMessage: ["initialMessage", "s", ""],
    TenantID: ["tenant", "n", -1],
    ServiceGroupID: ["group", "s", 0],
    ServiceGroupName: ["group", "s", ""],
    PrivateData: ["privateData", "s", ""],
    HideAgentName: ["hideAgentName", "b", false],
    ShowPostChat: ["showPostChat", "b", true],
    TimeoutAfterConversation: ["timeoutAfterConversation", "n", 0],
    ToolboxPosition: ["position", "s", "center-right"],
    IdleTimeout: ["idleTimeout", "n", 300],
    WarningBeforeIdleTimeout: ["idleWarning", "n", 60],
    AllowMovingChatCard: ["movable", "b", true],
    InitialMessageToAgent: ["initialMessageToAgent", "s", ""],
    PostedMessageAllowedOrigin: [null, "s", "window.location.origin"],
    MaxMessageLength: ["maxMessageLength", "n", 0],
    MaxAttachmentSize: ["maxAttachmentKB", "n", -1],
    AllowedAttachmentTypes: ["allowedAttachmentTypes", "l", []],
    RestrictedAttachmentTypes: ["restrictedAttachmentTypes", "l", []],
  };
  // Mitel: these "must not be modified in the customizeRequest function".
  const PAGE_ONLY = ["ToolboxAvailable", "ShowWhenUnavailable", "StatePollInterval", "MaxMessageLength"];

  const M = (window.Mitel = window.Mitel || {});
  const tb = (M.ChatToolbox = M.ChatToolbox || {});
  tb.Config = tb.Config || {};
  const defaults = {};
  for (const [p, [, , d]] of Object.entries(PROPS)) {
    defaults[p] = JSON.stringify(d);
    if (!(p in tb.Config)) tb.Config[p] = Array.isArray(d) ? [] : d;
  }
  tb.customizePage = tb.customizePage || (() => {});
  tb.customizeRequest = tb.customizeRequest || (() => {});

  const list = (v) => (Array.isArray(v) ? v.map(String) : typeof v === "string" && v.trim().startsWith("[") ? JSON.parse(v) : String(v).split(","));
  const typed = (kind, v) => (kind === "b" ? v === true || v === "true" : kind === "n" ? Number(v) : kind === "l" ? list(v) : String(v));
  const text = (kind, v) => (kind === "l" ? JSON.stringify(list(v)) : String(v));

  // changes yields [widget key, kind, value] for the properties whose value
  // differs from before (a snapshot of JSON strings). A service group ID
  // wins over a name, as in Mitel's RequestChat. The page may have replaced
  // the Config object, so it is read anew.
  function* changes(before, skip) {
    const C = tb.Config;
    for (const [p, [key, kind]] of Object.entries(PROPS)) {
      if (!key || skip.includes(p) || C[p] == null || JSON.stringify(C[p]) === before[p]) continue;
      if (p === "ServiceGroupName" && C.ServiceGroupID && String(C.ServiceGroupID) !== "0") continue;
      yield [key, kind, C[p]];
    }
  }
  const snapshot = () => Object.fromEntries(Object.keys(PROPS).map((p) => [p, JSON.stringify(tb.Config[p])]));
  const allowedOrigin = () => {
    const o = tb.Config.PostedMessageAllowedOrigin || tb.Config.PostedMessagesAllowedOrigin;
    return !o || o === "window.location.origin" ? location.origin : o;
  };

  let widget = null;
  function init() {
    tb.customizePage();
    widget = document.createElement("parley-widget");
    for (const [key, kind, v] of changes(defaults, [])) {
      try {
        widget.setAttribute(key, text(kind, v));
      } catch (err) {
        console.warn(`Mitel.ChatToolbox.Config: ${key}: ${err.message}`);
      }
    }
    // customizeRequest runs when the visitor opens the chat card, before
    // the chat request; its changes apply to this chat.
    const P = (window.Parley = window.Parley || {});
    const own = P.customizeRequest;
    P.customizeRequest = (cfg) => {
      if (own) own(cfg);
      const before = snapshot();
      tb.customizeRequest();
      for (const [key, kind, v] of changes(before, PAGE_ONLY)) {
        try {
          const x = typed(kind, v);
          if (kind !== "n" || Number.isFinite(x)) cfg[key] = x;
        } catch {
          // a malformed list is ignored, as the server ignores one
        }
      }
    };
    document.body.append(widget);
  }

  // Mitel's posted messages: window.postMessage({apiType: "ChatToolbox",
  // methodName: "SendMessage", arguments: {message, hideLocal}}), from the
  // allowed origin only.
  window.addEventListener("message", (ev) => {
    const d = ev.data;
    if (!widget || !d || d.apiType !== "ChatToolbox" || d.methodName !== "SendMessage" || !d.arguments) return;
    const o = allowedOrigin();
    if (o !== "*" && ev.origin !== o) return;
    if (typeof d.arguments.message === "string") widget.send(d.arguments.message, { hideLocal: !!d.arguments.hideLocal });
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else setTimeout(init);
})();
