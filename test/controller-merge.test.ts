import test from 'ava';
import {
  DBResync,
  ExternalConfigChange,
  ExternalConfigResync,
  KubeStateChange,
  type KeyValuePairs,
} from '../src/api/index.js';
import { mergeValues, type ExternalConfigSource } from '../src/controller/index.js';
import { harness, tracked } from './helpers/controller-fixtures.js';

function source(name: string, snapshot: KeyValuePairs | (() => KeyValuePairs | Promise<KeyValuePairs>)): ExternalConfigSource {
  return { toString: () => name, getConfigSnapshot: typeof snapshot === 'function' ? snapshot : () => snapshot };
}

test('C10: mergeValues merges plain objects deeply, external wins, arrays replaced, inputs untouched', (t) => {
  const internal = { a: 1, nested: { x: 1, y: [1, 2], keep: true }, list: [1, 2, 3] };
  const external = { b: 2, nested: { x: 9, y: [7] }, list: [4] };
  const merged = mergeValues(internal, external);
  t.deepEqual(merged, { a: 1, b: 2, nested: { x: 9, y: [7], keep: true }, list: [4] });
  t.deepEqual(internal, { a: 1, nested: { x: 1, y: [1, 2], keep: true }, list: [1, 2, 3] });
  t.deepEqual(mergeValues(null, external), external);
  t.deepEqual(mergeValues(internal, null), internal);
  t.is(mergeValues(null, undefined), null);
});

test('C10: an own "__proto__" key of external config (as JSON.parse makes it) is merged as a key, never as the prototype', (t) => {
  const external = JSON.parse('{"__proto__": {"x": 1}, "b": 2}') as Record<string, unknown>;
  const merged = mergeValues({ a: 1 }, external) as Record<string, unknown>;
  t.is(Object.getPrototypeOf(merged), Object.prototype);
  t.deepEqual(Object.keys(merged), ['a', '__proto__', 'b']);
  t.deepEqual(Object.getOwnPropertyDescriptor(merged, '__proto__')?.value, { x: 1 });
  // Both sides own one: merged deeply like any other key.
  const both = mergeValues(JSON.parse('{"__proto__": {"y": 2}}') as Record<string, unknown>, external) as Record<string, unknown>;
  t.deepEqual(Object.getOwnPropertyDescriptor(both, '__proto__')?.value, { y: 2, x: 1 });
  t.is((merged as { x?: unknown }).x, undefined);
});

test('C10: a full resync merges every external key into the desired state, db first then extSources in order', async (t) => {
  const h = harness(['A'], {
    extSources: [
      source('first', new Map([['k/shared', { from: 'first', f: 1 }], ['k/only-first', { f: 1 }]])),
      source('second', new Map([['k/shared', { from: 'second' }], ['k/int', { ext: 'second' }]])),
    ],
  });
  h.handlers[0]!.onResync = (_e, _k, _c, txn) => {
    txn.put('k/int', { own: 1 });
    txn.put('k/db', { own: 1, from: 'internal' });
  };
  await h.controller.start();
  const r = tracked(new DBResync({ externalConfig: new Map([['k/db', { from: 'db' }], ['k/shared', { from: 'db' }]]) }));
  h.controller.pushEvent(r);
  t.is(await r.settled, null);
  const commit = h.scheduler.commits[0]!;
  t.is(commit.options.resync, 'full');
  t.true(commit.options.isStartup);
  t.deepEqual(Object.fromEntries(commit.values), {
    'k/int': { own: 1, ext: 'second' },
    'k/db': { own: 1, from: 'db' },
    'k/shared': { from: 'db' },
    'k/only-first': { f: 1 },
  });
  // C12: the internal config keeps the handlers' own values.
  t.deepEqual(h.controller.getConfig('k/db'), { own: 1, from: 'internal' });
  t.is(h.controller.getConfig('k/only-first'), undefined);
  await h.controller.close();
});

