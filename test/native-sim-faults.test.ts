import test from 'ava';
import { startNativeSim } from '../native-sim/index.js';
import { VppApiError, VppConnector } from '../src/connector/index.js';
import { call, newEngine } from './helpers/dataplane-engine.js';

function pattern(seed: number): number[] {
  const e = newEngine(seed);
  e.setFaults({ errorRate: 0.3 }, 0);
  return Array.from({ length: 200 }, () => call(e, 'sw_interface_set_flags', { sw_if_index: 0, flags: 1 })['retval'] as number);
}

test('N4: injected errors are seeded: the same seed and messages give the same faults', (t) => {
  const a = pattern(42);
  t.deepEqual(pattern(42), a);
  t.notDeepEqual(pattern(43), a);
  const failed = a.filter((r) => r === -1).length;
  t.true(failed > 20 && failed < 120, `${failed} of 200 at rate 0.3`);
  t.true(a.every((r) => r === 0 || r === -1));
});

test('N4 N5: the messages filter restricts injection; control_ping is never failed; counters by name', (t) => {
  const e = newEngine(7);
  e.setFaults({ errorRate: 1, messages: ['create_loopback', 'control_ping'] }, 0);
  t.is(call(e, 'create_loopback')['retval'], -1);
  t.is(call(e, 'sw_interface_set_flags', { sw_if_index: 0, flags: 1 })['retval'], 0);
  e.setFaults({ messages: [] }, 0);
  t.is(call(e, 'control_ping')['retval'], 0, 'control_ping is exempt even at rate 1');
  t.is(call(e, 'sw_interface_set_flags', { sw_if_index: 0, flags: 1 })['retval'], -1);
  const n = e.counters();
  t.deepEqual(n.errorsInjected, { create_loopback: 1, sw_interface_set_flags: 1 });
  t.deepEqual(n.messages, { create_loopback: 1, sw_interface_set_flags: 2, control_ping: 1 });
  t.is(e.snapshot().interfaces.length, 1, 'an injected error applies nothing');
});

test('N4: an error rate per message type (errorRates) wins over errorRate for the names it lists; {} clears it', async (t) => {
  const e = newEngine(11);
  e.setFaults({ errorRate: 1, errorRates: { create_loopback: 0, sw_interface_set_mtu: 0.5, control_ping: 1 } }, 0);
  const loop = Array.from({ length: 20 }, () => call(e, 'create_loopback')['retval']);
  t.true(loop.every((r) => r === 0), 'rate 0 for create_loopback, whatever errorRate says');
  t.is(call(e, 'sw_interface_set_flags', { sw_if_index: 0, flags: 1 })['retval'], -1, 'others keep errorRate');
  const mtu = Array.from({ length: 200 }, () => call(e, 'sw_interface_set_mtu', { sw_if_index: 1, mtu: 1500 })['retval'] as number);
  const failed = mtu.filter((r) => r === -1).length;
  t.true(failed > 60 && failed < 140, `${failed} of 200 at rate 0.5`);
  t.is(call(e, 'control_ping')['retval'], 0, 'control_ping is never failed');
  e.setFaults({ errorRate: 0, errorRates: {} }, 0);
  t.is(call(e, 'sw_interface_set_mtu', { sw_if_index: 1, mtu: 1500 })['retval'], 0, 'cleared');
  const sim = await startNativeSim();
  t.teardown(() => sim.close());
  await t.throwsAsync(sim.setFaults({ errorRates: { create_loopback: 1.5 } }), { instanceOf: RangeError, message: /errorRates\.create_loopback/ });
  await t.throwsAsync(sim.setFaults({ errorRates: [] as never }), { instanceOf: TypeError, message: /errorRates/ });
});

test('N4 N5: through the thread: errorRate answers retval -1 (UNSPECIFIED); counters and reseeding reproduce it', async (t) => {
  const sim = await startNativeSim({ seed: 5 });
  t.teardown(() => sim.close());
  const c = await VppConnector.connect(sim, { pingInterval: 0 });
  t.teardown(() => c.close());
  const run = async (): Promise<boolean[]> => {
    await sim.setFaults({ errorRate: 0.5, messages: ['sw_interface_set_flags'], seed: 99 });
    const res = await c.requestBatch(Array.from({ length: 100 }, () => ({ name: 'sw_interface_set_flags', fields: { sw_if_index: 0, flags: 1 } })));
    return res.map((r) => r instanceof VppApiError && r.retval === -1 && r.retvalName === 'UNSPECIFIED');
  };
  const first = await run();
  t.deepEqual(await run(), first);
  const failed = first.filter(Boolean).length;
  t.true(failed > 0 && failed < 100);
  const n = await sim.counters();
  t.is(n.errorsInjected['sw_interface_set_flags'], failed * 2);
  t.is(c.stats().errorsByRetval['UNSPECIFIED'], failed * 2);
  await sim.setFaults({ errorRate: 0 });
  t.is((await c.request('sw_interface_set_flags', { sw_if_index: 0, flags: 1 }))['retval'], 0);
});

