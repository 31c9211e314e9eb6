// Unit tests of the pod-network handler and the AddPod/DeletePod events, driven through a recording
// transaction double (test/helpers).
import test from 'ava';
import {
  DBResync,
  EventMethodType,
  KubeStateChange,
  UpdateDirectionType,
  UpdateTransactionType,
  type Value,
} from '../src/api/index.js';
import { AddPod, DeletePod, InvalidKubeValueError, builtinHandlers, podInterfaceName } from '../src/handlers/index.js';
import { k8sKey, podValue } from '../src/flood/k8s-values.js';
import { drive, driveResync, kubeStateWith } from './helpers/flood-recording-txn.js';

test('C5: AddPod is blocking, RevertOnFailure, Forward; DeletePod is blocking, BestEffortIgnoreErrors, Reverse', async (t) => {
  const a = new AddPod({ namespace: 'ns1', name: 'web-0' });
  const d = new DeletePod({ namespace: 'ns1', name: 'web-0' });
  t.true(a.isBlocking());
  t.true(d.isBlocking());
  t.is(a.method(), EventMethodType.Update);
  t.is(a.transactionType(), UpdateTransactionType.RevertOnFailure);
  t.is(a.direction(), UpdateDirectionType.Forward);
  t.is(d.transactionType(), UpdateTransactionType.BestEffortIgnoreErrors);
  t.is(d.direction(), UpdateDirectionType.Reverse);
  t.is(a.toString(), 'Add Pod (ns1/web-0)');
  a.done(null);
  await t.notThrowsAsync(a.wait());
  d.done(new Error('boom'));
  await t.throwsAsync(d.wait(), { message: 'boom' });
});

test('C7: AddPod rejects a malformed pod name with a TypeError naming the field', (t) => {
  t.throws(() => new AddPod({ namespace: 'ns', name: '' }), { instanceOf: TypeError, message: /pod\.name/ });
  t.throws(() => new AddPod({ namespace: 'Bad_NS', name: 'x' }), { instanceOf: TypeError, message: /pod\.namespace/ });
  t.throws(() => new DeletePod(null as never), { instanceOf: TypeError, message: /pod must be/ });
});

test('C7: AddPod connects the pod: TAP interface with its /32, route via the TAP, static ARP', (t) => {
  const handlers = builtinHandlers({ podSubnet: '10.7.0.0/16' });
  const state = new Map<string, Value>();
  const ev = new AddPod({ namespace: 'shop', name: 'cart-1' });
  const r = drive(handlers, ev, state);
  t.is(r.error, null);
  t.deepEqual(ev.result, { ipAddress: '10.7.0.2', interfaceName: 'tap-shop.cart-1' });
  t.deepEqual(state.get('config/vpp/v2/interfaces/tap-shop.cart-1'), {
    name: 'tap-shop.cart-1',
    type: 'TAP',
    enabled: true,
    ipAddresses: ['10.7.0.2/32'],
    vrf: 0,
  });
  t.deepEqual(state.get('config/vpp/v2/route/if/tap-shop.cart-1/vrf/0/dst/10.7.0.2/32/gw/10.7.0.2'), {
    vrfId: 0,
    dstNetwork: '10.7.0.2/32',
    nextHopAddr: '10.7.0.2',
    outgoingInterface: 'tap-shop.cart-1',
  });
  const arp = state.get('config/vpp/v2/arp/tap-shop.cart-1/10.7.0.2');
  t.like(arp, { interface: 'tap-shop.cart-1', ipAddress: '10.7.0.2', static: true });
  t.regex(String(arp?.['physAddress']), /^02:fe(:[0-9a-f]{2}){4}$/);
  t.is(state.size, 3);
  t.true(r.descriptions.some((d) => d.includes('connected shop/cart-1')));
  // A second AddPod for the same pod is idempotent and answers with the same address.
  const again = new AddPod({ namespace: 'shop', name: 'cart-1' });
  t.is(drive(handlers, again, state).changes.size, 0);
  t.deepEqual(again.result, ev.result);
});

