// The merge form: mergekit's YAML with artifact names or ids as models.
import { defined, split, MORE } from './form.js';

const NAME = { pattern: '[A-Za-z0-9][A-Za-z0-9._/-]{0,199}', patternHint: 'letters, digits, ".", "_", "/" and "-" (up to 200), starting with a letter or digit' };

export default {
  type: 'merge',
  title: 'Merge',
  endpoint: '/api/v1/merges',
  submitLabel: 'Start the merge',
  intro: 'Combine models of one architecture in parameter space. The config is mergekit\'s YAML as is; its models are '
    + 'artifact names or ids. Methods: linear, slerp, nuslerp, multislerp, karcher, task_arithmetic, ties, dare_linear, '
    + 'dare_ties, breadcrumbs, breadcrumbs_ties, della, della_linear, model_stock, sce, nearswap, arcee_fusion, passthrough, varm.',
  fields: [
    { name: 'output', kind: 'text', label: 'Name of the merged model', required: true, ...NAME, hint: 'the MODEL artifact to publish' },
    { name: 'configYaml', kind: 'textarea', label: 'mergekit config (YAML)', required: true, rows: 12,
      hint: 'merge_method, base_model, models (each with parameters such as weight, density), dtype' },
    { name: 'seed', kind: 'number', integer: true, label: 'Seed', hint: 'for the random methods (dare_*, della*, arcee_fusion); default 0' },
    MORE,
  ],
  defaults: {
    configYaml: 'merge_method: linear\nmodels:\n  - model: model-a\n    parameters: {weight: 0.5}\n  - model: model-b\n    parameters: {weight: 0.5}\ndtype: bfloat16\n',
  },
  aliases: { config: 'configYaml', models: 'configYaml', merge_method: 'configYaml' },
  toSpec: v => Object.assign(defined({ output: v.output, configYaml: v.configYaml, seed: v.seed }), v.more || {}),
  fromSpec: spec => {
    const values = split(spec, ['output', 'configYaml', 'seed']);
    if (values.more && values.more.config && !spec.configYaml) {
      // a job submitted with the JSON config: keep it as JSON in "more", the YAML box stays empty
      values.configYaml = '';
    }
    return values;
  },
};