test('N4: invalid fault settings and options are rejected with TypeError/RangeError naming the field', async (t) => {
  await t.throwsAsync(startNativeSim({ ringBytes: 3 }), { instanceOf: RangeError, message: /ringBytes/ });
  await t.throwsAsync(startNativeSim({ seed: 1.5 }), { instanceOf: TypeError, message: /seed/ });
  await t.throwsAsync(startNativeSim({ spinMicros: -1 }), { instanceOf: RangeError, message: /spinMicros/ });
  const sim = await startNativeSim();
  t.teardown(() => sim.close());
  await t.throwsAsync(sim.setFaults({ errorRate: 2 }), { instanceOf: RangeError, message: /errorRate/ });
  await t.throwsAsync(sim.setFaults({ latencyMs: 'x' as unknown as number }), { instanceOf: TypeError, message: /latencyMs/ });
  await t.throwsAsync(sim.setFaults({ messages: 'create_loopback' as unknown as string[] }), { instanceOf: TypeError, message: /messages/ });
  await t.throwsAsync(sim.setFaults(null as unknown as object), { instanceOf: TypeError });
  await t.throwsAsync(sim.attachRequestRing(new ArrayBuffer(8) as unknown as SharedArrayBuffer), { instanceOf: TypeError });
});

test('N5: snapshot reports the full state; restart loses it and changes the epoch', async (t) => {
  const sim = await startNativeSim();
  t.teardown(() => sim.close());
  const c = await VppConnector.connect(sim, { pingInterval: 0 });
  t.teardown(() => c.close());
  const idx = (await c.request('create_loopback', { tag: 'l' }))['sw_if_index'] as number;
  await c.requestBatch([
    { name: 'ip_table_add_del', fields: { is_add: true, table: { table_id: 3, is_ip6: false } } },
    { name: 'sw_interface_set_table', fields: { sw_if_index: idx, is_ipv6: false, vrf_id: 3 } },
    { name: 'sw_interface_add_del_address', fields: { sw_if_index: idx, is_add: true, prefix: '10.0.0.1/24' } },
    { name: 'ip_route_add_del', fields: { is_add: true, route: { table_id: 3, prefix: '10.1.0.0/16', paths: [{ sw_if_index: idx, nh: '10.0.0.2', weight: 1, preference: 0 }] } } },
    { name: 'ip_neighbor_add_del', fields: { is_add: true, neighbor: { sw_if_index: idx, ip_address: '10.0.0.2', mac_address: '02:00:00:00:00:02', flags: 1 } } },
    { name: 'acl_add_replace', fields: { acl_index: 0xffffffff, tag: 'a', r: [] } },
    { name: 'acl_interface_set_acl_list', fields: { sw_if_index: idx, n_input: 1, acls: [0] } },
    { name: 'nat44_add_del_static_mapping', fields: { is_add: true, tag: 'n', external_ip_address: '1.1.1.1', external_port: 80, protocol: 6, locals: [{ addr: '10.0.0.2', port: 80, probability: 1 }] } },
    { name: 'bridge_domain_add_del', fields: { is_add: true, bd_id: 1 } },
    { name: 'sw_interface_set_l2_bridge', fields: { rx_sw_if_index: idx, bd_id: 1, enable: true, port_type: 1 } },
  ]).then((r) => t.false(r.some((x) => x instanceof Error), String(r.find((x) => x instanceof Error))));
  const s = await sim.snapshot();
  t.like(s.interfaces[1], { sw_if_index: idx, tag: 'l', type: 'loopback', vrf: 3, addresses: ['10.0.0.1/24'], bridge_domain: { bd_id: 1, port_type: 1 } });
  t.is(s.tables.length, 3);
  t.is(s.routes.length, 1);
  t.is(s.neighbors.length, 1);
  t.is(s.acls.length, 1);
  t.deepEqual(s.aclBindings, [{ sw_if_index: idx, n_input: 1, acls: [0] }]);
  t.is(s.nat44StaticMappings.length, 1);
  t.deepEqual(s.bridgeDomains[0]?.members, [{ sw_if_index: idx, port_type: 1 }]);
  const epoch = await sim.restart();
  const after = await sim.snapshot();
  t.not(after.epoch, s.epoch);
  t.is(after.epoch, epoch);
  t.is(after.interfaces.length, 1);
  t.is(after.routes.length + after.acls.length + after.nat44StaticMappings.length + after.bridgeDomains.length, 0);
  t.is(after.tables.length, 2);
});
