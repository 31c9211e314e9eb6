import test from 'ava';
import { findNonPlain } from '../src/index.js';

test('C19: findNonPlain names the first part of a value that is not plain serializable data', (t) => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  const cases: Array<[unknown, string | null]> = [
    [{ name: 'x', ips: ['10.0.0.1/32'], n: 1, on: true, none: null, bytes: new Uint8Array(2), nested: { deep: [{ ok: 'y' }] } }, null],
    [Object.assign(Object.create(null), { a: 1 }), null],
    [{ rules: [{ a: 1 }, { hook: () => 1 }] }, 'rules[1].hook (function)'],
    [{ a: { b: 10n } }, 'a.b (bigint)'],
    [{ a: undefined }, 'a (undefined)'],
    [{ a: Symbol('s') }, 'a (symbol)'],
    [{ n: Number.NaN }, 'n'],
    [{ when: new Date(0) }, 'when (a Date instance)'],
    [{ m: new Map() }, 'm (a Map instance)'],
  ];
  for (const [value, path] of cases) t.is(findNonPlain(value), path, JSON.stringify(path));
  t.regex(findNonPlain(cyclic) ?? '', /self\.self.*nested too deep or cyclic/);
});
