// A job form from a declarative field list: labels, client-side hints and checks, and the server's 422
// problems ("field: message") shown next to the field they name. Each job type's module under forms/ declares
// its fields, how values become the spec, and how a spec (clone, retry) fills the fields back in.
import { api, ApiError } from '../api.js';
import { h, fill } from '../ui.js';

/**
 * field kinds: text, number (integer: true; min, max), select (options), textarea, json (an object or array),
 * checks (options; the value is the list of checked ones), artifact (a name picker over the kinds in `artifact`).
 */
function control(f, id, artifactNames) {
  const common = { id, name: f.name, 'aria-describedby': id + '-hint ' + id + '-problem' };
  if (f.kind === 'select') {
    return h('select', common, (f.optional ? [h('option', { value: '' }, f.optional)] : []).concat(
      f.options.map(o => h('option', { value: o }, o))));
  }
  if (f.kind === 'textarea' || f.kind === 'json') {
    return h('textarea', Object.assign({ rows: f.rows || 8, spellcheck: 'false', placeholder: f.placeholder }, common));
  }
  if (f.kind === 'checks') {
    return h('div.checks', { id, role: 'group', 'aria-describedby': id + '-hint ' + id + '-problem' },
      f.options.map(o => h('label', h('input', { type: 'checkbox', name: f.name, value: o }), o)));
  }
  const attrs = Object.assign({ type: f.kind === 'number' ? 'number' : 'text', autocomplete: 'off', placeholder: f.placeholder }, common);
  if (f.kind === 'number') {
    attrs.step = f.integer ? '1' : 'any';
    if (f.min !== undefined) attrs.min = String(f.min);
    if (f.max !== undefined) attrs.max = String(f.max);
    attrs.inputmode = f.integer ? 'numeric' : 'decimal';
  }
  if (f.kind === 'artifact') attrs.list = 'names-' + f.artifact.join('-');
  const input = h('input', attrs);
  if (f.kind === 'artifact' && !document.getElementById(attrs.list)) {
    artifactNames(f.artifact).then(names => document.body.appendChild(
      h('datalist', { id: attrs.list }, names.map(n => h('option', { value: n })))));
  }
  return input;
}

function read(f, el) {
  if (f.kind === 'checks') return [...el.querySelectorAll('input:checked')].map(c => c.value);
  const v = el.value.trim();
  if (v === '') return undefined;
  if (f.kind === 'number') return Number(v);
  if (f.kind === 'json') return JSON.parse(v);
  return f.kind === 'textarea' ? el.value : v;
}

function write(f, el, v) {
  if (v === undefined || v === null) return;
  if (f.kind === 'checks') { el.querySelectorAll('input').forEach(c => { c.checked = v.includes(c.value); }); return; }
  if (f.kind === 'json') { el.value = JSON.stringify(v, null, 2); return; }
  el.value = String(v);
}

/** What is wrong with a value before it is sent, or null. */
function check(f, el) {
  const raw = f.kind === 'checks' ? null : el.value.trim();
  if (f.required && (f.kind === 'checks' ? read(f, el).length === 0 : raw === '')) return f.kind === 'checks' ? 'choose at least one' : 'required';
  if (raw === '' || raw === null) return null;
  if (f.kind === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) return 'must be a number';
    if (f.integer && !Number.isInteger(n)) return 'must be a whole number';
    if (f.min !== undefined && n < f.min) return 'must be at least ' + f.min;
    if (f.max !== undefined && n > f.max) return 'must be at most ' + f.max;
  }
  if (f.kind === 'json') {
    try {
      const v = JSON.parse(raw);
      if (f.object && (typeof v !== 'object' || v === null || Array.isArray(v))) return 'must be a JSON object';
      if (f.array && !Array.isArray(v)) return 'must be a JSON array';
    } catch (e) { return 'not valid JSON: ' + e.message; }
  }
  if (f.pattern && !new RegExp('^(?:' + f.pattern + ')$').test(raw)) return f.patternHint || 'has an invalid format';
  return null;
}

const artifactCache = new Map();
function artifactNames(signal) {
  return kinds => {
    const key = kinds.join(',');
    if (!artifactCache.has(key)) {
      artifactCache.set(key, Promise.all(kinds.map(k => api('/api/v1/artifacts?size=200&kind=' + k, { signal })))
        .then(pages => [...new Set(pages.flatMap(p => p.items.filter(a => a.status !== 'DELETED').map(a => a.name)))])
        .catch(() => []));
    }
    return artifactCache.get(key);
  };
}

/**
 * The field a server problem names: "field: message" or "field must ..." (both forms are in use), its path's
 * first segment ("tasks[0].dataset" -> tasks, "$.blocks" -> blocks), through aliases; null for none of the fields.
 */
