// ACLs, DNAT44 and bridge domains through Scheduler -> VppConnector -> native-sim.
import test from 'ava';
import { aclKey, bridgeDomainKey, createAclDescriptor, dnat44Descriptor, dnat44Key, interfaceKey } from '../src/descriptors/index.js';
import { inSync, realStack } from './helpers/scheduler-real-stack.js';

const loop = (name: string) => ({ name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0 });

test('S2: an ACL is created, bound to its interfaces, updated and removed', async (t) => {
  const { sim, s } = await realStack(t);
  const acl = {
    name: 'web',
    rules: [
      { action: 'PERMIT', ipRule: { ip: { destinationNetwork: '10.0.0.0/8' }, tcp: { destinationPortRange: { lowerPort: 80, upperPort: 443 } } } },
      { action: 'DENY' },
    ],
    interfaces: { ingress: ['a1'], egress: ['a1', 'a2'] },
  };
  let r = await s.commit(new Map<string, Record<string, unknown>>([[aclKey('web'), acl], [interfaceKey('a1'), loop('a1')]]), {});
  t.is(r.error, null);
  t.is(s.getStatus(aclKey('web'))?.state, 'pending', 'waits for a2');
  r = await s.commit(new Map([[interfaceKey('a2'), loop('a2')]]), {});
  t.is(r.error, null);
  t.is(s.getStatus(aclKey('web'))?.state, 'configured');
  await inSync(t, s);
  const sb = (await s.dump(aclKey('web'), 'sb')).get(aclKey('web')) as { rules: unknown[] };
  t.deepEqual(sb.rules[0], {
    action: 'PERMIT',
    ipRule: {
      ip: { sourceNetwork: '0.0.0.0/0', destinationNetwork: '10.0.0.0/8', protocol: 6 },
      tcp: { sourcePortRange: { lowerPort: 0, upperPort: 65535 }, destinationPortRange: { lowerPort: 80, upperPort: 443 } },
    },
  });
  r = await s.commit(new Map([[aclKey('web'), { ...acl, rules: [{ action: 'PERMIT' }], interfaces: { ingress: ['a2'], egress: [] } }]]), {});
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed, [{ key: aclKey('web'), op: 'update' }]);
  await inSync(t, s);
  r = await s.commit(new Map([[aclKey('web'), null]]), {});
  t.is(r.error, null);
  const snap = (await sim.snapshot()) as unknown as { acls: unknown[] };
  t.is(snap.acls.length, 0);
  await inSync(t, s);
});

test('S2: several ACLs on one interface share its list; removing one keeps the others bound', async (t) => {
  const { sim, s } = await realStack(t);
  const acl = (name: string, ingress: string[], egress: string[]) => ({ name, rules: [{ action: 'PERMIT' }], interfaces: { ingress, egress } });
  let r = await s.commit(
    new Map<string, Record<string, unknown>>([
      [interfaceKey('p1'), loop('p1')],
      [interfaceKey('p2'), loop('p2')],
      [aclKey('pol-a'), acl('pol-a', [], ['p1', 'p2'])],
      [aclKey('pol-b'), acl('pol-b', ['p1'], ['p1'])],
      [aclKey('pol-c'), acl('pol-c', [], ['p1'])],
    ]),
    {},
  );
  t.is(r.error, null);
  await inSync(t, s);
  r = await s.commit(new Map([[aclKey('pol-a'), null]]), {});
  t.is(r.error, null);
  await inSync(t, s);
  r = await s.commit(new Map([[aclKey('pol-c'), acl('pol-c', ['p2'], [])]]), {});
  t.is(r.error, null);
  await inSync(t, s);
  const snap = (await sim.snapshot()) as unknown as { acls: unknown[] };
  t.is(snap.acls.length, 2);
  // A full resync reads the lists back and finds nothing to do.
  const full = await s.commit(await s.dump('', 'nb'), { resync: 'full' });
  t.deepEqual(s.getRecordedTransaction(full.seqNum)?.executed, []);
});

