// Artifact detail: metadata, files with sizes and sha256 and downloads, the model card rendered, lineage as a
// graph of jobs and artifacts, and delete (the server refuses while a queued or running job reads it).
import { api, session } from '../api.js';
import { h, s, fill, size, when, kvTable, jobName, shortId, FINAL, errorAlert, download } from '../ui.js';
import { markdown } from '../markdown.js';
import { comparisonTable } from '../comparison.js';

export async function render(view, { params, signal }) {
  const a = await api('/api/v1/artifacts/' + params.id, { signal });
  const deleted = a.status === 'DELETED';
  const card = h('section.card#model-card', h('h2', 'Model card'));
  const lineage = h('section.card.lineage#lineage', h('h2', 'Lineage'), h('p.muted', 'loading…'));
  const actions = h('div.row');
  const files = a.files || [];
  const fileUrl = f => '/api/v1/artifacts/' + a.id + '/files/' + f.path.split('/').map(encodeURIComponent).join('/');
  fill(view,
    h('div.row', h('h1', { id: 'artifact-title' }, a.name), h('span.status', a.kind), deleted ? h('span.status.st-CANCELLED', 'DELETED') : null),
    actions,
    h('section.card', h('h2', 'Summary'), kvTable({ id: a.id, kind: a.kind, status: a.status, size: size(a.sizeBytes), created: when(a.createdAt) })),
    h('section.card', h('h2', 'Metadata'), kvTable(a.metadata)),
    h('section.card', h('h2', 'Files'), files.length ? h('div.table-wrap', h('table#artifact-files',
      h('thead', h('tr', h('th', 'file'), h('th.num', 'size'), h('th', 'sha256'))),
      h('tbody', files.map(f => h('tr',
        h('td', h('a', { href: fileUrl(f), 'data-file': f.path, on: { click: e => { e.preventDefault(); download(fileUrl(f), f.path.split('/').pop(), session.key).catch(err => alert(err.message)); } } }, f.path)),
        h('td.num', size(f.sizeBytes ?? f.size)), h('td.mono.small', f.sha256))))))
      : h('p.muted', deleted ? 'The files were deleted; the record stays for the lineage.' : 'No files.')),
    card, lineage);

  // delete: offered when no queued or running job reads the artifact (the server checks again)
  const consumers = await Promise.all((a.consumedBy || []).map(id => api('/api/v1/jobs/' + id, { signal }).catch(() => null)));
  const busy = consumers.filter(j => j && !FINAL.includes(j.status));
  if (!deleted) {
    const del = h('button.danger#delete', { type: 'button', disabled: busy.length > 0,
      title: busy.length ? 'A queued or running job reads it' : null, on: { click: async () => {
        if (!confirm('Delete ' + a.name + '? Its files go; its record stays for the lineage.')) return;
        try { await api('/api/v1/artifacts/' + a.id, { method: 'DELETE', signal }); location.hash = '#/artifacts'; }
        catch (e) { actions.appendChild(errorAlert(e)); }
      } } }, 'Delete');
    fill(actions, del, busy.length ? h('span.muted.small', 'In use by ' + busy.length + ' queued or running job(s).') : null);
  }

  // a comparison REPORT: its table, from report.json, above the model card
  const reportJson = a.kind === 'REPORT' ? files.find(f => f.path === 'report.json') : null;
  if (reportJson) {
    try {
      const r = await api(fileUrl(reportJson), { signal, raw: true, headers: { Accept: '*/*' } });
      const report = JSON.parse(await r.text());
      if (report.kind === 'comparison') card.before(h('section.card#comparison', h('h2', 'Comparison'), comparisonTable(report)));
    } catch (e) { if (e.name !== 'AbortError') card.before(errorAlert(e)); }
  }

  const readme = files.find(f => /^readme\.md$/i.test(f.path));
  if (readme) {
    try {
      const r = await api(fileUrl(readme), { signal, raw: true, headers: { Accept: '*/*' } });
      card.appendChild(markdown(await r.text()));
    } catch (e) { if (e.name !== 'AbortError') card.appendChild(errorAlert(e)); }
  } else {
    card.appendChild(h('p.muted', a.kind === 'MODEL' ? 'This model has no README.md.' : 'Only models have a model card.'));
  }

  fill(lineage, h('h2', 'Lineage'), await lineageGraph(a, signal));
}

/**
 * The graph around an artifact: upstream the job that made it, that job's inputs, the jobs that made those (up to
 * three jobs back); downstream the jobs that read it and what they made. Columns by distance, links to each node.
 */
