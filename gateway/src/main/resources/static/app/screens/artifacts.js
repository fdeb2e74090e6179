// Artifacts: filter by kind, search by name, paging; each row opens the artifact.
import { page } from '../api.js';
import { h, fill, size, when, KINDS } from '../ui.js';

const SIZE = 25;

export async function render(view, { query, signal }) {
  const state = { kind: query.get('kind') || '', q: query.get('q') || '', page: Math.max(0, parseInt(query.get('page') || '0', 10) || 0) };
  const search = h('input', { id: 'artifact-search', type: 'search', value: state.q, placeholder: 'part of a name', autocomplete: 'off' });
  const kind = h('select', { id: 'artifact-kind' }, h('option', { value: '' }, 'any'), KINDS.map(k => h('option', { value: k, selected: k === state.kind }, k)));
  const filters = h('form.filters', { role: 'search', 'aria-label': 'Filter artifacts' },
    h('div.field.wide', h('label', { for: 'artifact-search' }, 'Name'), search), h('div.field', h('label', { for: 'artifact-kind' }, 'Kind'), kind));
  const table = h('div.table-wrap');
  const pager = h('nav.pager', { 'aria-label': 'Pages' });
  fill(view, h('div.row', h('h1', 'Artifacts'), h('span.spacer'), h('a.button', { href: '#/upload' }, 'Upload or import')),
    h('section.card', filters, table, pager));
  const go = changes => {
    const next = Object.assign({}, state, changes);
    const q = new URLSearchParams();
    if (next.kind) q.set('kind', next.kind);
    if (next.q) q.set('q', next.q);
    if (next.page) q.set('page', next.page);
    location.hash = '#/artifacts' + (q.toString() ? '?' + q : '');
  };
  filters.addEventListener('submit', e => { e.preventDefault(); go({ q: search.value.trim(), page: 0 }); });
  kind.addEventListener('change', () => go({ kind: kind.value, page: 0 }));
  let typing;
  search.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => { state.q = search.value.trim(); state.page = 0; load().catch(e => { if (e.name !== 'AbortError') console.warn(e); }); }, 300); });

  async function load() {
    const p = await page('/api/v1/artifacts', { kind: state.kind, name: state.q, page: state.page, size: SIZE }, signal);
    fill(table, p.items.length ? h('table#artifact-list',
      h('thead', h('tr', h('th', 'name'), h('th', 'kind'), h('th.num', 'size'), h('th', 'about'), h('th', 'created'))),
      h('tbody', p.items.map(a => h('tr', { 'data-artifact': a.id },
        h('td', h('a', { href: '#/artifacts/' + a.id }, a.name), a.status !== 'READY' ? [' ', h('span.status', a.status)] : null),
        h('td', a.kind), h('td.num', size(a.sizeBytes)), h('td.small', about(a)), h('td.small', when(a.createdAt))))))
      : h('p.muted', state.kind || state.q ? 'No artifact matches.' : 'No artifacts yet: upload or import one.'));
    const pages = Math.max(1, Math.ceil(p.total / SIZE));
    fill(pager, h('span.muted', p.total + ' artifacts'),
      h('button.secondary', { type: 'button', disabled: state.page === 0, on: { click: () => go({ page: state.page - 1 }) } }, 'Newer'),
      h('span.muted', 'page ' + (state.page + 1) + ' of ' + pages),
      h('button.secondary', { type: 'button', disabled: state.page + 1 >= pages, on: { click: () => go({ page: state.page + 1 }) } }, 'Older'));
  }
  await load();
}

/** One line about an artifact from its metadata. */
export function about(a) {
  const m = a.metadata || {};
  if (a.kind === 'MODEL') {
    return [m.architecture, m.layers !== undefined ? m.layers + ' layers' : null,
      typeof m.parameterCount === 'number' ? (m.parameterCount / 1e6).toFixed(2) + 'M params' : null, m.dtype].filter(Boolean).join(', ');
  }
  if (m.rows !== undefined) return m.rows + ' rows';
  return '';
}