test('C5: DeletePod removes the pod config (reverse order) and releases the address', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, new AddPod({ namespace: 'a', name: 'p' }), state);
  const r = drive(handlers, new DeletePod({ namespace: 'a', name: 'p' }), state);
  t.is(r.error, null);
  t.is(state.size, 0);
  t.deepEqual([...r.changes.values()], [null, null, null]);
  t.is(handlers[0].allocated, 0);
  t.is(drive(handlers, new DeletePod({ namespace: 'a', name: 'p' }), state).changes.size, 0, 'deleting again is a no-op');
});

test('C7: KubeStateChange for a pod connects, relabels and disconnects it', (t) => {
  const handlers = builtinHandlers();
  const [, pods] = handlers;
  const state = new Map<string, Value>();
  const key = k8sKey('pod', 'ns', 'db');
  drive(handlers, new KubeStateChange({ key, resource: 'pod', newValue: podValue('ns', 'db', { app: 'db' }) }), state);
  t.is(state.size, 3);
  t.is(pods.pods.get('ns/db')?.labels.get('app'), 'db');
  const r = drive(handlers, new KubeStateChange({ key, resource: 'pod', prevValue: podValue('ns', 'db', { app: 'db' }), newValue: podValue('ns', 'db', { app: 'x' }) }), state);
  t.is(r.changes.size, 0, 'relabelling changes no dataplane key');
  t.is(pods.pods.get('ns/db')?.labels.get('app'), 'x');
  drive(handlers, new KubeStateChange({ key, resource: 'pod', prevValue: null, newValue: null }), state);
  t.is(state.size, 0, 'a delete without a value is resolved from the key');
});

test('C7: a malformed pod value fails the event with InvalidKubeValueError', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  const r = drive(handlers, new KubeStateChange({ key: 'k8s/pod/x', resource: 'pod', newValue: { namespace: 'ns' } }), state);
  t.true(r.error instanceof InvalidKubeValueError);
  t.is((r.error as InvalidKubeValueError).code, 'ERR_INVALID_KUBE_VALUE');
  t.is(state.size, 0);
});

test('C6: resync rebuilds the pods from the Kubernetes state, skipping malformed values', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, new AddPod({ namespace: 'old', name: 'gone' }), state);
  const ks = kubeStateWith({
    pod: [
      [k8sKey('pod', 'ns', 'a'), podValue('ns', 'a')],
      [k8sKey('pod', 'ns', 'b'), podValue('ns', 'b')],
      ['k8s/pod/broken', { labels: 'nope' }],
    ],
  });
  driveResync(handlers, new DBResync({ kubeState: ks }), ks, state);
  t.deepEqual([...state.keys()].filter((k) => k.includes('/interfaces/')).sort(), [
    'config/vpp/v2/interfaces/tap-ns.a',
    'config/vpp/v2/interfaces/tap-ns.b',
  ]);
  t.is(state.size, 6);
  t.is(handlers[1].pods.size, 2);
});

test('C7: pods whose names are too long for VPP get distinct interfaces: deleting one never removes another (no short-hash clash)', (t) => {
  // These two ids once hashed to one 32-bit name.
  const x = 'x'.repeat(60);
  const a = { namespace: 'ns', name: `${x}-22398` };
  const b = { namespace: 'ns', name: `${x}-158680` };
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  for (const p of [a, b]) t.is(drive(handlers, new AddPod(p), state).error, null);
  const names = [a, b].map((p) => podInterfaceName(`${p.namespace}/${p.name}`));
  t.not(names[0], names[1]);
  for (const n of names) t.true(n.length <= 63 && state.has(`config/vpp/v2/interfaces/${n}`), n);
  t.is(drive(handlers, new DeletePod(b), state).error, null);
  t.true(state.has(`config/vpp/v2/interfaces/${names[0]}`), 'the other pod keeps its interface');
  t.false(state.has(`config/vpp/v2/interfaces/${names[1]}`));
  t.is(podInterfaceName('ns1/web-0'), 'tap-ns1.web-0', 'a name that fits stays readable');
});
