// The pruning form: BlockPruner and the layer-pruning baselines.
import { defined, split, MORE } from './form.js';

const KNOWN = ['model', 'dataset', 'evalDataset', 'name', 'method', 'blocks', 'targetRatio', 'candidates', 'samples', 'seqLen',
  'batchSize', 'seed', 'output'];

export default {
  type: 'prune',
  title: 'Prune',
  endpoint: '/api/v1/prunings',
  submitLabel: 'Start the pruning',
  intro: 'Remove whole attention or MLP blocks, chosen by a greedy perplexity search on the calibration data (BlockPruner), '
    + 'or with a baseline. Give blocks or a target ratio.',
  fields: [
    { name: 'model', kind: 'artifact', artifact: ['MODEL'], label: 'Model', required: true, hint: 'MODEL artifact name or id' },
    { name: 'dataset', kind: 'artifact', artifact: ['DATASET'], label: 'Calibration dataset', required: true,
      hint: 'one JSONL file of {"text": ...} rows' },
    { name: 'evalDataset', kind: 'artifact', artifact: ['DATASET'], label: 'Evaluation dataset', hint: 'optional: perplexity before and after' },
    { name: 'name', kind: 'text', label: 'Name of the pruned model', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._/-]{0,199}',
      patternHint: 'letters, digits, ".", "_", "/" and "-" (up to 200), starting with a letter or digit', hint: 'also publishes the REPORT "{name}-report"' },
    { name: 'method', kind: 'select', label: 'Method', options: ['blockpruner', 'layer_greedy', 'shortgpt', 'relative_magnitude', 'oneshot_block'] },
    { name: 'blocks', kind: 'number', integer: true, min: 1, label: 'Blocks to remove', hint: 'at most the model\'s blocks (2 per layer)' },
    { name: 'targetRatio', kind: 'number', min: 0, max: 1, label: 'Target parameter ratio removed', hint: 'instead of blocks: 0..1' },
    { name: 'candidates', kind: 'select', label: 'Candidate blocks', options: ['mix', 'attention', 'mlp'] },
    { name: 'samples', kind: 'number', integer: true, min: 1, max: 65536, label: 'Calibration samples', hint: 'default 256' },
    { name: 'seqLen', kind: 'number', integer: true, min: 2, max: 131072, label: 'Sequence length', hint: 'default 2048; at most the model\'s max_position_embeddings' },
    { name: 'batchSize', kind: 'number', integer: true, min: 1, max: 1024, label: 'Batch size', hint: 'default 8' },
    { name: 'seed', kind: 'number', integer: true, label: 'Seed', hint: 'default 42' },
    { name: 'output', kind: 'select', label: 'Output form', optional: 'default (masked)', options: ['masked', 'compact'] },
    MORE,
  ],
  defaults: { method: 'blockpruner', blocks: 2, candidates: 'mix' },
  toSpec: v => Object.assign(defined(Object.fromEntries(KNOWN.map(k => [k, v[k]]))), v.more || {}),
  fromSpec: spec => split(spec, KNOWN),
};