test('S2: DNAT44 static mappings are created per mapping and re-created on change', async (t) => {
  const { s } = await realStack(t);
  const nat = {
    label: 'svc',
    staticMappings: [
      { externalIp: '10.96.0.10', externalPort: 53, protocol: 'UDP', localIps: [{ localIp: '10.1.1.3', localPort: 53 }, { localIp: '10.1.1.2', localPort: 53 }] },
      { externalIp: '10.96.0.1', externalPort: 443, localIps: [{ localIp: '192.168.0.1', localPort: 6443 }] },
    ],
  };
  let r = await s.commit(new Map([[dnat44Key('svc'), nat]]), {});
  t.is(r.error, null);
  await inSync(t, s);
  r = await s.commit(new Map([[dnat44Key('svc'), { ...nat, staticMappings: nat.staticMappings.slice(1) }]]), {});
  t.is(r.error, null);
  await inSync(t, s);
  const bad = await s.commit(new Map([[dnat44Key('x'), { staticMappings: [{ externalIp: '1.1.1.1', localIps: [] }] }]]), {});
  t.regex(bad.error?.kvErrors[0]?.error.message ?? '', /at least one local address/);
});

test('S2: a bridge domain gets an id, its interfaces (BVI kept) and follows membership changes', async (t) => {
  const { s } = await realStack(t);
  const bd = { name: 'bd1', flood: true, learn: true, interfaces: [{ name: 'b2' }, { name: 'b1', bridgedVirtualInterface: true }] };
  let r = await s.commit(
    new Map<string, Record<string, unknown>>([[bridgeDomainKey('bd1'), bd], [interfaceKey('b1'), loop('b1')], [interfaceKey('b2'), loop('b2')]]),
    {},
  );
  t.is(r.error, null);
  await inSync(t, s);
  t.deepEqual((await s.dump(bridgeDomainKey('bd1'), 'sb')).get(bridgeDomainKey('bd1')), {
    name: 'bd1',
    flood: true,
    forward: false,
    learn: true,
    interfaces: [
      { name: 'b1', bridgedVirtualInterface: true },
      { name: 'b2', bridgedVirtualInterface: false },
    ],
  });
  r = await s.commit(new Map([[bridgeDomainKey('bd1'), { ...bd, interfaces: [{ name: 'b2' }] }]]), {});
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed, [{ key: bridgeDomainKey('bd1'), op: 'update' }]);
  await inSync(t, s);
  r = await s.commit(new Map([[bridgeDomainKey('bd1'), { ...bd, flood: false, interfaces: [{ name: 'b2' }] }]]), {});
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => o.op), ['delete', 'create']);
  await inSync(t, s);
  // Removing a member interface first removes the bridge domain (it depends on it).
  r = await s.commit(new Map([[interfaceKey('b2'), null]]), {});
  t.is(r.error, null);
  t.is(s.getStatus(bridgeDomainKey('bd1'))?.state, 'pending');
  t.deepEqual([...(await s.dump('', 'sb')).keys()], [interfaceKey('b1')]);
});

test('S2: an ACL update re-sends its rules only when they changed (compared by content, not by object)', (t) => {
  const d = createAclDescriptor();
  const md = { get: (key: string) => (key.startsWith('config/vpp.acls/') ? 3 : 9), keyOf: () => undefined };
  const value = (rules: unknown[], egress: string[]) => d.validate(aclKey('web'), { name: 'web', rules, interfaces: { ingress: [], egress } });
  const rules = () => [{ action: 'PERMIT', ipRule: { ip: { sourceNetwork: '10.1.0.3/32' } } }, { action: 'DENY' }];
  const names = (reqs: ReadonlyArray<{ name: string }> | undefined) => (reqs ?? []).map((r) => r.name);
  const old = value(rules(), ['a1']);
  // Same rules in new objects, another interface: only the interface lists go out.
  t.false(names(d.update?.(aclKey('web'), old, value(rules(), ['a1', 'a2']), md)).includes('acl_add_replace'));
  // One rule more: the rules are replaced.
  const more = [{ action: 'PERMIT', ipRule: { ip: { sourceNetwork: '10.1.0.4/32' } } }, ...rules()];
  t.deepEqual(names(d.update?.(aclKey('web'), old, value(more, ['a1']), md)).filter((n) => n === 'acl_add_replace'), ['acl_add_replace']);
});

