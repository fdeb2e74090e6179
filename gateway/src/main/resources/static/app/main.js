// The dashboard's entry: a hash router that mounts one screen at a time. Each screen module exports
// render(view, {params, query, signal}); the signal aborts its requests, streams and timers when the user leaves.
import { session } from './api.js';
import { fill, h, banner } from './ui.js';

const routes = [
  [/^\/signin$/, 'signin', () => import('./screens/signin.js')],
  [/^\/jobs$/, 'jobs', () => import('./screens/jobs.js')],
  [/^\/jobs\/([0-9a-f-]{36})$/, 'jobs', () => import('./screens/job.js'), ['id']],
  [/^\/new\/(merge|prune|fuse|evaluate)$/, 'new', () => import('./screens/new-job.js'), ['type']],
  [/^\/artifacts$/, 'artifacts', () => import('./screens/artifacts.js')],
  [/^\/artifacts\/([0-9a-f-]{36})$/, 'artifacts', () => import('./screens/artifact.js'), ['id']],
  [/^\/upload$/, 'upload', () => import('./screens/upload.js')],
];

let current = null;

async function route() {
  const hash = location.hash.replace(/^#/, '') || '/jobs';
  const [path, qs] = hash.split('?');
  const query = new URLSearchParams(qs || '');
  if (!session.key && path !== '/signin') {
    location.replace('#/signin' + (path !== '/jobs' ? '?back=' + encodeURIComponent('#' + hash) : ''));
    return;
  }
  if (current) current.abort();
  current = new AbortController();
  const signal = current.signal;
  header(path);
  const view = document.getElementById('view');
  for (const [re, nav, load, names] of routes) {
    const m = path.match(re);
    if (!m) continue;
    const params = {};
    (names || []).forEach((n, i) => { params[n] = m[i + 1]; });
    document.querySelectorAll('#nav a').forEach(a => { if (a.dataset.nav !== nav) a.removeAttribute('aria-current'); else a.setAttribute('aria-current', 'page'); });
    try {
      const screen = await load();
      if (signal.aborted) return;
      fill(view);
      await screen.render(view, { params, query, signal });
      // keyboard users start at the new screen, not at a link that no longer exists
      if (!view.contains(document.activeElement)) view.focus({ preventScroll: true });
    } catch (e) {
      if (e.name === 'AbortError' || signal.aborted) return;
      console.error(e);
      fill(view, h('div.alert', { role: 'alert' }, e.errors ? e.errors.join('\n') : String(e.message || e)));
    }
    return;
  }
  fill(view, h('h1', 'Not found'), h('p', h('a', { href: '#/jobs' }, 'Back to the jobs')));
}

function header(path) {
  const signedIn = !!session.key && path !== '/signin';
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
  const me = session.me;
  document.getElementById('who').textContent = signedIn && me
    ? 'tenant ' + me.tenantName + (me.admin ? ' (admin key)' : '') : '';
}

document.getElementById('sign-out').addEventListener('click', () => {
  session.signOut();
  banner('info', 'Signed out. The key was removed from this browser.', 4000);
  location.hash = '#/signin';
});
// work of a screen the user left is aborted on purpose: that is not an error
window.addEventListener('unhandledrejection', e => { if (e.reason && e.reason.name === 'AbortError') e.preventDefault(); });
window.addEventListener('hashchange', route);
route();
