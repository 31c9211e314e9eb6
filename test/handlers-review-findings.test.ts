// Bad Kubernetes input to the built-in handlers: it fails its own event with a typed error and never
// aborts the loop; a policy the handlers cannot fully render admits less, never more.
import test from 'ava';
import { DBResync, KubeStateChange, type Event, type Value } from '../src/api/index.js';
import { AddPod, builtinHandlers, type IpamHandler } from '../src/handlers/index.js';
import { subtractPrefixes, parseIpv4Cidr, formatIpv4Prefix } from '../src/handlers/ipv4.js';
import { k8sKey, podValue, serviceValue, endpointsValue } from '../src/flood/k8s-values.js';
import { nextProcessed, tracked } from './helpers/controller-fixtures.js';
import { drive, driveResync, kubeStateWith } from './helpers/flood-recording-txn.js';
import { startTestEngine, type TestEngine } from './helpers/flood-engine.js';

const ANY = '0.0.0.0/0';

function podChange(ns: string, name: string): KubeStateChange {
  return new KubeStateChange({ key: k8sKey('pod', ns, name), resource: 'pod', prevValue: null, newValue: podValue(ns, name) });
}

async function processed<E extends Event>(engine: TestEngine, event: E): Promise<Error | null> {
  const t = tracked(event);
  engine.controller.pushEvent(t);
  return t.settled;
}

/** Sources and port ranges of each rule of the ACL at `key`, as short text. */
function aclRules(state: ReadonlyMap<string, Value>, key: string): string[] | undefined {
  const acl = state.get(key) as { rules: Array<{ action: string; ipRule: Record<string, { sourceNetwork?: string; destinationPortRange?: { lowerPort: number; upperPort: number } }> }> } | undefined;
  return acl?.rules.map((r) => {
    const proto = r.ipRule['tcp'] ? 'tcp' : r.ipRule['udp'] ? 'udp' : 'any';
    const range = (r.ipRule['tcp'] ?? r.ipRule['udp'])?.destinationPortRange;
    return `${r.action} ${r.ipRule['ip']?.sourceNetwork} ${proto}${range ? ` ${range.lowerPort}-${range.upperPort}` : ''}`;
  });
}

function policyWith(ns: string, ingressRule: unknown[]): Value {
  return { name: 'pol', namespace: ns, policyType: 'INGRESS', pods: {}, ingressRule } as Value;
}

/** The ACL rules a resync renders for pod `p` under a policy with these ingress rules. */
function renderedRules(ingressRule: unknown[]): string[] | undefined {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  const ks = kubeStateWith({ pod: [[k8sKey('pod', 'ns', 'p'), podValue('ns', 'p')]], policy: [[k8sKey('policy', 'ns', 'pol'), policyWith('ns', ingressRule)]] });
  driveResync(handlers, new DBResync({ kubeState: ks }), ks, state);
  return aclRules(state, 'config/vpp.acls/v2/acl/acl-ns.p');
}

test('C8 C14: pods beyond a full subnet fail their own event with IpamExhaustedError; the healing resync skips them and the loop lives on', async (t) => {
  const handlers = builtinHandlers({ podSubnet: '10.1.0.0/29' }); // 5 pod addresses
  const engine = await startTestEngine([...handlers], { delayAfterErrorHealing: 1 });
  t.teardown(() => engine.close());
  for (let i = 1; i <= 5; i++) t.is(await processed(engine, podChange('a', `p${i}`)), null);
  const healing = nextProcessed(engine.controller, 'Healing Resync');
  const err = await processed(engine, podChange('a', 'p6'));
  t.is((err as { code?: string } | null)?.code, 'ERR_IPAM_EXHAUSTED', 'the IPAM error is the event\'s error');
  const healed = await healing;
  t.is(healed.error, null, 'the healing resync succeeds without the pod that has no room');
  t.false(engine.controller.isAborting);
  const nb = await engine.scheduler.dump('config/vpp/v2/interfaces/', 'nb');
  t.deepEqual([...nb.keys()].sort(), [1, 2, 3, 4, 5].map((i) => `config/vpp/v2/interfaces/tap-a.p${i}`));
  // A freed address goes to the waiting pod with its next change.
  t.is(await processed(engine, new KubeStateChange({ key: k8sKey('pod', 'a', 'p1'), resource: 'pod', prevValue: podValue('a', 'p1'), newValue: null })), null);
  t.is(await processed(engine, podChange('a', 'p6')), null);
  t.is((handlers[0] as IpamHandler).getPodIP('a/p6'), '10.1.0.2');
});

test('C6: a startup resync with more pods than the subnet holds connects those that fit, in id order, and succeeds', (t) => {
  const handlers = builtinHandlers({ podSubnet: '10.1.0.0/29' });
  const pods = Array.from({ length: 8 }, (_, i): [string, Value] => [k8sKey('pod', 'a', `p${i}`), podValue('a', `p${i}`)]);
  const ks = kubeStateWith({ pod: pods });
  const state = new Map<string, Value>();
  driveResync(handlers, new DBResync({ kubeState: ks }), ks, state);
  const taps = [...state.keys()].filter((k) => k.startsWith('config/vpp/v2/interfaces/')).sort();
  t.deepEqual(taps, [0, 1, 2, 3, 4].map((i) => `config/vpp/v2/interfaces/tap-a.p${i}`));
});

