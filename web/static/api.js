// The client side of Parley's native API v1: JSON requests, uploads with
// progress, and the WebSocket session with resume and reconnection.

/** An error answer of the API, or a transport failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headersFor(token, json) {
  const hs = {};
  if (token) hs.Authorization = `Bearer ${token}`;
  if (json) hs["Content-Type"] = "application/json";
  return hs;
}

function errorFrom(status, data) {
  const e = data && data.error;
  if (e && e.message) return new ApiError(status, e.code || "error", e.message);
  return new ApiError(status, "http", `The server answered with status ${status}.`);
}

const unreachable = () => new ApiError(0, "network", "The server cannot be reached. Check your connection.");

/**
 * Calls the API and returns the decoded JSON body (null for 204).
 * Errors throw ApiError with the server's code and message.
 */
export async function api(method, path, { token, body, signal } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: headersFor(token, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw unreachable();
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON: handled below
  }
  if (!res.ok) throw errorFrom(res.status, data);
  return data;
}

/**
 * Uploads a file as the raw request body with progress reports.
 * Returns { done: Promise<JSON>, abort() }.
 */
export function upload(path, file, token, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", path);
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        // handled below
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(errorFrom(xhr.status, data));
    };
    xhr.onerror = () => reject(unreachable());
    xhr.onabort = () => reject(new ApiError(0, "aborted", "The upload was cancelled."));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

/** Downloads a protected file and returns a Blob of a safe type. */
export async function download(path, token, type) {
  let res;
  try {
    res = await fetch(path, { headers: headersFor(token, false), credentials: "same-origin" });
  } catch {
    throw unreachable();
  }
  if (!res.ok) {
    let data = null;
    try {
      data = await res.json();
    } catch {
      // handled by errorFrom
    }
    throw errorFrom(res.status, data);
  }
  const buf = await res.arrayBuffer();
  return new Blob([buf], { type });
}

/** The WebSocket address of the API on this host. */
export function socketURL() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws`;
}

/**
 * A WebSocket session that says hello, resumes and reconnects with
 * backoff (0.5 s doubling to 10 s, with jitter).
 *
 * options:
 *   token       credential for the hello
 *   chats()     returns {chatId: last seq seen} for the hello
 *   onFrame(f)  every server frame
 *   onStatus(s) "connecting", "online", "offline" (retrying), "denied"
 *               (credentials refused), "stopped"
 *   onFallback  called instead of retrying after `failures` (3) failed
 *               connections in a row while the browser believes it is online
 */
export class Live {
  constructor(options) {
    this.opt = options;
    this.ws = null;
    this.ready = false;
    this.stopped = true;
    this.failures = 0;
    this.attempt = 0;
    this.timer = 0;
    this.pinger = 0;
    this.refs = 0;
    this.waiting = new Map(); // ref → {resolve, reject}
    this.retryNow = () => {
      if (!this.stopped && !this.ws) this.connect();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.retryNow);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.retryNow);
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.drop();
    this.status("stopped");
  }

  get online() {
    return this.ready && this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  status(s) {
    if (this.opt.onStatus) this.opt.onStatus(s);
  }

  connect() {
    clearTimeout(this.timer);
    this.status("connecting");
    let ws;
    try {
      ws = new WebSocket(socketURL());
    } catch {
      this.retry(false);
      return;
    }
    this.ws = ws;
    this.ready = false;
    ws.onopen = () => {
      const hello = { type: "hello", chats: this.opt.chats ? this.opt.chats() : {} };
      if (this.opt.token) hello.token = this.opt.token;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (m) => {
      let f;
      try {
        f = JSON.parse(m.data);
      } catch {
        return;
      }
      if (f.type === "ready") {
        this.ready = true;
        this.failures = 0;
        this.attempt = 0;
        this.keepAlive();
        this.status("online");
      } else if ((f.type === "ack" || f.type === "error" || f.type === "pong") && f.ref && this.waiting.has(f.ref)) {
        const w = this.waiting.get(f.ref);
        this.waiting.delete(f.ref);
        if (f.type === "error") w.reject(new ApiError(0, f.error.code, f.error.message));
        else w.resolve(f);
        return;
      }
      this.opt.onFrame(f);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      const wasReady = this.ready;
      this.ws = null;
      this.drop();
      if (this.stopped) return;
      if (ev.code === 4001 || ev.code === 4002) {
        this.stopped = true;
        this.status("denied");
        return;
      }
      this.retry(wasReady);
    };
  }

  // drop fails the requests waiting for an answer on the closed socket.
  drop() {
    this.ready = false;
    clearInterval(this.pinger);
    for (const w of this.waiting.values()) w.reject(new ApiError(0, "disconnected", "The connection was lost."));
    this.waiting.clear();
  }

  retry(wasReady) {
    if (!wasReady && navigator.onLine !== false) this.failures++;
    if (this.failures >= (this.opt.failures || 3) && this.opt.onFallback) {
      this.stopped = true;
      window.removeEventListener("online", this.retryNow);
      this.opt.onFallback();
      return;
    }
    const base = Math.min(10000, 500 * 2 ** this.attempt++);
    this.status("offline");
    this.timer = setTimeout(() => this.connect(), base / 2 + (Math.random() * base) / 2);
  }

  // keepAlive pings the server so a silently dead connection is noticed.
  keepAlive() {
    clearInterval(this.pinger);
    this.pinger = setInterval(() => {
      const ws = this.ws;
      const t = setTimeout(() => ws && ws.close(4000, "no pong"), 10000);
      this.request({ type: "ping" }).then(() => clearTimeout(t), () => clearTimeout(t));
    }, 30000);
  }

  /** Sends a frame without waiting for an answer; false when offline. */
  send(frame) {
    if (!this.online) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a frame with a ref and resolves with its ack (rejects with its error). */
  request(frame) {
    if (!this.online) return Promise.reject(new ApiError(0, "disconnected", "Not connected."));
    const ref = `r${++this.refs}`;
    return new Promise((resolve, reject) => {
      this.waiting.set(ref, { resolve, reject });
      this.ws.send(JSON.stringify({ ...frame, ref }));
    });
  }
}
