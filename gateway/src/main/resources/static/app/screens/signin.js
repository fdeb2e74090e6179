// Sign-in: the API key is checked with GET /api/v1/me and kept in this browser until sign-out.
import { session, ApiError, OfflineError } from '../api.js';
import { h, fill } from '../ui.js';

// (a plain fetch, not api(): a wrong key must not bounce to this very screen)
export async function render(view, { query }) {
  const problem = h('div.problem', { id: 'key-problem', role: 'alert' });
  const input = h('input', { id: 'api-key', name: 'key', type: 'password', autocomplete: 'current-password', required: true,
    placeholder: 'amk_…', 'aria-describedby': 'key-hint key-problem' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form.card.signin', { novalidate: true },
    h('h1', 'Sign in'),
    query.get('expired') ? h('div.alert', { role: 'alert' }, 'The server did not accept the API key (unknown or revoked). Sign in again.') : null,
    h('div.field', h('label', { for: 'api-key' }, 'API key'), input,
      h('div.hint', { id: 'key-hint' }, '`amalgam up` prints the admin key once and saves it to amalgam-data/api-key; '
        + 'an admin makes keys for other tenants. The key stays in this browser until you sign out.'), problem),
    h('div.row', button));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const key = input.value.trim();
    fill(problem);
    form.querySelector('.field').classList.remove('invalid');
    if (!key) {
      fill(problem, 'Enter an API key.');
      form.querySelector('.field').classList.add('invalid');
      input.focus();
      return;
    }
    button.disabled = true;
    try {
      const r = await fetch('/api/v1/me', { headers: { Authorization: 'Bearer ' + key, Accept: 'application/json' } });
      if (r.status === 401) throw new ApiError(401, { detail: 'The server does not know this key (or it was revoked).' });
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null), r.headers.get('Retry-After'));
      session.signIn(key, await r.json());
      const back = query.get('back');
      location.hash = back && back.startsWith('#/') && !back.startsWith('#/signin') ? back : '#/jobs';
    } catch (err) {
      form.querySelector('.field').classList.add('invalid');
      fill(problem, err instanceof TypeError || err instanceof OfflineError ? 'The server is unreachable; try again when it is back.'
        : err.status === 429 ? 'Too many requests; retry in ' + (err.retryAfter || 5) + ' s.' : err.message);
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  fill(view, form);
  input.focus();
}
