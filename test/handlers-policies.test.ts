// Unit tests of the policy handler, driven through a recording transaction double (test/helpers).
import test from 'ava';
import { DBResync, KubeStateChange, type Value } from '../src/api/index.js';
import { AddPod, DeletePod, builtinHandlers } from '../src/handlers/index.js';
import { k8sKey, podValue, policyValue } from '../src/flood/k8s-values.js';
import { drive, driveResync, kubeStateWith } from './helpers/flood-recording-txn.js';

const ACL_DB = 'config/vpp.acls/v2/acl/acl-shop.db';
const ACL_DB2 = 'config/vpp.acls/v2/acl/acl-shop.db2';
const ANY = '0.0.0.0/0';
const DENY = { action: 'DENY', ipRule: { ip: { sourceNetwork: ANY, destinationNetwork: ANY } } };
const policy = policyValue('shop', 'db-only', { app: 'db' }, [
  { fromPods: { app: 'api' }, ports: [{ protocol: 'TCP', port: 5432 }] },
  { fromCidrs: ['192.0.2.0/24'] },
]);

function pod(name: string, labels: Record<string, string>, prev: Value | null = null): KubeStateChange {
  return new KubeStateChange({ key: k8sKey('pod', 'shop', name), resource: 'pod', prevValue: prev, newValue: podValue('shop', name, labels) });
}

function pol(name: string, value: Value | null, prev: Value | null = null): KubeStateChange {
  return new KubeStateChange({ key: k8sKey('policy', 'shop', name), resource: 'policy', prevValue: prev, newValue: value });
}

const egress = (v: Value | undefined): unknown => (v?.['interfaces'] as { egress: string[] } | undefined)?.egress;

test('C7: a policy becomes an ACL on each selected pod, permitting allowed sources and denying the rest', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, pod('db', { app: 'db' }), state); // 10.1.0.2
  drive(handlers, pod('api', { app: 'api' }), state); // 10.1.0.3
  drive(handlers, pol('db-only', policy), state);
  t.deepEqual(state.get(ACL_DB), {
    name: 'acl-shop.db',
    rules: [
      { action: 'PERMIT', ipRule: { ip: { sourceNetwork: '10.1.0.3/32', destinationNetwork: ANY }, tcp: { destinationPortRange: { lowerPort: 5432, upperPort: 5432 } } } },
      { action: 'PERMIT', ipRule: { ip: { sourceNetwork: '192.0.2.0/24', destinationNetwork: ANY } } },
      DENY,
    ],
    interfaces: { ingress: [], egress: ['tap-shop.db'] },
  });
  t.false(state.has('config/vpp.acls/v2/acl/acl-shop.api'), 'a pod no policy selects is not isolated');
});

test('C7: every policy selecting a pod is combined into that pod\'s one ACL (VPP keeps one list per interface)', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, pod('db', { app: 'db', tier: 'back' }), state);
  drive(handlers, pol('db-only', policy), state);
  drive(handlers, pol('back', policyValue('shop', 'back', { tier: 'back' }, [{ fromCidrs: ['198.51.100.0/24'] }])), state);
  const rules = state.get(ACL_DB)?.['rules'] as Array<{ ipRule: { ip: { sourceNetwork: string } } }>;
  t.deepEqual(rules.map((r) => r.ipRule.ip.sourceNetwork), ['198.51.100.0/24', '192.0.2.0/24', ANY]);
  t.is([...state.keys()].filter((k) => k.includes('vpp.acls')).length, 1);
  // Egress-only and non-matching-expression policies do not isolate.
  const egressOnly = { ...policyValue('shop', 'eg', {}, []), policyType: 'EGRESS' };
  const expr = { ...policyValue('shop', 'ex', {}, []), pods: { matchExpression: [{ key: 'app', operator: 'NOT_IN', value: ['db'] }] } };
  drive(handlers, pol('eg', egressOnly), state);
  drive(handlers, pol('ex', expr), state);
  t.is((state.get(ACL_DB)?.['rules'] as unknown[]).length, 3);
});