async function lineageGraph(root, signal) {
  const nodes = new Map(); // key -> {key, kind: 'job'|'artifact', id, label, sub, level}
  const edges = [];
  const jobs = new Map(), artifacts = new Map([[root.id, root]]);
  const getJob = async id => { if (!jobs.has(id)) jobs.set(id, await api('/api/v1/jobs/' + id, { signal }).catch(() => null)); return jobs.get(id); };
  const getArtifact = async id => { if (!artifacts.has(id)) artifacts.set(id, await api('/api/v1/artifacts/' + id, { signal }).catch(() => null)); return artifacts.get(id); };
  const addArtifact = (a, level) => { const k = 'a' + a.id; if (!nodes.has(k)) nodes.set(k, { key: k, kind: 'artifact', id: a.id, label: a.name, sub: a.kind.toLowerCase() + (a.status === 'DELETED' ? ' (deleted)' : ''), level }); return k; };
  const addJob = (j, level) => { const k = 'j' + j.id; if (!nodes.has(k)) nodes.set(k, { key: k, kind: 'job', id: j.id, label: jobName(j), sub: j.type + ' · ' + j.status.toLowerCase(), level }); return k; };

  addArtifact(root, 0);
  // upstream
  let frontier = [root];
  for (let depth = 1; depth <= 3 && frontier.length; depth++) {
    const next = [];
    for (const a of frontier) {
      if (!a.producedBy) continue;
      const j = await getJob(a.producedBy);
      if (!j) continue;
      const jk = addJob(j, -(2 * depth - 1));
      edges.push([jk, 'a' + a.id]);
      for (const id of j.inputs) {
        const input = await getArtifact(id);
        if (!input) continue;
        edges.push([addArtifact(input, -2 * depth), jk]);
        next.push(input);
      }
    }
    frontier = next;
  }
  // downstream: who read it, and what they made
  for (const id of root.consumedBy || []) {
    const j = await getJob(id);
    if (!j) continue;
    const jk = addJob(j, 1);
    edges.push(['a' + root.id, jk]);
    for (const out of j.outputs) {
      const o = await getArtifact(out);
      if (o) edges.push([jk, addArtifact(o, 2)]);
    }
  }
  if (nodes.size === 1) return h('p.muted', 'Imported or uploaded, and no job has read it yet.');

  const levels = [...new Set([...nodes.values()].map(n => n.level))].sort((x, y) => x - y);
  const NW = 150, NH = 44, GX = 40, GY = 14;
  const pos = new Map();
  let rowsMax = 0;
  levels.forEach((lv, col) => {
    const inCol = [...nodes.values()].filter(n => n.level === lv);
    rowsMax = Math.max(rowsMax, inCol.length);
    inCol.forEach((n, row) => pos.set(n.key, { x: 10 + col * (NW + GX), y: 10 + row * (NH + GY) }));
  });
  const W = 20 + levels.length * NW + (levels.length - 1) * GX, H = 20 + rowsMax * NH + (rowsMax - 1) * GY;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'group', 'aria-label': 'Lineage: jobs and artifacts, inputs on the left',
    style: 'max-width:' + W * 1.3 + 'px' });
  svg.appendChild(s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' },
    s('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#868e96' }))));
  for (const [from, to] of edges) {
    const p = pos.get(from), q = pos.get(to);
    if (!p || !q) continue;
    const x1 = p.x + NW, y1 = p.y + NH / 2, x2 = q.x, y2 = q.y + NH / 2, mx = (x1 + x2) / 2;
    svg.appendChild(s('path', { d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`, fill: 'none', stroke: '#868e96', 'marker-end': 'url(#arrow)' }));
  }
  const clip = t => t.length > 22 ? t.slice(0, 21) + '…' : t;
  for (const n of nodes.values()) {
    const p = pos.get(n.key);
    const isRoot = n.key === 'a' + root.id;
    const link = s('a', { href: (n.kind === 'job' ? '#/jobs/' : '#/artifacts/') + n.id, 'data-node': n.kind, 'aria-label': n.kind + ' ' + n.label + ', ' + n.sub },
      s('title', {}, n.label + ' (' + n.sub + ')'),
      s('rect', { x: p.x, y: p.y, width: NW, height: NH, rx: n.kind === 'job' ? 4 : 18,
        fill: n.kind === 'job' ? '#edf2ff' : isRoot ? '#fff4e6' : '#fff', stroke: n.kind === 'job' ? '#3451c6' : '#868e96', 'stroke-width': isRoot ? 2.5 : 1 }),
      s('text', { x: p.x + NW / 2, y: p.y + 19, 'text-anchor': 'middle', 'font-size': 12, 'font-weight': 600 }, clip(n.label)),
      s('text', { x: p.x + NW / 2, y: p.y + 34, 'text-anchor': 'middle', 'font-size': 10, fill: '#5f6b77' }, clip(n.sub)));
    svg.appendChild(link);
  }
  const legend = h('p.small.muted', 'Rounded: artifacts; square: jobs; arrows run from inputs to outputs. ',
    [...nodes.values()].filter(n => n.kind === 'job').length + ' job(s), ' + [...nodes.values()].filter(n => n.kind === 'artifact').length + ' artifact(s). ',
    'This artifact: ', shortId(root.id), '.');
  return h('div', svg, legend);
}
