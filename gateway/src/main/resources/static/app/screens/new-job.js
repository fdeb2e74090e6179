// New job: one form per job type (forms/*.js); ?from=<job id> prefills it from that job (retry or clone).
import { api } from '../api.js';
import { h, fill, jobName } from '../ui.js';
import { renderForm } from '../forms/form.js';
import merge from '../forms/merge.js';
import prune from '../forms/prune.js';
import fuse from '../forms/fuse.js';
import evaluate from '../forms/evaluate.js';

const FORMS = { merge, prune, fuse, evaluate };

export async function render(view, { params, query, signal }) {
  const def = FORMS[params.type];
  let initial = null;
  let note = null;
  const from = query.get('from');
  if (from) {
    const job = await api('/api/v1/jobs/' + from, { signal });
    if (job.type === def.type) {
      // the stored spec carries the server's own map of resolved input ids; a new job resolves its names afresh
      initial = Object.fromEntries(Object.entries(job.spec || {}).filter(([k]) => k !== 'artifacts'));
      note = h('div.alert.ok', { role: 'status' }, 'Prefilled from the job ', h('a', { href: '#/jobs/' + job.id }, jobName(job)),
        ' (' + job.status.toLowerCase() + '). Change what you need and submit: it starts a new job.');
    }
  }
  const box = h('div');
  fill(view,
    h('h1', 'New job'),
    h('nav.tabs', { 'aria-label': 'Job type' }, Object.values(FORMS).map(f =>
      h('a', { href: '#/new/' + f.type, 'aria-current': f.type === def.type ? 'page' : null }, f.title))),
    h('h2', def.title), note, box);
  renderForm(box, def, initial, signal);
  const first = box.querySelector('input, textarea, select');
  if (first) first.focus();
}
