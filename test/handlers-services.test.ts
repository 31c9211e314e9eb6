// Unit tests of the service handler, driven through a recording transaction double (test/helpers).
import test from 'ava';
import { DBResync, KubeStateChange, type Value } from '../src/api/index.js';
import { builtinHandlers, serviceLabel } from '../src/handlers/index.js';
import { dnat44Descriptor } from '../src/descriptors/index.js';
import { endpointsValue, k8sKey, serviceValue } from '../src/flood/k8s-values.js';
import { drive, driveResync, kubeStateWith } from './helpers/flood-recording-txn.js';

const svc = serviceValue('shop', 'api', '10.96.0.10', [{ name: 'http', protocol: 'TCP', port: 80 }], ['192.0.2.1']);
const eps = endpointsValue('shop', 'api', ['10.1.0.3', '10.1.0.2'], [{ name: 'http', port: 8080 }]);
const KEY = 'config/vpp.nat/v2/dnat44/svc.shop.api';

function change(resource: string, prevValue: Value | null, newValue: Value | null): KubeStateChange {
  return new KubeStateChange({ key: k8sKey(resource, 'shop', 'api'), resource, prevValue, newValue });
}

test('C7: a service with endpoints becomes one DNAT with a static mapping per external IP and port', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  t.is(drive(handlers, change('service', null, svc), state).changes.size, 0, 'no endpoints yet: nothing to map');
  drive(handlers, change('endpoints', null, eps), state);
  const localIps = [
    { localIp: '10.1.0.2', localPort: 8080 },
    { localIp: '10.1.0.3', localPort: 8080 },
  ];
  t.deepEqual(state.get(KEY), {
    label: 'svc.shop.api',
    staticMappings: [
      { externalIp: '10.96.0.10', externalPort: 80, protocol: 'TCP', localIps },
      { externalIp: '192.0.2.1', externalPort: 80, protocol: 'TCP', localIps },
    ],
  });
  t.is(serviceLabel('shop/api'), 'svc.shop.api');
});

test('C7: endpoint changes update the DNAT; an unchanged render is not re-put; deletes remove it', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  drive(handlers, change('service', null, svc), state);
  drive(handlers, change('endpoints', null, eps), state);
  const eps2 = endpointsValue('shop', 'api', ['10.1.0.9'], [{ name: 'http', port: 8080 }]);
  const r = drive(handlers, change('endpoints', eps, eps2), state);
  t.deepEqual(r.descriptions, ['updated DNAT of shop/api']);
  t.deepEqual((state.get(KEY)?.['staticMappings'] as Array<{ localIps: unknown }>)[0]?.localIps, [{ localIp: '10.1.0.9', localPort: 8080 }]);
  t.is(drive(handlers, change('endpoints', eps2, eps2), state).changes.size, 0);
  drive(handlers, change('service', svc, null), state);
  t.false(state.has(KEY));
});

test('C6: service resync renders every service with endpoints', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  const lonely = serviceValue('shop', 'lonely', '10.96.0.11', [{ name: 'http', protocol: 'TCP', port: 80 }]);
  const ks = kubeStateWith({
    service: [
      [k8sKey('service', 'shop', 'api'), svc],
      [k8sKey('service', 'shop', 'lonely'), lonely],
    ],
    endpoints: [[k8sKey('endpoints', 'shop', 'api'), eps]],
  });
  driveResync(handlers, new DBResync({ kubeState: ks }), ks, state);
  t.deepEqual([...state.keys()], [KEY]);
});

const mappingsOf = (state: ReadonlyMap<string, Value>): string[] =>
  [...state]
    .filter(([k]) => k.includes('/dnat44/'))
    .flatMap(([k, v]) => (v['staticMappings'] as Array<{ externalIp: string; externalPort: number }>).map((m) => `${k.slice(k.lastIndexOf('/') + 1)} ${m.externalIp}:${m.externalPort}`))
    .sort();

test('C7 C8: a service whose namespace and name are too long for a VPP tag gets a short unique label, a valid DNAT', (t) => {
  const ns = 'monitoring-production';
  const names = ['prometheus-kube-state-metrics-exporter', 'prometheus-kube-state-metrics-exporter2'];
  const state = new Map<string, Value>();
  const handlers = builtinHandlers();
  for (const name of names) {
    const key = (r: string) => k8sKey(r, ns, name);
    drive(handlers, new KubeStateChange({ key: key('service'), resource: 'service', prevValue: null, newValue: serviceValue(ns, name, `10.96.0.${names.indexOf(name) + 20}`, [{ name: '', protocol: 'TCP', port: 80 }]) }), state);
    drive(handlers, new KubeStateChange({ key: key('endpoints'), resource: 'endpoints', prevValue: null, newValue: endpointsValue(ns, name, ['10.1.0.9'], [{ name: '', port: 8080 }]) }), state);
  }
  const labels = names.map((n) => serviceLabel(`${ns}/${n}`));
  t.not(labels[0], labels[1]);
  for (const label of labels) {
    t.true(Buffer.byteLength(label) <= 63, label);
    const key = `config/vpp.nat/v2/dnat44/${label}`;
    t.true(state.has(key), key);
    t.notThrows(() => dnat44Descriptor.validate(key, state.get(key)!));
  }
  t.is(serviceLabel('shop/api'), 'svc.shop.api', 'a label that fits stays readable');
});

