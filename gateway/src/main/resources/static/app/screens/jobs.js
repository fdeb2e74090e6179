// Jobs: names, type, status, progress, created, duration; filters by type and status, search by name, paging.
// The filters live in the address (#/jobs?type=&status=&q=&page=), so back/forward and links keep them.
import { page } from '../api.js';
import { h, fill, statusBadge, progressBar, jobName, when, duration, JOB_TYPES, STATUSES, FINAL } from '../ui.js';

const SIZE = 20;

export async function render(view, { query, signal }) {
  const state = { type: query.get('type') || '', status: query.get('status') || '', q: query.get('q') || '',
    page: Math.max(0, parseInt(query.get('page') || '0', 10) || 0) };
  const select = (id, label, options, value) => h('div.field', h('label', { for: id }, label),
    h('select', { id }, h('option', { value: '' }, 'any'), options.map(o => h('option', { value: o, selected: o === value }, o))));
  const search = h('input', { id: 'job-search', type: 'search', value: state.q, placeholder: 'part of a name', autocomplete: 'off' });
  const filters = h('form.filters', { role: 'search', 'aria-label': 'Filter jobs' },
    h('div.field.wide', h('label', { for: 'job-search' }, 'Name'), search),
    select('job-type', 'Type', JOB_TYPES, state.type), select('job-status', 'Status', STATUSES, state.status));
  const list = h('ul.joblist', { id: 'job-list', 'aria-live': 'polite' });
  const pager = h('nav.pager', { 'aria-label': 'Pages' });
  const count = h('span.muted', { id: 'job-count' });
  fill(view, h('div.row', h('h1', 'Jobs'), h('span.spacer'), h('a.button', { href: '#/new/merge' }, 'New job')),
    h('section.card', filters, count, list, pager));

  const go = changes => {
    const next = Object.assign({}, state, changes);
    const q = new URLSearchParams();
    for (const k of ['type', 'status', 'q']) if (next[k]) q.set(k, next[k]);
    if (next.page) q.set('page', next.page);
    location.hash = '#/jobs' + (q.toString() ? '?' + q : '');
  };
  filters.addEventListener('submit', e => { e.preventDefault(); go({ q: search.value.trim(), page: 0 }); });
  filters.querySelector('#job-type').addEventListener('change', e => go({ type: e.target.value, page: 0 }));
  filters.querySelector('#job-status').addEventListener('change', e => go({ status: e.target.value, page: 0 }));
  let typing;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      // search in place, keeping the caret, and record it in the address without re-rendering
      state.q = search.value.trim();
      state.page = 0;
      history.replaceState(null, '', '#/jobs?' + new URLSearchParams(Object.fromEntries(
        Object.entries({ type: state.type, status: state.status, q: state.q }).filter(([, v]) => v))));
      load().catch(e => { if (e.name !== 'AbortError') console.warn(e); });
    }, 300);
  });

  async function load() {
    const p = await page('/api/v1/jobs', { type: state.type, status: state.status, name: state.q, page: state.page, size: SIZE }, signal);
    if (signal.aborted) return;
    fill(count, p.total + (p.total === 1 ? ' job' : ' jobs'));
    fill(list, p.items.length ? [head(), ...p.items.map(row)] : h('li.muted', { style: { padding: '8px 4px' } },
      state.type || state.status || state.q ? 'No job matches these filters.' : 'No jobs yet: start one with "New job".'));
    const pages = Math.max(1, Math.ceil(p.total / SIZE));
    fill(pager,
      h('button.secondary', { type: 'button', disabled: state.page === 0, on: { click: () => go({ page: state.page - 1 }) } }, 'Newer'),
      h('span.muted', 'page ' + (state.page + 1) + ' of ' + pages),
      h('button.secondary', { type: 'button', disabled: state.page + 1 >= pages, on: { click: () => go({ page: state.page + 1 }) } }, 'Older'));
    return p.items.some(j => !FINAL.includes(j.status));
  }

  // column names for the wide layout (the narrow one stacks each job and needs none)
  function head() {
    return h('li.head', { 'aria-hidden': 'true' }, h('div', ['name', 'status', 'progress', 'created', 'duration'].map(t => h('span', t))));
  }

  function row(j) {
    return h('li', h('a', { href: '#/jobs/' + j.id, 'data-job': j.id },
      h('span', h('span.name', jobName(j)), ' ', h('span.meta', j.type)),
      h('span', statusBadge(j.status)),
      progressBar(j.progress, 'progress of ' + jobName(j)),
      h('span.meta', when(j.createdAt)),
      h('span.meta', duration(j))));
  }

  await load();
  // refresh while the screen is open: faster while something runs
  (async () => {
    let active = true;
    while (!signal.aborted) {
      await new Promise(r => setTimeout(r, active ? 2000 : 5000));
      if (signal.aborted) return;
      try { active = await load(); } catch (e) { if (e.name === 'AbortError') return; }
    }
  })();
}
