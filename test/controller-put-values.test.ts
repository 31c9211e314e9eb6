// EventTransaction.put() checks that values are plain data; values frozen throughout are checked once
// and remembered. These tests pin that remembering never lets a value that can still change through.
import test from 'ava';
import type { Value } from '../src/api/index.js';
import { EventTransaction } from '../src/controller/event-transaction.js';

const code = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

test('C7: a value frozen throughout is accepted on every put, in every transaction', (t) => {
  const value = Object.freeze({ mtu: 1500, ips: Object.freeze(['10.0.0.1']), nested: Object.freeze({ on: true }) });
  for (let i = 0; i < 3; i++) {
    const txn = new EventTransaction(true);
    txn.put('k', value);
    t.is(txn.get('k'), value);
  }
});

test('C7: a frozen value with a mutable nested object is checked again on every put', (t) => {
  const inner: Record<string, unknown> = { on: true };
  const value = Object.freeze({ inner });
  new EventTransaction(true).put('k', value as Value);
  inner.hook = () => undefined;
  t.is(code(() => new EventTransaction(true).put('k', value as Value)), 'ERR_INVALID_VALUE');
});

test('C7: a frozen value with a getter is checked again on every put', (t) => {
  let calls = 0;
  const value = Object.freeze(
    Object.defineProperty({}, 'x', {
      enumerable: true,
      get: () => (++calls === 1 ? 1 : () => undefined),
    }),
  );
  new EventTransaction(true).put('k', value as Value);
  t.is(code(() => new EventTransaction(true).put('k', value as Value)), 'ERR_INVALID_VALUE');
});

test('C7: a value that is not plain is refused even when frozen', (t) => {
  const value = Object.freeze({ at: new Date(0) });
  t.is(code(() => new EventTransaction(true).put('k', value as unknown as Value)), 'ERR_INVALID_VALUE');
  t.is(code(() => new EventTransaction(true).put('k', value as unknown as Value)), 'ERR_INVALID_VALUE');
});

test('C7: a frozen part shared by many values is checked once; the rest of each value is still checked', (t) => {
  const rule = Object.freeze({ action: 'PERMIT', ipRule: Object.freeze({ ip: Object.freeze({ sourceNetwork: '10.0.0.0/8' }) }) });
  for (let i = 0; i < 3; i++) new EventTransaction(true).put(`k${i}`, { name: `acl${i}`, rules: [rule] });
  t.is(code(() => new EventTransaction(true).put('bad', { rules: [rule], hook: (() => undefined) as unknown as Value })), 'ERR_INVALID_VALUE');
  t.is(code(() => new EventTransaction(true).put('bad', { rules: [rule, new Date(0) as unknown as Value] })), 'ERR_INVALID_VALUE');
});

test('C7: a frozen value that refers to itself is refused, not walked forever', (t) => {
  const a: Record<string, unknown> = { n: 1 };
  const b = { a };
  a['b'] = b;
  Object.freeze(a);
  Object.freeze(b);
  for (let i = 0; i < 2; i++) t.is(code(() => new EventTransaction(true).put('k', a as Value)), 'ERR_INVALID_VALUE');
});
