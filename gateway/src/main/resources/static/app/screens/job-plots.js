// The metric plots of a job, built from its METRIC (and, for pruning, PROGRESS) events and its result.
import { h } from '../ui.js';
import { lineChart, barChart } from '../plot.js';

/** Series of one metric key, one per stage (fusion has sft and a preference stage), over the stage's steps. */
function byStage(metrics, key) {
  const series = new Map();
  for (const m of metrics) {
    if (typeof m[key] !== 'number') continue;
    const name = (m.stage ? m.stage + ' ' : '') + key;
    if (!series.has(name)) series.set(name, []);
    series.get(name).push([m.step, m[key]]);
  }
  return [...series].map(([name, points]) => ({ name, points }));
}

function fusion(metrics) {
  const chart = (id, title, keys) => lineChart({ id, title, series: keys.flatMap(k => byStage(metrics, k)) });
  return [
    chart('plot-loss', 'Loss', ['loss', 'eval_loss']),
    chart('plot-margins', 'Rewards and margins', ['rewards/margins', 'rewards/chosen', 'rewards/rejected', 'eval_rewards/margins']),
    chart('plot-accuracies', 'Accuracies', ['rewards/accuracies', 'eval_rewards/accuracies']),
    chart('plot-lr', 'Learning rate', ['learning_rate']),
    chart('plot-alpha', 'Alpha (fusion coefficient)', ['alpha']),
  ];
}

/** Blocks named in a pruning progress message ("step 2 of 4: removed [mlp.3, attn.1], perplexity ..."). */
function removedIn(message) {
  const m = /removed \[([^\]]*)\]/.exec(message || '');
  return m ? m[1].split(',').map(x => x.trim()).filter(Boolean) : null;
}

function pruning(metrics, events, result) {
  // the block chosen at step n: the one the removal set gained from step n-1 to step n
  const chosen = new Map();
  let before = [];
  for (const e of events) {
    if (e.kind !== 'PROGRESS') continue;
    const removed = removedIn(e.payload.message);
    const step = /step (\d+) of/.exec(e.payload.message || '');
    if (!removed || !step) continue;
    const added = removed.filter(b => !before.includes(b));
    if (added.length) chosen.set(Number(step[1]), added.join(', '));
    before = removed;
  }
  const points = metrics.filter(m => typeof m.perplexity === 'number').map(m => [m.step, m.perplexity]);
  const labels = points.filter(p => chosen.has(p[0])).map(p => [p[0], p[1], chosen.get(p[0])]);
  // the dense model's perplexity, from the result once the job is done
  if (result && typeof result.calibrationPerplexityBefore === 'number') points.unshift([0, result.calibrationPerplexityBefore]);
  const table = points.length ? h('div.table-wrap', h('table#pruning-steps',
    h('thead', h('tr', h('th.num', 'removed blocks'), h('th', 'block chosen'), h('th.num', 'perplexity'), h('th.num', 'parameters removed'))),
    h('tbody', metrics.filter(m => typeof m.perplexity === 'number').map(m => h('tr',
      h('td.num', String(m.step)), h('td.mono', chosen.get(m.step) || ''), h('td.num', m.perplexity.toFixed(4)),
      h('td.num', typeof m.parameterRatio === 'number' ? (m.parameterRatio * 100).toFixed(1) + ' %' : '')))))) : null;
  return [lineChart({ id: 'plot-perplexity', title: 'Calibration perplexity per removed block', xLabel: 'blocks removed',
    series: [{ name: 'perplexity', points }], labels }), table];
}

function evaluation(metrics, result) {
  let bars = [];
  if (result && Array.isArray(result.tasks) && result.tasks.length) {
    bars = result.tasks.map(t => t.accNorm !== null && t.accNorm !== undefined
      ? { name: t.name + ' acc_norm', value: t.accNorm, err: t.accNormStderr } : { name: t.name + ' acc', value: t.acc, err: t.accStderr });
    if (typeof result.average === 'number') bars.push({ name: 'average', value: result.average });
  } else {
    for (const m of metrics) {
      // live, before the result: the METRIC event's "<task>.acc_norm" (or ".acc") and "average"
      for (const [k, v] of Object.entries(m)) if (k !== 'step' && k !== 'stage' && k !== 'perplexity' && typeof v === 'number') bars.push({ name: k.replace(/\.(acc(_norm)?)$/, ' $1'), value: v });
    }
  }
  const ppl = (result && typeof result.perplexity === 'number') ? result.perplexity
    : (metrics.find(m => typeof m.perplexity === 'number') || {}).perplexity;
  return [
    bars.length ? barChart({ id: 'plot-tasks', title: 'Accuracy per task', bars, max: 1 }) : null,
    typeof ppl === 'number' ? h('div.card#plot-eval-perplexity', h('strong', 'Perplexity: '), h('span.mono', ppl.toFixed(4))) : null,
  ];
}

/** The plots of a job of any type; null when its type has none (merge). */
export function plotsFor(job, events) {
  const metrics = events.filter(e => e.kind === 'METRIC').map(e => e.payload);
  switch (job.type) {
    case 'fuse': return fusion(metrics);
    case 'prune': return pruning(metrics, events, job.result);
    case 'evaluate': return evaluation(metrics, job.result);
    default: return null;
  }
}
