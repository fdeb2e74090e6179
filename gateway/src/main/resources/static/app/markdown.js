// A small Markdown renderer for model cards: headings, paragraphs, lists, code, quotes, tables (as text rows),
// emphasis, inline code and links. It builds DOM nodes from text, so a card can never inject HTML or script.
import { h } from './ui.js';

function inline(text) {
  const out = [];
  const re = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[([^\]]+)\]\(([^)\s]+)\))/g;
  let last = 0, m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) out.push(h('code', m[1].slice(1, -1)));
    else if (m[2]) out.push(h('strong', m[2].slice(2, -2)));
    else if (m[3]) out.push(h('em', m[3].slice(1, -1)));
    else if (m[4]) {
      const href = /^(https?:|#|mailto:)/i.test(m[6]) ? m[6] : null; // no javascript: or relative file links
      out.push(href ? h('a', { href, rel: 'noopener noreferrer', target: href.startsWith('#') ? null : '_blank' }, m[5]) : m[5]);
    }
    last = re.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Renders Markdown text into a div.markdown. YAML front matter is shown as a code block. */
export function markdown(text) {
  const root = h('div.markdown');
  let lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[0] === '---') {
    const end = lines.indexOf('---', 1);
    if (end > 0) {
      root.appendChild(h('pre', lines.slice(1, end).join('\n')));
      lines = lines.slice(end + 1);
    }
  }
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^```/.test(line)) {
      const code = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]); i++) code.push(lines[i]);
      i++;
      root.appendChild(h('pre', h('code', code.join('\n'))));
    } else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(6, line.match(/^#+/)[0].length + 1); // the page has the h1
      root.appendChild(h('h' + level, inline(line.replace(/^#+\s*/, ''))));
      i++;
    } else if (/^\s*([-*+]|\d+\.)\s+/.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items = [];
      for (; i < lines.length && /^\s*([-*+]|\d+\.)\s+/.test(lines[i]); i++) items.push(h('li', inline(lines[i].replace(/^\s*([-*+]|\d+\.)\s+/, ''))));
      root.appendChild(h(ordered ? 'ol' : 'ul', items));
    } else if (/^>\s?/.test(line)) {
      const quote = [];
      for (; i < lines.length && /^>\s?/.test(lines[i]); i++) quote.push(lines[i].replace(/^>\s?/, ''));
      root.appendChild(h('blockquote', inline(quote.join(' '))));
    } else if (/^\|/.test(line)) {
      const rows = [];
      for (; i < lines.length && /^\|/.test(lines[i]); i++) {
        if (/^\|[\s:|-]+\|?$/.test(lines[i])) continue;
        rows.push(h('tr', lines[i].replace(/^\||\|$/g, '').split('|').map(c => h('td', inline(c.trim())))));
      }
      root.appendChild(h('table', h('tbody', rows)));
    } else if (line.trim() === '') {
      i++;
    } else {
      const para = [];
      for (; i < lines.length && lines[i].trim() !== '' && !/^(```|#{1,6}\s|>|\||\s*([-*+]|\d+\.)\s)/.test(lines[i]); i++) para.push(lines[i]);
      root.appendChild(h('p', inline(para.join(' '))));
    }
  }
  return root;
}
