// The evaluation form: perplexity on a dataset, zero-shot multiple-choice tasks (lm-eval style), or both.
import { defined, split, MORE } from './form.js';

const KNOWN = ['model', 'dataset', 'seqLen', 'tasks', 'batchSize'];

export default {
  type: 'evaluate',
  title: 'Evaluate',
  endpoint: '/api/v1/evaluations',
  submitLabel: 'Start the evaluation',
  intro: 'Perplexity of a model on a JSONL dataset, multiple-choice tasks scored as lm-evaluation-harness 0.4 scores them '
    + '(acc, acc_norm), or both: give a dataset, tasks, or both.',
  fields: [
    { name: 'model', kind: 'artifact', artifact: ['MODEL'], label: 'Model', required: true },
    { name: 'dataset', kind: 'artifact', artifact: ['DATASET'], label: 'Perplexity dataset', hint: 'omit for tasks only' },
    { name: 'seqLen', kind: 'number', integer: true, min: 2, max: 131072, label: 'Sequence length', hint: 'default 2048' },
    { name: 'tasks', kind: 'json', array: true, label: 'Tasks (JSON)', rows: 5,
      placeholder: '[{"name": "piqa", "dataset": "piqa-validation", "format": "piqa", "limit": 200}]',
      hint: 'formats: generic, piqa, winogrande, hellaswag, arc_easy, arc_challenge' },
    { name: 'batchSize', kind: 'number', integer: true, min: 1, max: 1024, label: 'Batch size', hint: 'choices per forward; default 16' },
    MORE,
  ],
  toSpec: v => {
    if (v.dataset === undefined && v.tasks === undefined && !(v.more && (v.more.dataset || v.more.tasks))) {
      throw new Error('Give a perplexity dataset, tasks, or both.');
    }
    return Object.assign(defined(Object.fromEntries(KNOWN.map(k => [k, v[k]]))), v.more || {});
  },
  fromSpec: spec => split(spec, KNOWN),
};
