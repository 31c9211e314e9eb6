// Unit tests of the IPAM handler, driven through a recording transaction double (test/helpers).
import test from 'ava';
import { DBResync, KubeStateChange, type Value } from '../src/api/index.js';
import { AddPod, DeletePod, IpamExhaustedError, builtinHandlers } from '../src/handlers/index.js';
import { k8sKey, podValue } from '../src/flood/k8s-values.js';
import { drive, driveResync, kubeStateWith } from './helpers/flood-recording-txn.js';

const add = (name: string) => new AddPod({ namespace: 'default', name });
const del = (name: string) => new DeletePod({ namespace: 'default', name });

test('C7: IPAM allocates the lowest free address, skipping network and gateway', (t) => {
  const handlers = builtinHandlers({ podSubnet: '10.5.0.0/24' });
  const [ipam] = handlers;
  const state = new Map<string, Value>();
  drive(handlers, add('a'), state);
  drive(handlers, add('b'), state);
  t.is(ipam.getPodIP('default/a'), '10.5.0.2');
  t.is(ipam.getPodIP('default/b'), '10.5.0.3');
  drive(handlers, del('a'), state);
  t.is(ipam.getPodIP('default/a'), undefined);
  drive(handlers, add('c'), state);
  t.is(ipam.getPodIP('default/c'), '10.5.0.2', 'a released address is reused first');
  t.is(ipam.allocated, 2);
});

test('C7: IPAM is deterministic: the same events give the same addresses', (t) => {
  const run = () => {
    const handlers = builtinHandlers();
    const state = new Map<string, Value>();
    for (const n of ['x', 'y', 'z']) drive(handlers, add(n), state);
    drive(handlers, del('y'), state);
    drive(handlers, add('w'), state);
    return handlers[0].describeInternalData();
  };
  t.is(run(), run());
  t.regex(run(), /default\/w=10\.1\.0\.3/);
});

test('C8: a failed AddPod (RevertOnFailure) gives its address back through revert', (t) => {
  const handlers = builtinHandlers({ podSubnet: '10.5.0.0/24' });
  const [ipam, pods] = handlers;
  const state = new Map<string, Value>();
  const r = drive(handlers, add('a'), state, { failCommit: true });
  t.truthy(r.error);
  t.is(ipam.getPodIP('default/a'), undefined);
  t.is(pods.pods.size, 0);
  t.is(state.size, 0);
  drive(handlers, add('b'), state);
  t.is(ipam.getPodIP('default/b'), '10.5.0.2');
});

test('C6: IPAM resync keeps allocations of pods still present and frees the others', (t) => {
  const handlers = builtinHandlers({ podSubnet: '10.5.0.0/24' });
  const [ipam] = handlers;
  const state = new Map<string, Value>();
  for (const n of ['a', 'b', 'c']) drive(handlers, add(n), state);
  const ks = kubeStateWith({
    pod: [
      [k8sKey('pod', 'default', 'c'), podValue('default', 'c')],
      [k8sKey('pod', 'default', 'd'), podValue('default', 'd')],
    ],
  });
  driveResync(handlers, new DBResync({ kubeState: ks }), ks, state);
  t.is(ipam.getPodIP('default/c'), '10.5.0.4');
  t.is(ipam.getPodIP('default/d'), '10.5.0.2');
  t.is(ipam.getPodIP('default/a'), undefined);
});

test('C8: an exhausted subnet fails the event with IpamExhaustedError and changes nothing', (t) => {
  const handlers = builtinHandlers({ podSubnet: '10.5.0.0/29' }); // hosts .2 .. .6
  const state = new Map<string, Value>();
  for (const n of ['a', 'b', 'c', 'd', 'e']) t.is(drive(handlers, add(n), state).error, null);
  const before = new Map(state);
  const r = drive(handlers, add('f'), state);
  t.true(r.error instanceof IpamExhaustedError);
  t.is((r.error as IpamExhaustedError).code, 'ERR_IPAM_EXHAUSTED');
  t.deepEqual(state, before);
  const k = new KubeStateChange({ key: k8sKey('pod', 'default', 'g'), resource: 'pod', newValue: podValue('default', 'g') });
  t.true(drive(handlers, k, state).error instanceof IpamExhaustedError);
});

test('C6: builtinHandlers validates its options, naming the option', (t) => {
  t.throws(() => builtinHandlers({ podSubnet: 'nope' }), { instanceOf: TypeError, message: /options\.podSubnet.*'nope'/ });
  t.throws(() => builtinHandlers({ podSubnet: '10.1.0.1/16' }), { instanceOf: TypeError, message: /host bits/ });
  t.throws(() => builtinHandlers({ podSubnet: '10.0.0.0/30' }), { instanceOf: RangeError, message: /prefix length.*\/30/ });
  t.throws(() => builtinHandlers({ podSubnet: 42 as unknown as string }), { instanceOf: TypeError, message: /received number/ });
  t.throws(() => builtinHandlers(null as unknown as undefined), { instanceOf: TypeError, message: /options must be an object/ });
  t.is(builtinHandlers().map(String).join(','), 'ipam,pod-network,services,policies');
});
