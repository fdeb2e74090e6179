// The fusion form: SFT on the source-best responses, then WRPO (or DPO, IPO, SimPO) on preference data.
import { defined, split, MORE } from './form.js';

const KNOWN = ['target', 'data', 'evalData', 'name', 'stages', 'loss', 'epochs', 'lr', 'sftLr', 'beta', 'alphaEnd',
  'batchSize', 'gradAccum', 'maxLength', 'maxPromptLength', 'checkpointEvery'];

export default {
  type: 'fuse',
  title: 'Fuse',
  endpoint: '/api/v1/fusions',
  submitLabel: 'Start the fusion',
  intro: 'Transfer the strengths of source models into a target by weighted-reward preference optimisation. Empty fields '
    + 'take the WRPO paper\'s defaults (lr 3e-7, beta 0.01, alphaEnd 0.1, batch 2 x 64 accumulation, maxLength 2048).',
  fields: [
    { name: 'target', kind: 'artifact', artifact: ['MODEL'], label: 'Target model', required: true },
    { name: 'data', kind: 'artifact', artifact: ['DATASET'], label: 'Preference data', required: true,
      hint: 'one JSONL file: prompt, chosen (source-best, then target-best), rejected' },
    { name: 'evalData', kind: 'artifact', artifact: ['DATASET'], label: 'Held-out preference data', hint: 'optional: eval_ metrics' },
    { name: 'name', kind: 'text', label: 'Name of the trained model', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._/-]{0,199}',
      patternHint: 'letters, digits, ".", "_", "/" and "-" (up to 200), starting with a letter or digit', hint: 'also publishes the REPORT "{name}-report"' },
    { name: 'stages', kind: 'checks', label: 'Stages', options: ['sft', 'wrpo'], required: true },
    { name: 'loss', kind: 'select', label: 'Preference loss', options: ['wrpo', 'dpo', 'dpo_multi', 'ipo', 'simpo'] },
    { name: 'epochs', kind: 'number', integer: true, min: 1, label: 'Epochs (preference stage)' },
    { name: 'lr', kind: 'number', min: 0, label: 'Learning rate (preference stage)', hint: 'greater than 0, e.g. 3e-7' },
    { name: 'sftLr', kind: 'number', min: 0, label: 'Learning rate (SFT)', hint: 'default 7e-6' },
    { name: 'beta', kind: 'number', min: 0, label: 'Beta', hint: 'greater than 0; default 0.01' },
    { name: 'alphaEnd', kind: 'number', min: 0, max: 1, label: 'Alpha at the end', hint: 'the fusion coefficient grows from 0 to it; 0..1' },
    { name: 'batchSize', kind: 'number', integer: true, min: 1, label: 'Batch size' },
    { name: 'gradAccum', kind: 'number', integer: true, min: 1, label: 'Gradient accumulation steps' },
    { name: 'maxLength', kind: 'number', integer: true, min: 2, label: 'Max length (tokens)', hint: 'at most the target\'s max_position_embeddings' },
    { name: 'maxPromptLength', kind: 'number', integer: true, min: 1, label: 'Max prompt length (tokens)', hint: 'less than max length' },
    { name: 'checkpointEvery', kind: 'number', integer: true, min: 1, label: 'Checkpoint every N steps' },
    MORE,
  ],
  defaults: { stages: ['sft', 'wrpo'], loss: 'wrpo' },
  toSpec: v => Object.assign(defined(Object.fromEntries(KNOWN.map(k => [k, v[k]]))), v.more || {}),
  fromSpec: spec => split(spec, KNOWN),
};
