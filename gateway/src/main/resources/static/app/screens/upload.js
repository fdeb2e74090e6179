// Upload and import: a single file (a JSONL dataset, a report) as multipart, a model directory as a tar stream
// made in the browser, or an import of a path under the server's import root.
import { api, ApiError } from '../api.js';
import { h, fill, size, KINDS } from '../ui.js';
import { tarBlob } from '../tar.js';
import { fieldOfProblem } from '../forms/form.js';

function field(id, label, control, hint) {
  return h('div.field', { 'data-field': id }, h('label', { for: id }, label), control, h('div.hint', hint || ''), h('div.problem', { id: id + '-problem' }));
}

function kindSelect(id, value) {
  return h('select', { id, name: 'kind' }, KINDS.map(k => h('option', { value: k, selected: k === value }, k)));
}

/** Shows a request's problems next to the fields of a small form (their ids are prefix + field name). */
function showProblems(form, prefix, err, top) {
  form.querySelectorAll('.problem').forEach(p => fill(p));
  form.querySelectorAll('.field').forEach(f => f.classList.remove('invalid'));
  const left = [];
  for (const p of err instanceof ApiError ? err.errors : [err.message]) {
    const name = fieldOfProblem(p, ['kind', 'name', 'path', 'file', 'files']);
    const box = name && form.querySelector('#' + prefix + name + '-problem');
    if (box) { box.textContent = p; box.closest('.field').classList.add('invalid'); } else left.push(p);
  }
  fill(top, left.length || !(err instanceof ApiError) ? h('div.alert', { role: 'alert' }, left.join('\n') || err.message) : null);
}

export async function render(view, { signal }) {
  fill(view, h('h1', 'Upload or import'), h('div.grid.two', uploadFile(signal), uploadDirectory(signal)), importForm(signal));
}

function done(a) {
  return h('div.alert.ok', { role: 'status' }, 'Created ', h('a', { href: '#/artifacts/' + a.id }, a.name), ' (' + a.kind + ', ' + size(a.sizeBytes) + ').');
}

function uploadFile(signal) {
  const file = h('input', { id: 'up-file', type: 'file', required: true });
  const name = h('input', { id: 'up-name', type: 'text', autocomplete: 'off', required: true });
  const top = h('div');
  const button = h('button', { type: 'submit' }, 'Upload file');
  const form = h('form.card#upload-file', { novalidate: true }, h('h2', 'A file'), top,
    field('up-file', 'File', file, 'a JSONL dataset or a report'),
    field('up-kind', 'Kind', kindSelect('up-kind', 'DATASET')),
    field('up-name', 'Name', name, 'the artifact name; defaults to the file name without extension'), h('div.row', button));
  file.addEventListener('change', () => { if (!name.value && file.files[0]) name.value = file.files[0].name.replace(/\.[^.]+$/, ''); });
  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (!file.files[0]) return showProblems(form, 'up-', new ApiError(422, { errors: ['file: choose a file'] }), top);
    if (!name.value.trim()) return showProblems(form, 'up-', new ApiError(422, { errors: ['name: required'] }), top);
    const body = new FormData();
    body.append('file', file.files[0]);
    const q = new URLSearchParams({ kind: form.querySelector('#up-kind').value, name: name.value.trim() });
    button.disabled = true;
    try {
      const a = await api('/api/v1/artifacts?' + q, { method: 'POST', body, signal });
      showProblems(form, 'up-', { message: '' }, top);
      fill(top, done(a));
    } catch (err) { showProblems(form, 'up-', err, top); } finally { button.disabled = false; }
  });
  return form;
}

function uploadDirectory(signal) {
  const dir = h('input', { id: 'dir-files', type: 'file', webkitdirectory: true, multiple: true });
  const name = h('input', { id: 'dir-name', type: 'text', autocomplete: 'off' });
  const info = h('div.hint');
  const top = h('div');
  const button = h('button', { type: 'submit' }, 'Upload directory');
  const form = h('form.card#upload-dir', { novalidate: true }, h('h2', 'A model directory'), top,
    field('dir-files', 'Directory', dir, 'a Hugging Face model directory (config.json, *.safetensors, tokenizer files); sent as a tar stream'),
    info, field('dir-kind', 'Kind', kindSelect('dir-kind', 'MODEL')), field('dir-name', 'Name', name), h('div.row', button));
  const entries = () => [...dir.files].map(f => ({ file: f, path: (f.webkitRelativePath || f.name).split('/').slice(1).join('/') || f.name }));
  dir.addEventListener('change', () => {
    const files = [...dir.files];
    if (!files.length) return;
    if (!name.value) name.value = (files[0].webkitRelativePath || '').split('/')[0];
    info.textContent = files.length + ' files, ' + size(files.reduce((n, f) => n + f.size, 0));
  });
  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (!dir.files.length) return showProblems(form, 'dir-', new ApiError(422, { errors: ['files: choose a directory'] }), top);
    if (!name.value.trim()) return showProblems(form, 'dir-', new ApiError(422, { errors: ['name: required'] }), top);
    const q = new URLSearchParams({ kind: form.querySelector('#dir-kind').value, name: name.value.trim() });
    button.disabled = true;
    try {
      const a = await api('/api/v1/artifacts?' + q, { method: 'POST', body: tarBlob(entries()), headers: { 'Content-Type': 'application/x-tar' }, signal });
      showProblems(form, 'dir-', { message: '' }, top);
      fill(top, done(a));
    } catch (err) { showProblems(form, 'dir-', err, top); } finally { button.disabled = false; }
  });
  return form;
}

function importForm(signal) {
  const path = h('input', { id: 'imp-path', type: 'text', autocomplete: 'off', placeholder: 'models/llama-a or data/calib.jsonl' });
  const name = h('input', { id: 'imp-name', type: 'text', autocomplete: 'off' });
  const top = h('div');
  const button = h('button', { type: 'submit' }, 'Import');
  const form = h('form.card#import', { novalidate: true }, h('h2', 'Import from the server'), top,
    h('p.muted.small', 'A model directory or dataset file that lies under the server\'s import root (amalgam up: ./amalgam-import); it is copied into the store.'),
    field('imp-path', 'Path under the import root', path), field('imp-kind', 'Kind', kindSelect('imp-kind', 'MODEL')),
    field('imp-name', 'Name', name, 'defaults to the last part of the path'), h('div.row', button));
  path.addEventListener('change', () => { if (!name.value) name.value = path.value.split('/').filter(Boolean).pop().replace(/\.jsonl?$/, ''); });
  form.addEventListener('submit', async e => {
    e.preventDefault();
    button.disabled = true;
    try {
      const a = await api('/api/v1/artifacts/import', { method: 'POST', signal,
        body: { kind: form.querySelector('#imp-kind').value, name: name.value.trim(), path: path.value.trim() } });
      showProblems(form, 'imp-', { message: '' }, top);
      fill(top, done(a));
    } catch (err) { showProblems(form, 'imp-', err, top); } finally { button.disabled = false; }
  });
  return form;
}
