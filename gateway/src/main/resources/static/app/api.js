// The one way the dashboard talks to the gateway: the API key header, problem+json errors, and the
// connection states every screen shares (offline and retrying, 401 back to sign-in, 429 with its wait).
import { banner } from './ui.js';

const KEY = 'amalgam.apiKey';
const ME = 'amalgam.me';

/** The signed-in API key, kept per browser (localStorage), and who it belongs to. */
export const session = {
  get key() { return localStorage.getItem(KEY) || ''; },
  get me() { try { return JSON.parse(localStorage.getItem(ME) || 'null'); } catch { return null; } },
  signIn(key, me) { localStorage.setItem(KEY, key); localStorage.setItem(ME, JSON.stringify(me)); },
  signOut() { localStorage.removeItem(KEY); localStorage.removeItem(ME); },
};

/** An answer that is not 2xx: the status, the problem+json body (detail, errors) and Retry-After in seconds. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = retryAfter;
  }
  /** The individual problems ("field: message") of a 422, else the message. */
  get errors() { return this.problem.errors && this.problem.errors.length ? this.problem.errors : [this.message]; }
}

/** The server could not be reached at all. */
export class OfflineError extends Error {}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  if (signal) signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason || new DOMException('aborted', 'AbortError')); }, { once: true });
});

function retryAfterSeconds(r) {
  const v = r.headers.get('Retry-After');
  if (!v) return null;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, n);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, Math.round((at - Date.now()) / 1000)) : null;
}

let offlineSince = null;

function online() {
  if (offlineSince !== null) {
    offlineSince = null;
    banner('offline', null);
  }
}

/** 401: the key is unknown or revoked, so the user signs in again (coming back where they were). */
function unauthorized() {
  session.signOut();
  const back = location.hash.startsWith('#/signin') ? '' : encodeURIComponent(location.hash);
  location.hash = '#/signin?expired=1' + (back ? '&back=' + back : '');
}

/**
 * Sends one request with the key. Reads (GET) ride out an unreachable server, a 503 and a 429: they wait
 * (showing a banner with the countdown) and try again until they succeed or the screen goes away (signal).
 * Writes are never repeated on their own: they throw, and the form shows why.
 *
 * @param opts {method, body (object: sent as JSON; FormData/Blob: as is), headers, signal, raw (return the Response)}
 */
export async function api(path, opts = {}) {
  const method = opts.method || 'GET';
  const retry = method === 'GET';
  for (let attempt = 0; ; attempt++) {
    const headers = Object.assign({ Authorization: 'Bearer ' + session.key, Accept: 'application/json' }, opts.headers || {});
    let body = opts.body;
    if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob)) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(path, { method, headers, body, signal: opts.signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      if (offlineSince === null) offlineSince = Date.now();
      if (!retry) {
        banner('offline', 'The server is unreachable. Nothing was sent; try again when it is back.');
        throw new OfflineError('The server is unreachable');
      }
      const wait = Math.min(10, 1 + attempt);
      await countdown('offline', s => 'The server is unreachable (since ' + new Date(offlineSince).toLocaleTimeString()
        + '). Retrying in ' + s + ' s; what you see may be out of date.', wait, opts.signal);
      continue;
    }
    online();
    if (r.status === 401 && !opts.noAuthRedirect) {
      unauthorized();
      throw new ApiError(401, await problem(r), null);
    }
    if ((r.status === 429 || r.status === 503) && retry) {
      const wait = retryAfterSeconds(r) ?? 5;
      const why = r.status === 429 ? 'Too many requests for this API key.' : 'The server is busy or its registry is unreachable.';
      await countdown('wait', s => why + ' Retrying in ' + s + ' s.', Math.max(1, wait), opts.signal);
      continue;
    }
    if (!r.ok) {
      const err = new ApiError(r.status, await problem(r), retryAfterSeconds(r));
      if (r.status === 429) {
        banner('wait', 'Too many requests for this API key: retry in ' + (err.retryAfter ?? 5) + ' s.', (err.retryAfter ?? 5) * 1000);
      }
      throw err;
    }
    banner('wait', null);
    if (opts.raw) return r;
    if (r.status === 204) return null;
    const text = await r.text();
    return text ? JSON.parse(text) : null;
  }
}

async function problem(r) {
  try {
    const text = await r.text();
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

async function countdown(kind, text, seconds, signal) {
  for (let s = Math.ceil(seconds); s > 0; s--) {
    banner(kind, text(s));
    await sleep(1000, signal);
  }
}

/** Pages through a list endpoint; returns {items, page, size, total}. */
export function page(path, params, signal) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  return api(path + '?' + q, { signal });
}

/** Every event of a job so far, in order (the JSON endpoint pages by sequence number). */
export async function eventHistory(jobId, signal) {
  const all = [];
  for (let after = 0; ;) {
    const batch = await api('/api/v1/jobs/' + jobId + '/events?limit=5000&after=' + after, { signal });
    all.push(...batch);
    if (batch.length < 5000) return all;
    after = batch[batch.length - 1].seq;
  }
}

/**
 * Follows a job's events over server-sent events after sequence number {@code after}, calling onEvent for each
 * until the job ends (the server closes the stream) or the signal aborts. EventSource cannot send the
 * Authorization header, so this reads the stream with fetch; a dropped connection resumes with Last-Event-ID.
 */
export async function followEvents(jobId, after, onEvent, signal, isFinal) {
  let last = after;
  for (let attempt = 0; !signal.aborted; attempt++) {
    let r;
    try {
      r = await fetch('/api/v1/jobs/' + jobId + '/events', {
        headers: { Authorization: 'Bearer ' + session.key, Accept: 'text/event-stream', 'Last-Event-ID': String(last) }, signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (offlineSince === null) offlineSince = Date.now();
      await countdown('offline', s => 'The server is unreachable; the live log resumes when it is back (retrying in ' + s + ' s).',
        Math.min(10, 1 + attempt), signal).catch(() => {});
      continue;
    }
    online();
    if (r.status === 401) { unauthorized(); return; }
    if (!r.ok) {
      const wait = retryAfterSeconds(r) ?? 3;
      if (r.status === 429) banner('wait', 'Too many open event streams for this API key; retrying in ' + wait + ' s.', wait * 1000);
      await sleep(wait * 1000, signal).catch(() => {});
      continue;
    }
    attempt = 0;
    try {
      await readSse(r.body, ev => {
        if (ev.id) last = Number(ev.id);
        if (ev.data) onEvent(JSON.parse(ev.data));
      });
    } catch (e) {
      if (e.name === 'AbortError') return;
    }
    // the server closes the stream when the job is final; otherwise the connection dropped: resume
    if (signal.aborted || (isFinal && await isFinal())) return;
    await sleep(1000, signal).catch(() => {});
  }
}

/** Reads a text/event-stream body, calling onMessage with {id, event, data} per message. */
async function readSse(stream, onMessage) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let msg = { data: '' };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let nl;
    while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (msg.data || msg.id) onMessage(msg);
        msg = { data: '' };
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'data') msg.data += (msg.data ? '\n' : '') + val;
        else if (field === 'id') msg.id = val;
        else if (field === 'event') msg.event = val;
      }
    }
  }
}
