// Small DOM and formatting helpers shared by the screens. Text always goes in as text (never as HTML).

/** h('div.card#id', {attrs, on: {click}}, ...children): an element; strings become text nodes. */
export function h(tag, attrs, ...children) {
  const [, name, rest] = tag.match(/^([a-z0-9]+)(.*)$/i);
  const el = document.createElement(name);
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
/** An SVG element with attributes. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const bannerTimers = {};
/** Shows (text) or clears (null) the page-wide banner of one kind: offline, wait, error, info. */
export function banner(kind, text, clearAfterMs) {
  const box = document.getElementById('banners');
  if (!box) return;
  let el = box.querySelector('[data-kind="' + kind + '"]');
  clearTimeout(bannerTimers[kind]);
  if (!text) { if (el) el.remove(); return; }
  if (!el) {
    el = h('div.banner.' + kind, { 'data-kind': kind, role: kind === 'info' ? 'status' : 'alert' });
    box.appendChild(el);
  }
  el.textContent = text;
  if (clearAfterMs) bannerTimers[kind] = setTimeout(() => el.remove(), clearAfterMs);
}

export const FINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
export const STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
export const JOB_TYPES = ['merge', 'prune', 'fuse', 'evaluate'];
export const KINDS = ['MODEL', 'DATASET', 'REPORT', 'CHECKPOINT'];

export function statusBadge(status) {
  return h('span.status.st-' + status, status);
}

export function progressBar(fraction, label) {
  const pct = Math.round((fraction || 0) * 100);
  return h('div.bar', { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct),
    'aria-label': label || 'progress' }, h('div', { style: { width: pct + '%' } }));
}

/** What a job is called: the server's name (what it makes), else what it reads. */
export function jobName(j) {
  if (j.name) return j.name;
  const spec = j.spec || {};
  if (j.type === 'evaluate') return 'evaluate ' + (spec.model || '');
  return j.type + ' ' + j.id.slice(0, 8);
}

export function size(n) {
  if (n === null || n === undefined) return '';
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(n < 10 ? 2 : 1) : n) + ' ' + u[i];
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A job's duration: from start to finish, or to now while it runs. */
export function duration(job) {
  if (!job.startedAt) return '';
  const end = job.finishedAt ? new Date(job.finishedAt) : new Date();
  let sec = Math.max(0, Math.round((end - new Date(job.startedAt)) / 1000));
  const hh = Math.floor(sec / 3600); sec -= hh * 3600;
  const mm = Math.floor(sec / 60); sec -= mm * 60;
  return (hh ? hh + 'h ' : '') + (hh || mm ? mm + 'm ' : '') + sec + 's';
}

export function num(v) {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toPrecision(5).replace(/\.?0+$/, '');
}

/** A key/value table of a JSON object; nested values become nested tables or wrapped JSON. */
export function kvTable(obj, linkFor) {
  if (obj === null || obj === undefined) return h('p.muted', 'none');
  const rows = Object.entries(obj).map(([k, v]) => h('tr', h('th', { scope: 'row' }, k), h('td', value(v, k, linkFor))));
  return h('div.table-wrap', h('table.kv', h('tbody', rows)));
}

function value(v, k, linkFor) {
  if (linkFor) {
    const link = linkFor(k, v);
    if (link) return link;
  }
  if (v === null) return h('span.muted', 'null');
  if (typeof v === 'number') return h('span.mono', num(v));
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v) && v.every(x => typeof x !== 'object' || x === null)) {
    return v.map((x, i) => [i ? ', ' : '', (linkFor && linkFor(k, x)) || (typeof x === 'number' ? num(x) : String(x))]);
  }
  if (!Array.isArray(v) && Object.keys(v).length <= 40) return kvTable(v, linkFor);
  const flat = x => x && typeof x === 'object' && !Array.isArray(x) && Object.values(x).every(y => y === null || typeof y !== 'object');
  if (v.length && v.length <= 200 && v.every(flat)) {
    // a list of records (evaluation tasks, ...): one row each
    const cols = [...new Set(v.flatMap(Object.keys))];
    return h('div.table-wrap', h('table', h('thead', h('tr', cols.map(c => h('th', c)))),
      h('tbody', v.map(r => h('tr', cols.map(c => h('td', r[c] === undefined ? '' : value(r[c], c, linkFor))))))));
  }
  return h('pre.wrap', JSON.stringify(v, null, 2));
}

/** A short id for display. */
export const shortId = id => String(id).slice(0, 8);

export function errorAlert(e) {
  return h('div.alert', { role: 'alert' }, e && e.errors ? e.errors.join('\n') : String(e && e.message || e));
}

/** Downloads a file that needs the API key (a plain link cannot send the header). */
export async function download(url, filename, key) {
  const r = await fetch(url, { headers: { Authorization: 'Bearer ' + key } });
  if (!r.ok) throw new Error('download failed: HTTP ' + r.status);
  const blob = await r.blob();
  const a = h('a', { href: URL.createObjectURL(blob), download: filename });
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