test('S2: a frozen rule shared by many ACLs is normalized once; a bad frozen rule is refused every time, naming its key', (t) => {
  const d = createAclDescriptor();
  const ip = Object.freeze({ sourceNetwork: '10.1.0.3/32' });
  const shared = Object.freeze({ action: 'PERMIT', ipRule: Object.freeze({ ip }) });
  const acl = (name: string, rules: unknown[]) => d.validate(aclKey(name), { name, rules, interfaces: { ingress: [], egress: [] } }) as { rules: unknown[] };
  const a = acl('a', [shared]);
  const b = acl('b', [shared, { action: 'DENY' }]);
  t.is(a.rules[0], b.rules[0], 'one normalized object for the shared rule');
  t.deepEqual(a.rules[0], { action: 'PERMIT', ipRule: { ip: { sourceNetwork: '10.1.0.3/32', destinationNetwork: '0.0.0.0/0', protocol: 0 } } });
  t.true(Object.isFrozen(a.rules[0]));
  // A rule that is not frozen could change: it is normalized on its own every time.
  const open = { action: 'PERMIT', ipRule: { ip: { sourceNetwork: '10.1.0.4/32' } } };
  t.not(acl('c', [open]).rules[0], acl('d', [open]).rules[0]);
  const bad = Object.freeze({ action: 'PERMIT', ipRule: Object.freeze({ ip: Object.freeze({ sourceNetwork: '10.1.0.300/32' }) }) });
  for (const name of ['e', 'f']) t.throws(() => acl(name, [bad]), { message: new RegExp(`acl/${name}.*rules\\[0\\]`) });
});

test('S2 N2: a bridge domain someone else made (untagged) keeps its id: ours gets another and is created', async (t) => {
  const { connector, s } = await realStack(t);
  await connector.request('bridge_domain_add_del', { is_add: true, bd_id: 1, bd_tag: '', flood: true, forward: true, learn: true });
  const r = await s.commit(new Map([[bridgeDomainKey('bd'), { name: 'bd', interfaces: [] }]]), { resync: 'full' });
  t.is(r.error, null, r.error?.message);
  t.is(s.getStatus(bridgeDomainKey('bd'))?.state, 'configured');
});

test('S2 N2: a bd_id at the top of the 24-bit space found on the dataplane does not exhaust the ids: ours takes a free one below', async (t) => {
  const { connector, s } = await realStack(t);
  await connector.request('bridge_domain_add_del', { is_add: true, bd_id: 0xffffff, bd_tag: '', flood: true, forward: true, learn: true });
  await connector.request('bridge_domain_add_del', { is_add: true, bd_id: 1, bd_tag: '', flood: true, forward: true, learn: true });
  const bds = new Map([1, 2, 3].map((i) => [bridgeDomainKey(`bd${i}`), { name: `bd${i}`, interfaces: [] }]));
  const r = await s.commit(bds, { resync: 'full' });
  t.is(r.error, null, r.error?.message);
  // Re-created twice more (a flag change re-creates a bridge domain): each gets an id again.
  for (const flood of [true, false]) {
    const again = await s.commit(new Map([[bridgeDomainKey('bd1'), { name: 'bd1', flood, interfaces: [] }]]), {});
    t.is(again.error, null, again.error?.message);
  }
  const ids = (await connector.dump('bridge_domain_dump', {})).map((d) => d['bd_id'] as number).sort((a, b) => a - b);
  t.is(new Set(ids).size, 5);
  t.true(ids.every((id) => id >= 1 && id <= 0xffffff));
});

test('S2: an IPv6 rule with one network named matches any IPv6 address on the other side; mixed families are invalid', async (t) => {
  const d = createAclDescriptor();
  const rule = (ip: Record<string, string>) =>
    (d.validate(aclKey('v6'), { name: 'v6', rules: [{ action: 'PERMIT', ipRule: { ip } }], interfaces: { ingress: [], egress: [] } }) as { rules: Array<{ ipRule: { ip: unknown } }> })
      .rules[0]?.ipRule.ip;
  t.like(rule({ sourceNetwork: 'fd00::/64' }), { sourceNetwork: 'fd00::/64', destinationNetwork: '::/0' });
  t.like(rule({ destinationNetwork: 'fd00::1/128' }), { sourceNetwork: '::/0', destinationNetwork: 'fd00::1/128' });
  t.like(rule({}), { sourceNetwork: '0.0.0.0/0', destinationNetwork: '0.0.0.0/0' });
  t.throws(() => rule({ sourceNetwork: '10.0.0.0/8', destinationNetwork: 'fd00::/64' }), { message: /acl\/v6.*rules\[0\].*family/ });
  // Through the dataplane: the IPv6 rule reads back as it was written.
  const { s } = await realStack(t);
  const acl = { name: 'v6', rules: [{ action: 'PERMIT', ipRule: { ip: { sourceNetwork: 'fd00::/64' } } }], interfaces: { ingress: [], egress: [] } };
  t.is((await s.commit(new Map([[aclKey('v6'), acl]]), {})).error, null);
  await inSync(t, s);
});

