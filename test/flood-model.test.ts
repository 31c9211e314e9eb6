// The model behind `modelDivergence`: pod addresses depend on the allocation history and are
// compared as placeholders; everything else, service backends included, is compared exactly.
import test from 'ava';
import type { Value } from '../src/api/index.js';
import { FloodGenerator } from '../src/flood/generator.js';
import { builtinModel, compareWithModel, normaliseValues } from '../src/flood/model.js';

function floodModel(): Map<string, Value> {
  const g = new FloodGenerator({ seed: 1, synthetic: false, maxPods: 300 }, { finished() {} });
  for (let i = 0; i < 2000; i++) g.next(i);
  return builtinModel(g.kubeState, g.externalConfig);
}

/** The model's normalized values with `edit` applied to the JSON of the keys under `prefix`. */
function edited(model: Map<string, Value>, prefix: string, edit: (json: string) => string): Map<string, Value> {
  let changed = 0;
  const out = new Map<string, Value>();
  for (const [k, v] of normaliseValues(model)) {
    const json = JSON.stringify(v);
    const after = k.startsWith(prefix) ? edit(json) : json;
    if (after !== json) changed++;
    out.set(k, JSON.parse(after) as Value);
  }
  if (changed === 0) throw new Error(`no value under ${prefix} changed`);
  return out;
}

test('F3: the model check sees wrong service backends (DNAT local addresses are not masked as pod addresses)', (t) => {
  const model = floodModel();
  const desired = edited(model, 'config/vpp.nat/v2/dnat44/', (j) => j.replace(/"localIp":"10\.1\.\d+\.\d+"/g, '"localIp":"10.1.9.9"'));
  const d = compareWithModel(model, desired, true);
  t.true(d.total > 0);
  t.is(d.differing, d.total);
});

test('F3: pod interface addresses are still compared as placeholders (they depend on the allocation history)', (t) => {
  const model = floodModel();
  const desired = edited(model, 'config/vpp/v2/interfaces/tap-', (j) => j.replace(/"10\.1\.(\d+)\.(\d+)\/32"/g, '"10.1.$2.$1/32"'));
  t.is(compareWithModel(model, desired, true).total, 0);
});