test('C7 C6: two services exposing the same IP and port: the first by id owns the mapping, the other takes it over when it goes; resync renders the same', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  const ev = (resource: string, name: string, prev: Value | null, next: Value | null) => new KubeStateChange({ key: k8sKey(resource, 'a', name), resource, prevValue: prev, newValue: next });
  const svcOf = (name: string, ip: string) => serviceValue('a', name, ip, [{ name: '', protocol: 'TCP', port: 80 }], ['192.0.2.1']);
  const epsOf = (name: string, ip: string) => endpointsValue('a', name, [ip], [{ name: '', port: 8080 }]);
  const objects: Array<[string, string, Value]> = [
    ['service', 's2', svcOf('s2', '10.96.0.2')],
    ['endpoints', 's2', epsOf('s2', '10.1.0.6')],
    ['service', 's1', svcOf('s1', '10.96.0.1')],
    ['endpoints', 's1', epsOf('s1', '10.1.0.5')],
  ];
  for (const [r, n, v] of objects) t.is(drive(handlers, ev(r, n, null, v), state).error, null);
  const owned = ['svc.a.s1 10.96.0.1:80', 'svc.a.s1 192.0.2.1:80', 'svc.a.s2 10.96.0.2:80'];
  t.deepEqual(mappingsOf(state), owned, 'one mapping per IP and port, s1 (first by id) owns the shared one');
  // The same from a resync.
  const ks = kubeStateWith({
    service: objects.filter(([r]) => r === 'service').map(([r, n, v]) => [k8sKey(r, 'a', n), v]),
    endpoints: objects.filter(([r]) => r === 'endpoints').map(([r, n, v]) => [k8sKey(r, 'a', n), v]),
  });
  const fresh = new Map<string, Value>();
  driveResync(builtinHandlers(), new DBResync({ kubeState: ks }), ks, fresh);
  t.deepEqual(mappingsOf(fresh), owned);
  // A failed event is reverted: the owner stays.
  t.not(drive(handlers, ev('service', 's1', objects[2]![2], null), state, { failCommit: true }).error, null);
  t.deepEqual(mappingsOf(state), owned);
  // The owner goes: the other service takes the mapping over in the same event.
  t.is(drive(handlers, ev('service', 's1', objects[2]![2], null), state).error, null);
  t.deepEqual(mappingsOf(state), ['svc.a.s2 10.96.0.2:80', 'svc.a.s2 192.0.2.1:80']);
  // It comes back: it owns the mapping again, taken from s2 in that event.
  t.is(drive(handlers, ev('service', 's1', null, objects[2]![2]), state).error, null);
  t.deepEqual(mappingsOf(state), owned);
  // One service's cluster IP listed as another's external IP is the same mapping.
  t.is(drive(handlers, ev('service', 's2', objects[0]![2], serviceValue('a', 's2', '10.96.0.2', [{ name: '', protocol: 'TCP', port: 80 }], ['10.96.0.1'])), state).error, null);
  t.deepEqual(mappingsOf(state), ['svc.a.s1 10.96.0.1:80', 'svc.a.s1 192.0.2.1:80', 'svc.a.s2 10.96.0.2:80']);
});

test('C7: in a multi-port service, a port an endpoints subset does not list is not sent to that subset', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  const multi = serviceValue('shop', 'api', '10.96.0.10', [
    { name: 'http', protocol: 'TCP', port: 80 },
    { name: 'metrics', protocol: 'TCP', port: 9090 },
  ]);
  const subsets: Value = {
    name: 'api',
    namespace: 'shop',
    endpointSubsets: [
      { addresses: [{ ip: '10.1.0.5' }], ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }] },
      { addresses: [{ ip: '10.1.0.6' }], ports: [{ name: 'http', port: 8080 }] },
    ],
  };
  drive(handlers, change('service', null, multi), state);
  drive(handlers, change('endpoints', null, subsets), state);
  const byPort = new Map((state.get(KEY)?.['staticMappings'] as Array<{ externalPort: number; localIps: unknown }>).map((m) => [m.externalPort, m.localIps]));
  t.deepEqual(byPort.get(9090), [{ localIp: '10.1.0.5', localPort: 9100 }]);
  t.deepEqual(byPort.get(80), [
    { localIp: '10.1.0.5', localPort: 8080 },
    { localIp: '10.1.0.6', localPort: 8080 },
  ]);
  // A single-port service still maps a subset's only port whatever its name.
  const single = endpointsValue('shop', 'api', ['10.1.0.7'], [{ name: 'web', port: 8081 }]);
  drive(handlers, change('service', multi, svc), state);
  drive(handlers, change('endpoints', subsets, single), state);
  t.deepEqual((state.get(KEY)?.['staticMappings'] as Array<{ localIps: unknown }>)[0]?.localIps, [{ localIp: '10.1.0.7', localPort: 8081 }]);
});