export function fieldOfProblem(problem, names, aliases = {}) {
  const m = /^\$?\.?([A-Za-z_][\w]*)(?:[.[][^:\s]*)?(?::\s|\s)/.exec(problem);
  if (!m) return null;
  const first = m[1];
  if (names.includes(first)) return first;
  if (aliases[first]) return aliases[first];
  return null;
}

/**
 * Renders the form of a job type into `box`. def: {type, title, endpoint, intro, fields, toSpec(values),
 * fromSpec(spec) -> values, aliases}. initial: a spec to start from (clone/retry) or null.
 */
export function renderForm(box, def, initial, signal) {
  const controls = new Map();
  const problems = new Map();
  const fields = new Map();
  const top = h('div', { id: 'form-problems' });
  const names = artifactNames(signal);
  const body = def.fields.map(f => {
    const id = 'f-' + f.name;
    const el = control(f, id, names);
    const problem = h('div.problem', { id: id + '-problem' });
    const wrap = h('div.field', { 'data-field': f.name },
      f.kind === 'checks' ? h('label', { id: id + '-label' }, f.label + (f.required ? ' *' : '')) : h('label', { for: id }, f.label + (f.required ? ' *' : '')),
      el, h('div.hint', { id: id + '-hint' }, f.hint || ''), problem);
    if (f.kind === 'checks') el.setAttribute('aria-labelledby', id + '-label');
    controls.set(f.name, el); problems.set(f.name, problem); fields.set(f.name, wrap);
    el.addEventListener('change', () => show(f.name, check(f, el)));
    return wrap;
  });
  const submit = h('button', { type: 'submit', id: 'submit' }, def.submitLabel || 'Submit');
  const form = h('form.card', { novalidate: true, id: 'job-form', 'data-type': def.type },
    def.intro ? h('p.muted.small', def.intro) : null, top, body, h('div.row', submit, h('span.muted.small', '* required')));

  function show(name, message) {
    fields.get(name).classList.toggle('invalid', !!message);
    fill(problems.get(name), message || '');
  }

  const values = Object.assign({}, def.defaults || {}, initial ? def.fromSpec(initial) : {});
  for (const f of def.fields) write(f, controls.get(f.name), values[f.name]);

  form.addEventListener('submit', async e => {
    e.preventDefault();
    fill(top);
    let first = null;
    for (const f of def.fields) {
      const msg = check(f, controls.get(f.name));
      show(f.name, msg);
      if (msg && !first) first = f.name;
    }
    if (first) { focus(first); return; }
    const vals = {};
    for (const f of def.fields) vals[f.name] = read(f, controls.get(f.name));
    let spec;
    try { spec = def.toSpec(vals); } catch (err) { fill(top, h('div.alert', { role: 'alert' }, err.message)); return; }
    submit.disabled = true;
    try {
      const job = await api(def.endpoint, { method: 'POST', body: spec, signal });
      location.hash = '#/jobs/' + job.id;
    } catch (err) {
      if (err.name === 'AbortError') return;
      const unplaced = [];
      if (err instanceof ApiError && (err.status === 422 || err.status === 400)) {
        const byField = new Map();
        for (const p of err.errors) {
          const name = fieldOfProblem(p, def.fields.map(f => f.name), def.aliases);
          if (name) byField.set(name, (byField.has(name) ? byField.get(name) + '\n' : '') + p);
          else unplaced.push(p);
        }
        for (const [name, msg] of byField) show(name, msg);
        if (byField.size) {
          first = [...byField.keys()][0];
          fill(top, h('div.alert', { role: 'alert' }, 'The server refused the job: ' + err.errors.length + ' problem(s), shown next to the fields.'
            + (unplaced.length ? '\n' + unplaced.join('\n') : '')));
          focus(first);
        } else {
          fill(top, h('div.alert', { role: 'alert' }, unplaced.join('\n')));
        }
      } else {
        fill(top, h('div.alert', { role: 'alert' }, err.status === 429
          ? 'Too many requests: retry in ' + (err.retryAfter ?? 5) + ' s.' : err.message));
      }
    } finally {
      submit.disabled = false;
    }
  });

  function focus(name) {
    const el = controls.get(name);
    (el.matches('input, select, textarea') ? el : el.querySelector('input')).focus();
  }

  fill(box, form);
  return form;
}

/** Copies the defined values into a spec, leaving out the empty ones. */
export function defined(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

/** For a clone: the spec's fields the form knows go to them, the rest into "more" (extra JSON). */
export function split(spec, known) {
  const values = {};
  const more = {};
  for (const [k, v] of Object.entries(spec || {})) {
    if (known.includes(k)) values[k] = v; else more[k] = v;
  }
  if (Object.keys(more).length) values.more = more;
  return values;
}

export const MORE = {
  name: 'more', kind: 'json', object: true, label: 'More settings (JSON)', rows: 4, placeholder: '{}',
  hint: 'Any other field of the spec, as a JSON object (see the API docs); it wins over the fields above.',
};