test('C7: Kubernetes names that would break keys or collide are InvalidKubeValueError on change and skipped in a resync', (t) => {
  for (const [ns, name] of [['a', 'x/y'], ['a', 'x/vrf/0'], ['a.b', 'c'], ['A', 'c'], ['a', ''], ['a', 'x'.repeat(254)]] as const) {
    const handlers = builtinHandlers();
    const state = new Map<string, Value>();
    const change = new KubeStateChange({ key: `k/namespace/${ns}`, resource: 'pod', prevValue: null, newValue: { name, namespace: ns } });
    const r = drive(handlers, change, state);
    t.is((r.error as { code?: string } | null)?.code, 'ERR_INVALID_KUBE_VALUE', `${ns}/${name}`);
    t.is(state.size, 0);
    const ks = kubeStateWith({ pod: [['k', { name, namespace: ns }], [k8sKey('pod', 'ok', 'p'), podValue('ok', 'p')]] });
    driveResync(handlers, new DBResync({ kubeState: ks }), ks, state);
    t.deepEqual([...state.keys()].filter((k) => k.includes('/interfaces/')), ['config/vpp/v2/interfaces/tap-ok.p']);
  }
  t.throws(() => new AddPod({ namespace: 'a.b', name: 'c' }), { instanceOf: TypeError, message: /pod\.namespace/ }, 'a.b/c and a/b.c would share tap-a.b.c');
});

test('C7: a service listing its cluster IP among its external IPs, or a port twice, gets one mapping each (no DNAT the dataplane refuses)', async (t) => {
  const engine = await startTestEngine([...builtinHandlers()]);
  t.teardown(() => engine.close());
  const svc = serviceValue('a', 's', '10.96.0.10', [{ name: 'http', protocol: 'TCP', port: 80 }, { name: 'web', protocol: 'TCP', port: 80 }], ['10.96.0.10', '192.0.2.1']);
  t.is(await processed(engine, new KubeStateChange({ key: k8sKey('service', 'a', 's'), resource: 'service', prevValue: null, newValue: svc })), null);
  const eps = endpointsValue('a', 's', ['10.1.0.9'], [{ name: 'http', port: 8080 }]);
  t.is(await processed(engine, new KubeStateChange({ key: k8sKey('endpoints', 'a', 's'), resource: 'endpoints', prevValue: null, newValue: eps })), null);
  const sb = await engine.scheduler.dump('config/vpp.nat/v2/dnat44/', 'sb');
  const mappings = (sb.get('config/vpp.nat/v2/dnat44/svc.a.s') as { staticMappings: Array<{ externalIp: string; externalPort: number }> }).staticMappings;
  t.deepEqual(mappings.map((m) => `${m.externalIp}:${m.externalPort}`).sort(), ['10.96.0.10:80', '192.0.2.1:80']);
  t.false(engine.controller.isAborting);
});

test('C7: a delete carrying only the key removes a service\'s DNAT and a policy\'s ACLs, as a resync of the same state would', (t) => {
  const handlers = builtinHandlers();
  const state = new Map<string, Value>();
  const put = (resource: string, value: Value): void => void drive(handlers, new KubeStateChange({ key: k8sKey(resource, 'a', 's'), resource, prevValue: null, newValue: value }), state);
  put('pod', podValue('a', 's'));
  put('service', serviceValue('a', 's', '10.96.0.10', [{ name: 'http', protocol: 'TCP', port: 80 }]));
  put('endpoints', endpointsValue('a', 's', ['10.1.0.9'], [{ name: 'http', port: 8080 }]));
  put('policy', { ...(policyWith('a', [{ from: [{ ipBlock: { cidr: '192.0.2.0/24' } }] }]) as object), name: 's' } as Value);
  t.true(state.has('config/vpp.nat/v2/dnat44/svc.a.s'));
  t.true(state.has('config/vpp.acls/v2/acl/acl-a.s'));
  for (const resource of ['service', 'policy']) {
    const r = drive(handlers, new KubeStateChange({ key: k8sKey(resource, 'a', 's'), resource, prevValue: null, newValue: null }), state);
    t.is(r.error, null);
  }
  t.false(state.has('config/vpp.nat/v2/dnat44/svc.a.s'));
  t.false(state.has('config/vpp.acls/v2/acl/acl-a.s'));
});