test('C10: an update merges each touched key with the first source that has it; deletes fall back to the external value', async (t) => {
  const h = harness(['A'], { extSources: [source('ext', new Map([['k/a', { ext: true }], ['k/gone', { ext: 'stays' }]]))] });
  h.handlers[0]!.onUpdate = (_e, txn) => {
    txn.put('k/a', { own: true });
    txn.put('k/b', { own: true });
    txn.delete('k/gone');
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(new KubeStateChange({ key: 'p', resource: 'pod', newValue: {} }));
  h.controller.pushEvent(ev);
  await ev.settled;
  t.deepEqual(Object.fromEntries(h.scheduler.commits.at(-1)!.values), {
    'k/a': { own: true, ext: true },
    'k/b': { own: true },
    'k/gone': { ext: 'stays' },
  });
  await h.controller.close();
});

test('C10: an ExternalConfigChange merges its keys with the transaction or the last committed internal value', async (t) => {
  const h = harness(['A']);
  h.handlers[0]!.onResync = (_e, _k, _c, txn) => txn.put('k/internal', { own: 1, shared: 'int' });
  h.handlers[0]!.onUpdate = (ev, txn) => {
    if (ev instanceof ExternalConfigChange && ev.updatedKVs.has('k/txn')) txn.put('k/txn', { fromTxn: true });
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(
    new ExternalConfigChange(
      'db',
      false,
      new Map([
        ['k/internal', { shared: 'ext' }],
        ['k/txn', { ext: 1 }],
        ['k/pure', { pure: 1 }],
      ]),
    ),
  );
  h.controller.pushEvent(ev);
  await ev.settled;
  t.deepEqual(Object.fromEntries(h.scheduler.commits.at(-1)!.values), {
    'k/internal': { own: 1, shared: 'ext' },
    'k/txn': { fromTxn: true, ext: 1 },
    'k/pure': { pure: 1 },
  });
  // Removing the external value leaves the internal one (or deletes a pure external key).
  const del = tracked(new ExternalConfigChange('db', false, new Map([['k/internal', null], ['k/pure', null]])));
  h.controller.pushEvent(del);
  await del.settled;
  t.deepEqual(Object.fromEntries(h.scheduler.commits.at(-1)!.values), { 'k/internal': { own: 1, shared: 'int' }, 'k/pure': null });
  await h.controller.close();
});

test('C6/C19: DBResync reloads extSources (a failing one is logged and kept); a change for an unknown source is applied', async (t) => {
  let calls = 0;
  const flaky = source('flaky', async () => {
    calls++;
    if (calls > 1) throw new Error('source down');
    return new Map([['k/f', { v: 1 }]]);
  });
  const h = harness(['A'], { extSources: [flaky] });
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  h.controller.pushEvent(new ExternalConfigChange('never-seen', false, new Map([['k/new', { n: 1 }]])));
  const second = tracked(new DBResync());
  h.controller.pushEvent(second);
  t.is(await second.settled, null);
  t.is(calls, 2);
  t.deepEqual(h.scheduler.commits.at(-1)!.values.get('k/f'), { v: 1 }, 'kept the previous snapshot');
  t.deepEqual(h.scheduler.commits[1]!.values.get('k/new'), { n: 1 });
  t.true(h.logger.entries.some((e) => e.level === 'warn' && e.msg.includes('flaky')));
  await h.controller.close();
});

test('C6: ExternalConfigResync replaces that source\'s snapshot (upstream resync)', async (t) => {
  const h = harness(['A'], { extSources: [source('ext', new Map([['k/old', { v: 1 }]]))] });
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(new ExternalConfigResync('ext', true, new Map([['k/new', { v: 2 }]])));
  h.controller.pushEvent(ev);
  await ev.wait();
  const commit = h.scheduler.commits.at(-1)!;
  t.is(commit.options.resync, 'upstream');
  t.falsy(commit.options.isStartup);
  t.deepEqual(Object.fromEntries(commit.values), { 'k/new': { v: 2 } });
  await h.controller.close();
});

test('C12: getConfig reads the current transaction first, then the internal config, and returns a deep copy', async (t) => {
  const h = harness(['A', 'B']);
  h.handlers[0]!.onResync = (_e, _k, _c, txn) => txn.put('k', { n: 1, deep: { v: [1] } });
  let seenInTxn: unknown;
  h.handlers[0]!.onUpdate = (_e, txn) => txn.put('k', { n: 2, deep: { v: [2] } });
  h.handlers[1]!.onUpdate = (_e, txn) => {
    seenInTxn = h.controller.getConfig('k');
    txn.delete('gone');
  };
  await h.controller.start();
  const r = tracked(new DBResync());
  h.controller.pushEvent(r);
  await r.settled;
  const copy = h.controller.getConfig('k') as { deep: { v: number[] } };
  t.deepEqual(copy, { n: 1, deep: { v: [1] } });
  copy.deep.v.push(99);
  t.deepEqual(h.controller.getConfig('k'), { n: 1, deep: { v: [1] } }, 'a deep copy');
  const ev = tracked(new KubeStateChange({ key: 'p', resource: 'pod', newValue: {} }));
  h.controller.pushEvent(ev);
  await ev.settled;
  t.deepEqual(seenInTxn, { n: 2, deep: { v: [2] } });
  t.deepEqual(h.controller.getConfig('k'), { n: 2, deep: { v: [2] } }, 'committed update kept');
  t.is(h.controller.getConfig('nothing'), undefined);
  await h.controller.close();
});

test('C12: after a BestEffort update whose commit failed, the internal config is still updated', async (t) => {
  const h = harness(['A']);
  h.handlers[0]!.onUpdate = (_e, txn) => txn.put('k', { v: 1 });
  h.scheduler.failKeys.add('k');
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(new KubeStateChange({ key: 'p', resource: 'pod', newValue: {} }));
  h.controller.pushEvent(ev);
  t.is((await ev.settled as { code?: string }).code, 'ERR_TRANSACTION');
  t.deepEqual(h.controller.getConfig('k'), { v: 1 });
  await h.controller.close();
});

test('C6 C17: with handlerTimeout, a source whose snapshot never comes is a failed load: the DBResync goes on and close() ends', async (t) => {
  let calls = 0;
  const hung = source('hung', () => {
    calls++;
    return calls === 1 ? Promise.resolve(new Map([['k/h', { from: 'hung' }]])) : new Promise<KeyValuePairs>(() => undefined);
  });
  const h = harness(['A'], { extSources: [hung], config: { handlerTimeout: 50 } });
  await h.controller.start();
  const first = tracked(new DBResync());
  h.controller.pushEvent(first);
  t.is(await first.settled, null);
  const second = tracked(new DBResync());
  h.controller.pushEvent(second);
  t.is(await second.settled, null, 'a source that fails to load is logged, not the event\'s error');
  t.deepEqual(h.scheduler.commits.at(-1)!.values.get('k/h'), { from: 'hung' }, 'the snapshot before is kept');
  t.true(h.logger.entries.some((e) => e.level === 'warn' && /failed to load external config from source hung/.test(e.msg)));
  const warn = h.logger.entries.find((e) => /source hung/.test(e.msg))!;
  t.regex(String((warn.obj as { err?: Error }).err?.message), /did not return its snapshot within 50 ms/);
  await h.controller.close();
});
