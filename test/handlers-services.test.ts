// Unit tests of the service handler, driven through a recording transaction double (test/helpers).
import test from 'ava';
import { DBResync, KubeStateChange, type Value } from '../src/api/index.js';
import { builtinHandlers, serviceLabel } from '../src/handlers/index.js';
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