test('C5: pod changes re-render the ACLs of their namespace; a leaving pod is dropped in the Reverse pass', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, pol('db-only', policy), state);
  t.is(state.size, 0, 'selects no pod yet: no ACL');
  drive(handlers, pod('db', { app: 'db' }), state);
  t.deepEqual(egress(state.get(ACL_DB)), ['tap-shop.db']);
  drive(handlers, new AddPod({ namespace: 'shop', name: 'db2' }), state);
  t.false(state.has(ACL_DB2), 'a CNI-only pod has no labels yet');
  drive(handlers, pod('db2', { app: 'db' }), state);
  t.deepEqual(egress(state.get(ACL_DB2)), ['tap-shop.db2']);
  drive(handlers, pod('api', { app: 'api' }), state);
  t.is((state.get(ACL_DB)?.['rules'] as unknown[]).length, 3, 'a new peer re-renders the ACLs that reference it');
  const r = drive(handlers, new DeletePod({ namespace: 'shop', name: 'api' }), state);
  t.is(r.error, null);
  t.is((state.get(ACL_DB)?.['rules'] as unknown[]).length, 2);
  drive(handlers, new DeletePod({ namespace: 'shop', name: 'db' }), state);
  t.false(state.has(ACL_DB));
  drive(handlers, pod('db2', { app: 'other' }, podValue('shop', 'db2', { app: 'db' })), state);
  t.false(state.has(ACL_DB2), 'relabelled away: no policy selects it and its ACL is removed');
  t.false([...state.keys()].some((k) => k.includes('vpp.acls')));
});

test('C8: a failed AddPod reverts the policy handler\'s rendered state too', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, pol('all', policyValue('shop', 'all', {}, [{ fromPods: {} }])), state);
  drive(handlers, pod('db', { app: 'db' }), state);
  const before = JSON.stringify(state.get(ACL_DB));
  t.truthy(drive(handlers, new AddPod({ namespace: 'shop', name: 'new' }), state, { failCommit: true }).error);
  t.is(JSON.stringify(state.get(ACL_DB)), before);
  // Had the revert not restored the rendered state, this re-add would be seen as "no change".
  const r = drive(handlers, new AddPod({ namespace: 'shop', name: 'new' }), state);
  t.not(JSON.stringify(state.get(ACL_DB)), before);
  t.true(state.has('config/vpp.acls/v2/acl/acl-shop.new'));
  t.true(r.descriptions.some((d) => d.startsWith('shop: 1 ACL(s) added, 1 updated')));
});

test('C6: policy resync runs after the pod resync and renders from the rebuilt pods', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  const ks = kubeStateWith({
    pod: [[k8sKey('pod', 'shop', 'db'), podValue('shop', 'db', { app: 'db' })]],
    policy: [[k8sKey('policy', 'shop', 'db-only'), policy]],
  });
  driveResync(handlers, new DBResync({ kubeState: ks }), ks, state);
  t.deepEqual(egress(state.get(ACL_DB)), ['tap-shop.db']);
  t.is(state.size, 4);
});

test('C5, C7: a re-render puts only the ACLs whose content changed (the render is compared with the value put before)', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, pol('db-only', policy), state);
  drive(handlers, pol('web', policyValue('shop', 'web', { app: 'web' }, [{ fromCidrs: ['198.51.100.0/24'] }])), state);
  drive(handlers, pod('db', { app: 'db' }), state);
  drive(handlers, pod('web', { app: 'web' }), state);
  const webAcl = 'config/vpp.acls/v2/acl/acl-shop.web';
  const webBefore = state.get(webAcl);
  t.truthy(webBefore);
  // A peer of db-only joins: the namespace is re-rendered, db's ACL gains a source, web's stays.
  const r = drive(handlers, pod('api', { app: 'api' }), state);
  t.true(r.changes.has(ACL_DB), 'the ACL that references the new peer is put');
  t.false(r.changes.has(webAcl), 'an ACL whose render did not change is not put again');
  t.true(r.descriptions.some((d) => d === 'shop: 1 updated'), r.descriptions.join('; '));
  // An equal render built from new objects is still "unchanged".
  drive(handlers, pol('web', policyValue('shop', 'web', { app: 'web' }, [{ fromCidrs: ['198.51.100.0/24'] }]), policyValue('shop', 'web', { app: 'web' }, [{ fromCidrs: ['198.51.100.0/24'] }])), state);
  t.is(state.get(webAcl), webBefore);
});