test('C7: a rule whose peers or ports cannot be rendered admits nothing, never everything', (t) => {
  const deny = `DENY ${ANY} any`;
  const port5432 = [{ protocol: 'TCP', port: { number: 5432 } }];
  t.deepEqual(renderedRules([{ from: [{ namespaces: { matchLabel: [{ key: 'team', value: 'ops' }] } }], port: port5432 }]), [deny], 'namespace peers only');
  t.deepEqual(renderedRules([{ from: [{ pods: {}, namespaces: {} }] }]), [deny], 'pods within other namespaces');
  for (const cidr of ['', 'garbage', '10.0.0.0/33', '10.0.0.0/024', 'fd00::/8']) {
    t.deepEqual(renderedRules([{ from: [{ ipBlock: { cidr } }] }]), [deny], `cidr ${JSON.stringify(cidr)}`);
  }
  t.deepEqual(renderedRules([{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['nope'] } }] }]), [deny], 'an unreadable exception');
  t.deepEqual(renderedRules([{ port: [{ protocol: 'TCP', port: { type: 'STRING', name: 'http' } }] }]), [deny], 'a named port');
  t.deepEqual(renderedRules([{ port: [{ protocol: 'SCTP', port: { number: 9 } }] }]), [deny], 'a protocol ACLs here do not match');
  // What can be read still is: the other peers and ports of the rule, and the other rules.
  t.deepEqual(renderedRules([{ from: [{ ipBlock: { cidr: 'bad' } }, { ipBlock: { cidr: '192.0.2.7/24' } }], port: [{ port: { type: 'STRING', name: 'x' } }, { protocol: 'UDP' }] }, { from: [] }]), [
    'PERMIT 192.0.2.0/24 udp 0-65535',
    `PERMIT ${ANY} any`,
    deny,
  ]);
});

test('C7: an ipBlock admits its CIDR less its except ranges', (t) => {
  t.deepEqual(renderedRules([{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.128.0.0/9'] } }], port: [{ protocol: 'TCP', port: { number: 80 } }] }]), [
    'PERMIT 10.0.0.0/16 tcp 80-80',
    'PERMIT 10.2.0.0/15 tcp 80-80',
    'PERMIT 10.4.0.0/14 tcp 80-80',
    'PERMIT 10.8.0.0/13 tcp 80-80',
    'PERMIT 10.16.0.0/12 tcp 80-80',
    'PERMIT 10.32.0.0/11 tcp 80-80',
    'PERMIT 10.64.0.0/10 tcp 80-80',
    `DENY ${ANY} any`,
  ]);
});

test('C7: prefix subtraction covers exactly the addresses of the base outside the exceptions (seeded)', (t) => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const inside = (ip: number, p: { network: number; prefixLength: number }): boolean => Math.floor(ip / 2 ** (32 - p.prefixLength)) === Math.floor(p.network / 2 ** (32 - p.prefixLength));
  for (let round = 0; round < 200; round++) {
    const base = parseIpv4Cidr(`10.${rnd(4)}.${rnd(256)}.0/${16 + rnd(8)}`);
    if (base === undefined) return t.fail();
    const except = Array.from({ length: rnd(4) }, () => parseIpv4Cidr(`10.${rnd(4)}.${rnd(256)}.${rnd(256)}/${14 + rnd(19)}`)!);
    const out = subtractPrefixes(base, except);
    for (let k = 0; k < 200; k++) {
      const ip = base.network + rnd(2 ** (32 - base.prefixLength));
      const want = !except.some((e) => inside(ip, e));
      const got = out.filter((p) => inside(ip, p)).length;
      if (got !== (want ? 1 : 0)) return t.fail(`${formatIpv4Prefix(base)} less ${except.map(formatIpv4Prefix).join(',')}: ${ip} covered ${got} times`);
    }
  }
  t.pass();
});

test('C7: an ipBlock with thousands of exceptions renders the fewest prefixes, each address once (seeded)', (t) => {
  let seed = 11;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const base = parseIpv4Cidr('10.0.0.0/8')!;
  const except = Array.from({ length: 5000 }, () => parseIpv4Cidr(`10.${rnd(256)}.${rnd(256)}.${rnd(256)}/${20 + rnd(13)}`)!);
  const out = subtractPrefixes(base, except);
  const inside = (ip: number, p: { network: number; prefixLength: number }): boolean => Math.floor(ip / 2 ** (32 - p.prefixLength)) === Math.floor(p.network / 2 ** (32 - p.prefixLength));
  // In address order, disjoint, and no two halves of one prefix left side by side (they would be one).
  for (let i = 1; i < out.length; i++) {
    const [a, b] = [out[i - 1]!, out[i]!];
    t.true(a.network + 2 ** (32 - a.prefixLength) <= b.network, `${formatIpv4Prefix(a)} before ${formatIpv4Prefix(b)}`);
    const sibling = a.prefixLength === b.prefixLength && a.network % 2 ** (33 - a.prefixLength) === 0 && b.network === a.network + 2 ** (32 - a.prefixLength);
    if (sibling) return t.fail(`${formatIpv4Prefix(a)} and ${formatIpv4Prefix(b)} make one prefix`);
  }
  for (let k = 0; k < 2000; k++) {
    const ip = base.network + rnd(2 ** 24);
    const want = !except.some((e) => inside(ip, e));
    t.is(out.filter((p) => inside(ip, p)).length, want ? 1 : 0);
  }
});
