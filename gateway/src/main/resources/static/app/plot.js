// Hand-written SVG plots: a line chart of series over steps and a bar chart. Sized by a viewBox, so they
// shrink with the screen; every point has a title (the exact value) for hover and for screen readers.
import { h, s, num } from './ui.js';

const COLORS = ['#3451c6', '#e8590c', '#2b8a3e', '#ae3ec9', '#c92a2a', '#1098ad', '#5c940d', '#862e9c'];
const W = 480, H = 220, L = 52, R = 16, T = 20, B = 30;

function ticks(min, max, n, integer) {
  if (min === max) { min -= Math.abs(min) * 0.1 || 1; max += Math.abs(max) * 0.1 || 1; }
  const step = Math.pow(10, Math.floor(Math.log10((max - min) / n)));
  const err = (max - min) / n / step;
  let inc = step * (err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1);
  if (integer) inc = Math.max(1, Math.round(inc)); // steps and block counts are whole numbers
  const lo = Math.floor(min / inc) * inc, hi = Math.ceil(max / inc) * inc;
  const out = [];
  for (let v = lo; v <= hi + inc / 2; v += inc) out.push(+v.toPrecision(12));
  return { lo, hi, ticks: out };
}

/**
 * A line chart. series: [{name, points: [[x, y], ...]}]; labels: optional [[x, y, text]] drawn at points
 * (pruning names the block chosen at each step).
 */
export function lineChart({ title, series, xLabel = 'step', labels = [], id }) {
  const all = series.flatMap(x => x.points).filter(p => Number.isFinite(p[1]));
  const box = h('figure.plot.card', { id, 'data-points': String(all.length) }, h('figcaption', h('strong', title)));
  if (!all.length) {
    box.appendChild(h('p.muted.small', 'no values yet'));
    return box;
  }
  const xs = ticks(Math.min(...all.map(p => p[0])), Math.max(...all.map(p => p[0])), 5, true);
  const ys = ticks(Math.min(...all.map(p => p[1])), Math.max(...all.map(p => p[1])), 4);
  const X = x => L + (x - xs.lo) / (xs.hi - xs.lo || 1) * (W - L - R);
  const Y = y => T + (1 - (y - ys.lo) / (ys.hi - ys.lo || 1)) * (H - T - B);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title + ' per ' + xLabel });
  for (const t of ys.ticks) {
    svg.appendChild(s('line', { x1: L, x2: W - R, y1: Y(t), y2: Y(t), stroke: '#e9ecef' }));
    svg.appendChild(s('text', { x: L - 4, y: Y(t) + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#5f6b77' }, num(t)));
  }
  for (const t of xs.ticks) {
    svg.appendChild(s('text', { x: X(t), y: H - B + 14, 'text-anchor': 'middle', 'font-size': 10, fill: '#5f6b77' }, num(t)));
  }
  svg.appendChild(s('text', { x: W - R, y: H - 4, 'text-anchor': 'end', 'font-size': 10, fill: '#5f6b77' }, xLabel));
  svg.appendChild(s('line', { x1: L, x2: L, y1: T, y2: H - B, stroke: '#adb5bd' }));
  svg.appendChild(s('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: '#adb5bd' }));
  series.forEach((ser, i) => {
    const pts = ser.points.filter(p => Number.isFinite(p[1]));
    const color = COLORS[i % COLORS.length];
    if (pts.length > 1) {
      svg.appendChild(s('polyline', { points: pts.map(p => X(p[0]).toFixed(1) + ',' + Y(p[1]).toFixed(1)).join(' '),
        fill: 'none', stroke: color, 'stroke-width': 2, 'data-series': ser.name }));
    }
    const dots = pts.length <= 60 ? pts : [pts[pts.length - 1]];
    for (const p of dots) {
      svg.appendChild(s('circle', { cx: X(p[0]), cy: Y(p[1]), r: 3, fill: color },
        s('title', {}, `${ser.name} at ${xLabel} ${num(p[0])}: ${num(p[1])}`)));
    }
  });
  for (const [x, y, text] of labels) {
    const px = X(x);
    const anchor = px > W - R - 30 ? 'end' : px < L + 30 ? 'start' : 'middle';
    svg.appendChild(s('text', { x: px, y: Math.max(10, Y(y) - 7), 'text-anchor': anchor, 'font-size': 10, fill: '#1d232b', 'class': 'point-label' }, text));
  }
  box.appendChild(svg);
  box.appendChild(h('div.legend', series.map((ser, i) => {
    const last = ser.points[ser.points.length - 1];
    return h('span', h('i', { style: { background: COLORS[i % COLORS.length] } }), ser.name + (last ? ' = ' + num(last[1]) : ''));
  })));
  return box;
}

/** A horizontal bar chart of named values, with optional error bars (standard errors). */
export function barChart({ title, bars, id, max }) {
  const box = h('figure.plot.card', { id, 'data-points': String(bars.length) }, h('figcaption', h('strong', title)));
  if (!bars.length) { box.appendChild(h('p.muted.small', 'no values yet')); return box; }
  const top = max ?? Math.max(...bars.map(b => b.value + (b.err || 0)));
  const rowH = 26, LW = 140, height = T + bars.length * rowH + 8;
  const Xv = v => LW + (v / (top || 1)) * (W - LW - 60);
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, role: 'img', 'aria-label': title });
  bars.forEach((b, i) => {
    const y = T + i * rowH;
    svg.appendChild(s('text', { x: LW - 6, y: y + 15, 'text-anchor': 'end', 'font-size': 11, fill: '#1d232b' }, b.name));
    svg.appendChild(s('rect', { x: LW, y: y + 3, width: Math.max(1, Xv(b.value) - LW), height: rowH - 8, fill: COLORS[i % COLORS.length] },
      s('title', {}, b.name + ': ' + num(b.value) + (b.err ? ' ± ' + num(b.err) : ''))));
    if (b.err) {
      svg.appendChild(s('line', { x1: Xv(b.value - b.err), x2: Xv(b.value + b.err), y1: y + 11, y2: y + 11, stroke: '#1d232b' }));
    }
    svg.appendChild(s('text', { x: Xv(b.value + (b.err || 0)) + 4, y: y + 15, 'font-size': 11, fill: '#1d232b' }, num(b.value)));
  });
  box.appendChild(svg);
  return box;
}