test('S2: DNAT44 maps IPv4 addresses only: an IPv6 external or local address is invalid, naming the field', (t) => {
  const nat = (externalIp: string, localIp: string) => ({ staticMappings: [{ externalIp, externalPort: 80, localIps: [{ localIp, localPort: 8080 }] }] });
  t.notThrows(() => dnat44Descriptor.validate(dnat44Key('ok'), nat('10.96.0.1', '10.1.1.2')));
  t.throws(() => dnat44Descriptor.validate(dnat44Key('a'), nat('fd00::1', '10.1.1.2')), { message: /externalIp.*IPv4/ });
  t.throws(() => dnat44Descriptor.validate(dnat44Key('b'), nat('10.96.0.1', 'fd00::2')), { message: /localIp.*IPv4/ });
});

test('S2: an interface moved from one bridge domain to another in one commit ends up in the second', async (t) => {
  for (const [from, to] of [['bdA', 'bdB'], ['bdB', 'bdA']] as const) {
    const { s } = await realStack(t);
    const bd = (name: string, members: string[]) => ({ name, flood: true, learn: true, interfaces: members.map((m) => ({ name: m })) });
    let r = await s.commit(new Map<string, Record<string, unknown>>([[bridgeDomainKey(from), bd(from, ['m1', 'm2'])], [bridgeDomainKey(to), bd(to, ['m3'])], [interfaceKey('m1'), loop('m1')], [interfaceKey('m2'), loop('m2')], [interfaceKey('m3'), loop('m3')]]), {});
    t.is(r.error, null);
    r = await s.commit(new Map([[bridgeDomainKey(from), bd(from, ['m2'])], [bridgeDomainKey(to), bd(to, ['m3', 'm1'])]]), {});
    t.is(r.error, null);
    await inSync(t, s);
    const sb = (await s.dump(bridgeDomainKey(to), 'sb')).get(bridgeDomainKey(to)) as { interfaces: Array<{ name: string }> };
    t.deepEqual(sb.interfaces.map((i) => i.name).sort(), ['m1', 'm3']);
  }
});

test('S4 N3: a full resync repairs a bridge domain whose BVI was changed on the dataplane (the dump says which port is the BVI)', async (t) => {
  const { connector, s } = await realStack(t);
  const want = new Map<string, Record<string, unknown>>([
    [interfaceKey('b1'), loop('b1')],
    [interfaceKey('b2'), loop('b2')],
    [bridgeDomainKey('bd1'), { name: 'bd1', interfaces: [{ name: 'b1', bridgedVirtualInterface: true }, { name: 'b2' }] }],
  ]);
  t.is((await s.commit(want, { resync: 'full' })).error, null);
  const swOf = async (tag: string) => ((await connector.dump('sw_interface_dump', {})).find((d) => d['tag'] === tag)?.['sw_if_index'] as number);
  const bd = (await connector.dump('bridge_domain_dump', {}))[0]?.['bd_id'] as number;
  // Someone makes b1 a plain port behind our back.
  t.is((await connector.request('sw_interface_set_l2_bridge', { rx_sw_if_index: await swOf('b1'), bd_id: bd, enable: true, port_type: 0 }))['retval'], 0);
  const r = await s.commit(want, { resync: 'full' });
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => `${o.op} ${o.key}`), [`update ${bridgeDomainKey('bd1')}`]);
  await inSync(t, s);
  const details = (await connector.dump('bridge_domain_dump', {}))[0];
  t.is(details?.['bvi_sw_if_index'], await swOf('b1'));
});