test('C7 C8: a peer selector the handler cannot read admits nothing; operators in any accepted spelling keep their meaning', (t) => {
  const ACL_WEB = 'config/vpp.acls/v2/acl/acl-shop.web';
  const sources = (sel: Value): string[] => {
    const handlers = builtinHandlers();
    const state = new Map<string, Value>();
    drive(handlers, pod('web', { app: 'web' }), state); // 10.1.0.2
    drive(handlers, pod('db', { role: 'db' }), state); // 10.1.0.3
    drive(handlers, pod('other', { role: 'x' }), state); // 10.1.0.4
    const value = { ...policyValue('shop', 'p', { app: 'web' }, []), ingressRule: [{ from: [{ pods: sel }] }] };
    t.is(drive(handlers, pol('p', value), state).error, null);
    const rules = (state.get(ACL_WEB)?.['rules'] ?? []) as Array<{ action: string; ipRule: { ip: { sourceNetwork: string } } }>;
    return rules.filter((r) => r.action === 'PERMIT').map((r) => r.ipRule.ip.sourceNetwork).sort();
  };
  const all = ['10.1.0.2/32', '10.1.0.3/32', '10.1.0.4/32'];
  const notDb = ['10.1.0.2/32', '10.1.0.4/32'];
  // Unreadable: nothing admitted (not everything).
  t.deepEqual(sources({ matchExpression: [{ key: 'role', operator: 'NOT_IN', value: 'db' }] }), []);
  t.deepEqual(sources({ matchExpression: [{ key: 7, operator: 'IN', value: ['db'] }] }), []);
  t.deepEqual(sources({ matchExpression: [{ key: 'role', operator: 'SOMETIMES', value: ['db'] }] }), []);
  t.deepEqual(sources({ matchLabel: [{ key: 7, value: 'db' }] }), []);
  t.deepEqual(sources({ matchExpression: 'role=db' }), []);
  // Readable spellings: the enum names, Kubernetes' casing, the protobuf numbers, and the default (IN).
  t.deepEqual(sources({ matchExpression: [{ key: 'role', operator: 'NOT_IN', value: ['db'] }] }), notDb);
  t.deepEqual(sources({ matchExpression: [{ key: 'role', operator: 'NotIn', value: ['db'] }] }), notDb);
  t.deepEqual(sources({ matchExpression: [{ key: 'role', operator: 1, value: ['db'] }] }), notDb);
  t.deepEqual(sources({ matchExpression: [{ key: 'role', value: ['db'] }] }), ['10.1.0.3/32']);
  t.deepEqual(sources({ matchExpression: [{ key: 'role', operator: 'Exists' }] }), ['10.1.0.3/32', '10.1.0.4/32']);
  t.deepEqual(sources({ matchExpression: [{ key: 'role', operator: 'EXISTS', value: null }] }), ['10.1.0.3/32', '10.1.0.4/32'], 'null is an absent list');
  t.deepEqual(sources({}), all);
  t.deepEqual(sources({ matchLabel: { role: 'db' } }), ['10.1.0.3/32']);
  t.deepEqual(sources({ matchLabel: { role: 7 } }), []);
});

test('C7 C8: a policy whose own pod selector cannot be read isolates every pod of its namespace (admits less, never more)', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, pod('db', { app: 'db' }), state);
  drive(handlers, pod('api', { app: 'api' }), state);
  drive(handlers, pol('db-only', policyValue('shop', 'db-only', { app: 'db' }, [{ fromCidrs: ['198.51.100.0/24'] }])), state);
  const permits = (acl: string) => ((state.get(acl)?.['rules'] ?? []) as Array<{ action: string; ipRule: { ip: { sourceNetwork: string } } }>).filter((r) => r.action === 'PERMIT').map((r) => r.ipRule.ip.sourceNetwork);
  t.deepEqual(permits(ACL_DB), ['198.51.100.0/24']);
  const value = { ...policyValue('shop', 'p', {}, [{ fromCidrs: ['0.0.0.0/0'] }]), pods: { matchExpression: [{ key: 'app', operator: 'NOPE', value: ['db'] }] } };
  t.is(drive(handlers, pol('p', value), state).error, null);
  t.true(state.has(ACL_DB));
  t.true(state.has('config/vpp.acls/v2/acl/acl-shop.api'), 'every pod of the namespace is isolated');
  // Its rules admit no one: a pod another policy restricts gains no source.
  t.deepEqual(permits(ACL_DB), ['198.51.100.0/24']);
  t.deepEqual(permits('config/vpp.acls/v2/acl/acl-shop.api'), []);
});
