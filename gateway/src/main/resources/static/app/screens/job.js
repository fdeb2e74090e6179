// Job detail: summary with links to inputs and outputs, parameters, final metrics, live progress and plots over
// SSE, the whole event history as a wrapped, searchable log that follows new events, cancel, retry/clone, and an
// error banner for a FAILED job.
import { api, eventHistory, followEvents } from '../api.js';
import { h, fill, statusBadge, progressBar, jobName, when, duration, kvTable, num, FINAL, errorAlert } from '../ui.js';
import { plotsFor } from './job-plots.js';
import { comparisonTable } from '../comparison.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function render(view, { params, signal }) {
  let job = await api('/api/v1/jobs/' + params.id, { signal });
  const events = await eventHistory(params.id, signal);
  const artifacts = new Map(); // id -> artifact record (name, kind) for links

  const head = h('div');
  const summary = h('section.card', { 'aria-label': 'Summary' });
  const plots = h('div.plots', { id: 'plots' });
  const logBox = h('div.log', { id: 'job-log', tabindex: '0', role: 'log', 'aria-label': 'Event log' });
  const logSearch = h('input', { id: 'log-search', type: 'search', placeholder: 'filter the log', autocomplete: 'off' });
  const follow = h('input', { id: 'log-follow', type: 'checkbox', checked: true });
  const logCount = h('span.muted.small', { id: 'log-count' });
  const params_ = h('section.card', h('h2', 'Parameters'));
  const result = h('section.card', { id: 'job-result' });
  fill(view, head, summary, h('h2', 'Metrics'), plots, result,
    h('section.card', h('h2', 'Events'),
      h('div.row', h('label.small', { for: 'log-search' }, 'Search'), logSearch,
        h('label.small', { style: { display: 'inline-flex', gap: '4px', alignItems: 'center' } }, follow, 'follow new events'), logCount),
      logBox),
    params_);

  async function nameArtifacts(ids) {
    await Promise.all(ids.filter(id => !artifacts.has(id)).map(async id => {
      try { artifacts.set(id, await api('/api/v1/artifacts/' + id, { signal })); } catch { artifacts.set(id, { id, name: id }); }
    }));
  }
  const artifactLink = id => {
    const a = artifacts.get(id) || { name: id };
    return h('a', { href: '#/artifacts/' + id }, a.name + (a.kind ? ' (' + a.kind.toLowerCase() + ')' : ''));
  };

  function drawHead() {
    const final = FINAL.includes(job.status);
    const cancel = h('button.danger#cancel', { type: 'button', disabled: final || job.cancelRequested, on: { click: async () => {
      cancel.disabled = true;
      try { job = await api('/api/v1/jobs/' + job.id + '/cancel', { method: 'POST', signal }); drawHead(); drawSummary(); }
      catch (e) { head.appendChild(errorAlert(e)); cancel.disabled = false; }
    } } }, job.cancelRequested && !final ? 'Cancelling…' : 'Cancel');
    fill(head,
      h('div.row', h('h1', { id: 'job-title' }, jobName(job)), statusBadge(job.status), h('span.spacer'),
        final ? null : cancel,
        h('a.button.secondary#clone', { href: '#/new/' + job.type + '?from=' + job.id },
          job.status === 'FAILED' || job.status === 'CANCELLED' ? 'Retry…' : 'Clone…')),
      job.status === 'FAILED' ? h('div.alert#job-error', { role: 'alert' }, h('strong', 'This job failed. '),
        job.error || 'No error message was recorded.', job.attempts > 1 ? ' (after ' + job.attempts + ' attempts)' : '') : null,
      job.status === 'CANCELLED' ? h('div.alert', { role: 'status' }, 'This job was cancelled.') : null);
  }

  function drawSummary() {
    fill(summary,
      h('div.row', progressBar(job.progress, 'job progress'), h('span.small#job-progress', Math.round(job.progress * 100) + ' %')),
      job.progressMessage ? h('p.small.mono', job.progressMessage) : null,
      h('div.table-wrap', h('table.kv', h('tbody',
        h('tr', h('th', 'type'), h('td', job.type)),
        h('tr', h('th', 'id'), h('td.mono', job.id)),
        h('tr', h('th', 'created'), h('td', when(job.createdAt))),
        h('tr', h('th', 'started'), h('td', when(job.startedAt))),
        h('tr', h('th', 'finished'), h('td', when(job.finishedAt))),
        h('tr', h('th', 'duration'), h('td', duration(job))),
        h('tr', h('th', 'attempts'), h('td', job.attempts + ' of ' + job.maxAttempts)),
        h('tr', h('th', 'inputs'), h('td#job-inputs', job.inputs.length ? job.inputs.map((id, i) => [i ? ', ' : '', artifactLink(id)]) : h('span.muted', 'none'))),
        h('tr', h('th', 'outputs'), h('td#job-outputs', job.outputs.length ? job.outputs.map((id, i) => [i ? ', ' : '', artifactLink(id)])
          : h('span.muted', FINAL.includes(job.status) ? 'none' : 'when it succeeds'))))),
      ));
    const links = (k, v) => typeof v === 'string' && UUID.test(v) && artifacts.has(v) ? artifactLink(v) : null;
    fill(params_, h('h2', 'Parameters'), kvTable(job.spec, links));
    fill(result, h('h2', 'Final metrics and result'),
      // a comparison's result is its table (the same as its REPORT's report.json)
      job.type === 'compare' && job.result && job.result.rows ? comparisonTable(job.result) : null,
      job.result
      ? kvTable(job.result, links)
      : h('p.muted', FINAL.includes(job.status) ? 'No result.' : 'Shown when the job ends.'));
  }

  let plotTimer = null;
  function drawPlots() {
    plotTimer = null;
    const p = plotsFor(job, events);
    if (p === null) fill(plots, h('p.muted', 'A ' + job.type + ' job reports no metrics per step; its progress is above.'));
    else fill(plots, p);
  }
  const schedulePlots = () => { if (!plotTimer) plotTimer = setTimeout(drawPlots, 250); };

  // the log: every event, wrapped, filtered by the search box; new events follow at the bottom
  function line(e) {
    const p = e.payload || {};
    let text;
    if (e.kind === 'PROGRESS') text = Math.round((p.progress || 0) * 100) + ' % ' + (p.message || '');
    else if (e.kind === 'LOG') text = p.message;
    else if (e.kind === 'METRIC') text = Object.entries(p).map(([k, v]) => k + '=' + (typeof v === 'number' ? num(v) : v)).join(' ');
    else text = Object.entries(p).map(([k, v]) => k + '=' + v).join(' ');
    const div = h('div.k-' + e.kind, { 'data-seq': String(e.seq) },
      '#' + e.seq + ' ' + new Date(e.createdAt).toLocaleTimeString() + ' ' + e.kind + ' ' + text);
    return div;
  }
  function matches(div) {
    const q = logSearch.value.trim().toLowerCase();
    return !q || div.textContent.toLowerCase().includes(q);
  }
  function countLog() {
    const shown = [...logBox.children].filter(d => !d.hidden).length;
    fill(logCount, shown === events.length ? events.length + ' events' : shown + ' of ' + events.length + ' events');
  }
  function addEvents(list) {
    const frag = document.createDocumentFragment();
    for (const e of list) { const d = line(e); d.hidden = !matches(d); frag.appendChild(d); }
    logBox.appendChild(frag);
    if (follow.checked) logBox.scrollTop = logBox.scrollHeight;
    countLog();
  }
  logSearch.addEventListener('input', () => { for (const d of logBox.children) d.hidden = !matches(d); countLog(); });
  follow.addEventListener('change', () => { if (follow.checked) logBox.scrollTop = logBox.scrollHeight; });

  await nameArtifacts([...job.inputs, ...job.outputs]);
  drawHead();
  drawSummary();
  drawPlots();
  addEvents(events);

  if (FINAL.includes(job.status)) return;
  let refreshing = null;
  const refreshJob = () => {
    if (refreshing) return;
    refreshing = (async () => {
      try {
        await new Promise(r => setTimeout(r, 300));
        job = await api('/api/v1/jobs/' + job.id, { signal });
        await nameArtifacts([...job.inputs, ...job.outputs]);
        drawHead(); drawSummary(); schedulePlots();
      } catch (e) { if (e.name !== 'AbortError') console.warn(e); }
      refreshing = null;
    })();
  };
  const last = events.length ? events[events.length - 1].seq : 0;
  followEvents(job.id, last, e => {
    if (events.length && e.seq <= events[events.length - 1].seq) return; // a resumed stream may repeat nothing, but be sure
    events.push(e);
    addEvents([e]);
    if (e.kind === 'PROGRESS') {
      job.progress = e.payload.progress; job.progressMessage = e.payload.message;
      const bar = summary.querySelector('.bar > div');
      if (bar) bar.style.width = Math.round(job.progress * 100) + '%';
      const pct = summary.querySelector('#job-progress');
      if (pct) pct.textContent = Math.round(job.progress * 100) + ' %';
    }
    if (e.kind === 'STATUS') refreshJob();
    if (e.kind === 'METRIC' || e.kind === 'PROGRESS') schedulePlots();
  }, signal, async () => {
    job = await api('/api/v1/jobs/' + job.id, { signal });
    return FINAL.includes(job.status);
  }).then(() => { if (!signal.aborted) refreshJob(); }, e => { if (e.name !== 'AbortError') console.warn(e); });
}
