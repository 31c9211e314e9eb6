// Unit tests of the policy handler, driven through a recording transaction double (test/helpers).
import test from 'ava';
import { DBResync, KubeStateChange, type Value } from '../src/api/index.js';
import { AddPod, DeletePod, builtinHandlers } from '../src/handlers/index.js';
import { k8sKey, podValue, policyValue } from '../src/flood/k8s-values.js';
import { drive, driveResync, kubeStateWith } from './helpers/flood-recording-txn.js';

const ACL = 'config/vpp.acls/v2/acl/pol.shop.db-only';
const policy = policyValue('shop', 'db-only', { app: 'db' }, [
  { fromPods: { app: 'api' }, ports: [{ protocol: 'TCP', port: 5432 }] },
  { fromCidrs: ['192.0.2.0/24'] },
]);

function pod(name: string, labels: Record<string, string>, prev: Value | null = null): KubeStateChange {
  return new KubeStateChange({ key: k8sKey('pod', 'shop', name), resource: 'pod', prevValue: prev, newValue: podValue('shop', name, labels) });
}

test('C7: a policy becomes an ACL on the selected pods, permitting allowed sources and denying the rest', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, pod('db', { app: 'db' }), state); // 10.1.0.2
  drive(handlers, pod('api', { app: 'api' }), state); // 10.1.0.3
  drive(handlers, new KubeStateChange({ key: k8sKey('policy', 'shop', 'db-only'), resource: 'policy', newValue: policy }), state);
  const any = '0.0.0.0/0';
  t.deepEqual(state.get(ACL), {
    name: 'pol.shop.db-only',
    rules: [
      { action: 'PERMIT', ipRule: { ip: { sourceNetwork: '10.1.0.3/32', destinationNetwork: any }, tcp: { destinationPortRange: { lowerPort: 5432, upperPort: 5432 } } } },
      { action: 'PERMIT', ipRule: { ip: { sourceNetwork: '192.0.2.0/24', destinationNetwork: any } } },
      { action: 'DENY', ipRule: { ip: { sourceNetwork: any, destinationNetwork: any } } },
    ],
    interfaces: { ingress: [], egress: ['tap-shop.db'] },
  });
});

test('C5: pod changes re-render the ACLs of their namespace; a leaving pod is dropped in the Reverse pass', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, new KubeStateChange({ key: k8sKey('policy', 'shop', 'db-only'), resource: 'policy', newValue: policy }), state);
  t.false(state.has(ACL), 'selects no pod yet: no ACL');
  drive(handlers, pod('db', { app: 'db' }), state);
  t.deepEqual((state.get(ACL)?.['interfaces'] as { egress: string[] }).egress, ['tap-shop.db']);
  drive(handlers, new AddPod({ namespace: 'shop', name: 'db2' }), state);
  drive(handlers, pod('db2', { app: 'db' }), state);
  t.deepEqual((state.get(ACL)?.['interfaces'] as { egress: string[] }).egress, ['tap-shop.db', 'tap-shop.db2']);
  const r = drive(handlers, new DeletePod({ namespace: 'shop', name: 'db' }), state);
  t.is(r.error, null);
  t.deepEqual((state.get(ACL)?.['interfaces'] as { egress: string[] }).egress, ['tap-shop.db2']);
  drive(handlers, pod('db2', { app: 'other' }, podValue('shop', 'db2', { app: 'db' })), state);
  t.false(state.has(ACL), 'relabelled away: the ACL selects nothing and is removed');
  t.false([...state.keys()].some((k) => k.includes('tap-shop.db/')), 'the deleted pod left nothing behind');
});

test('C8: a failed AddPod reverts the policy handler\'s rendered state too', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, new KubeStateChange({ key: k8sKey('policy', 'shop', 'db-only'), resource: 'policy', newValue: policy }), state);
  drive(handlers, pod('db', { app: 'db' }), state);
  const before = JSON.stringify(state.get(ACL));
  // AddPod of a pod without labels only matters to an empty selector; use one that selects everything.
  const all = policyValue('shop', 'all', {}, []);
  drive(handlers, new KubeStateChange({ key: k8sKey('policy', 'shop', 'all'), resource: 'policy', newValue: all }), state);
  const allBefore = JSON.stringify(state.get('config/vpp.acls/v2/acl/pol.shop.all'));
  t.truthy(drive(handlers, new AddPod({ namespace: 'shop', name: 'new' }), state, { failCommit: true }).error);
  t.is(JSON.stringify(state.get(ACL)), before);
  // Had the revert not restored the rendered state, this re-add would be seen as "no change".
  const r = drive(handlers, new AddPod({ namespace: 'shop', name: 'new' }), state);
  t.not(JSON.stringify(state.get('config/vpp.acls/v2/acl/pol.shop.all')), allBefore);
  t.true(r.descriptions.includes('updated ACL of shop/all'));
});

test('C6: policy resync runs after the pod resync and renders from the rebuilt pods', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  const ks = kubeStateWith({
    pod: [[k8sKey('pod', 'shop', 'db'), podValue('shop', 'db', { app: 'db' })]],
    policy: [[k8sKey('policy', 'shop', 'db-only'), policy]],
  });
  driveResync(handlers, new DBResync({ kubeState: ks }), ks, state);
  t.deepEqual((state.get(ACL)?.['interfaces'] as { egress: string[] }).egress, ['tap-shop.db']);
  t.is(state.size, 4);
});
