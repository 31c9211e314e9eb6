// native-sim's route table with VPP's multipath rules: per (table, prefix) a list of paths that
// `is_multipath` adds and deletes one at a time; whole-route adds and deletes keep their old rules.
import test from 'ava';
import { VppRetval } from '../src/binapi/retval.js';
import { DataplaneState } from '../native-sim/dataplane-state.js';
import { sharedPath } from '../native-sim/route-table.js';
import { call, dump, newEngine, retval } from './helpers/dataplane-engine.js';

const R = VppRetval;
type Path = { sw_if_index: number; nh: string; weight: number; preference: number };

function path(sw_if_index: number, nh: string, weight = 1, preference = 0): Path {
  return { sw_if_index, nh, weight, preference };
}

function req(is_add: boolean, prefix: string, paths: Path[], is_multipath = true, table_id = 0): Record<string, unknown> {
  return { is_add, is_multipath, route: { table_id, prefix, paths } };
}

function routes(e: ReturnType<typeof newEngine>, table_id = 0, is_ip6 = false): Array<{ prefix: unknown; paths: unknown }> {
  return dump(e, 'ip_route_dump', { table: { table_id, is_ip6 } }).map((d) => ({ prefix: d['prefix'], paths: d['paths'] }));
}

test('N2 N3: multipath adds collect the paths of one prefix; the dump gives one details message with all of them', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback')['sw_if_index'] as number;
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(~0 >>> 0, '192.168.0.1')])), 0);
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(~0 >>> 0, '192.168.0.2')])), 0, 'another gateway: no collision');
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(a, '')])), 0, 'the same prefix through an interface');
  t.is(retval(e, 'ip_route_add_del', req(true, '10.2.0.0/16', [path(a, '10.0.0.9')])), 0);
  t.deepEqual(routes(e), [
    { prefix: '10.1.0.0/16', paths: [path(0xffffffff, '192.168.0.1'), path(0xffffffff, '192.168.0.2'), path(a, '')] },
    { prefix: '10.2.0.0/16', paths: [path(a, '10.0.0.9')] },
  ]);
});

test('N2: a multipath add of an existing path (same next hop and interface) replaces weight and preference in place', (t) => {
  const e = newEngine();
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(0xffffffff, '192.168.0.1')])), 0);
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(0xffffffff, '192.168.0.2')])), 0);
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(0xffffffff, '192.168.0.1', 7, 3)])), 0);
  t.deepEqual(routes(e), [{ prefix: '10.1.0.0/16', paths: [path(0xffffffff, '192.168.0.1', 7, 3), path(0xffffffff, '192.168.0.2')] }]);
  // "No next hop" is the same path whether spelled '' or as the zero address.
  const s = new DataplaneState();
  s.addDelRoute(true, { table_id: 0, is_ip6: false, prefix: '10.3.0.0/16', paths: [path(0, '')] }, true);
  s.addDelRoute(true, { table_id: 0, is_ip6: false, prefix: '10.3.0.0/16', paths: [path(0, '0.0.0.0', 5)] }, true);
  t.deepEqual([...s.routesOf(0, false)].map((r) => r.paths), [[path(0, '0.0.0.0', 5)]]);
});

test('N2: a multipath delete removes one path; the prefix goes with its last path; a missing path is NO_SUCH_ENTRY', (t) => {
  const e = newEngine();
  const gw1 = path(0xffffffff, '192.168.0.1');
  const gw2 = path(0xffffffff, '192.168.0.2');
  retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [gw1]));
  retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [gw2]));
  t.is(retval(e, 'ip_route_add_del', req(false, '10.1.0.0/16', [path(0xffffffff, '192.168.0.3')])), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'ip_route_add_del', req(false, '10.9.0.0/16', [gw1])), R.NO_SUCH_ENTRY, 'no such prefix');
  t.is(retval(e, 'ip_route_add_del', req(false, '10.1.0.0/16', [gw1, path(0xffffffff, '192.168.0.3')])), R.NO_SUCH_ENTRY);
  t.deepEqual(routes(e), [{ prefix: '10.1.0.0/16', paths: [gw1, gw2] }], 'a failed delete of two paths removes neither');
  t.is(retval(e, 'ip_route_add_del', req(false, '10.1.0.0/16', [{ ...gw1, weight: 9 }])), 0, 'weight does not identify a path');
  t.deepEqual(routes(e), [{ prefix: '10.1.0.0/16', paths: [gw2] }]);
  t.is(retval(e, 'ip_route_add_del', req(false, '10.1.0.0/16', [gw1])), R.NO_SUCH_ENTRY, 'already gone');
  t.is(retval(e, 'ip_route_add_del', req(false, '10.1.0.0/16', [gw2])), 0);
  t.deepEqual(routes(e), []);
  t.is(retval(e, 'ip_route_add_del', req(false, '10.1.0.0/16', [gw2])), R.NO_SUCH_ENTRY);
});

test('N2: multipath requests are checked like whole-route ones (table, interface, no paths) and change nothing on failure', (t) => {
  const e = newEngine();
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(0xffffffff, '192.168.0.1')], true, 5)), R.NO_SUCH_FIB);
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(0xffffffff, '192.168.0.1'), path(42, '')])), R.INVALID_SW_IF_INDEX);
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [])), R.INVALID_VALUE);
  t.is(retval(e, 'ip_route_add_del', { is_add: true, is_multipath: 'yes', route: { table_id: 0, prefix: '10.1.0.0/16', paths: [] } }), R.INVALID_VALUE);
  t.deepEqual(routes(e), []);
});

test('N2: without is_multipath a route is added and deleted whole, as before', (t) => {
  const e = newEngine();
  const gw1 = path(0xffffffff, '192.168.0.1');
  const gw2 = path(0xffffffff, '192.168.0.2');
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [gw1, gw2], false)), 0);
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [gw1], false)), R.ENTRY_ALREADY_EXISTS);
  t.is(retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(0xffffffff, '192.168.0.3')])), 0, 'a multipath add joins it');
  t.deepEqual(routes(e), [{ prefix: '10.1.0.0/16', paths: [gw1, gw2, path(0xffffffff, '192.168.0.3')] }]);
  t.is(retval(e, 'ip_route_add_del', req(false, '10.1.0.0/16', [], false)), 0, 'a whole delete takes every path');
  t.deepEqual(routes(e), []);
});

test('N2 N3: deleting an interface removes only the paths through it; a prefix left without paths goes', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback')['sw_if_index'] as number;
  const b = call(e, 'create_loopback')['sw_if_index'] as number;
  retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(a, '10.0.0.1')]));
  retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(b, '10.0.0.2')]));
  retval(e, 'ip_route_add_del', req(true, '10.1.0.0/16', [path(a, '10.0.0.3')]));
  retval(e, 'ip_route_add_del', req(true, '10.2.0.0/16', [path(a, '10.0.0.1')]));
  retval(e, 'ip_route_add_del', req(true, '10.3.0.0/16', [path(0xffffffff, '192.168.0.1')]));
  retval(e, 'ip_route_add_del', req(true, '10.4.0.0/16', [path(a, '10.0.0.1'), path(b, '10.0.0.2')], false));
  t.is(retval(e, 'delete_loopback', { sw_if_index: a }), 0);
  t.deepEqual(routes(e), [
    { prefix: '10.1.0.0/16', paths: [path(b, '10.0.0.2')] },
    { prefix: '10.3.0.0/16', paths: [path(0xffffffff, '192.168.0.1')] },
    { prefix: '10.4.0.0/16', paths: [path(b, '10.0.0.2')] },
  ]);
  t.is(retval(e, 'delete_loopback', { sw_if_index: b }), 0);
  t.deepEqual(routes(e), [{ prefix: '10.3.0.0/16', paths: [path(0xffffffff, '192.168.0.1')] }]);
  // Once its paths are gone the interface is forgotten: a path re-added later through another index counts afresh.
  const c = call(e, 'create_loopback')['sw_if_index'] as number;
  retval(e, 'ip_route_add_del', req(true, '10.5.0.0/16', [path(c, '')]));
  t.is(retval(e, 'delete_loopback', { sw_if_index: c }), 0);
  t.deepEqual(routes(e).map((r) => r.prefix), ['10.3.0.0/16']);
});

test('N2 N5: the route count and the snapshot follow prefixes (not paths); a deleted table takes its routes', (t) => {
  const s = new DataplaneState();
  s.addDelTable(true, 7, false, '');
  s.addDelRoute(true, { table_id: 7, is_ip6: false, prefix: '10.1.0.0/16', paths: [path(0xffffffff, '192.168.0.1')] }, true);
  s.addDelRoute(true, { table_id: 7, is_ip6: false, prefix: '10.1.0.0/16', paths: [path(0xffffffff, '192.168.0.2')] }, true);
  s.addDelRoute(true, { table_id: 0, is_ip6: false, prefix: '10.1.0.0/16', paths: [path(0xffffffff, '192.168.0.1')] }, true);
  t.is(s.routes.size, 2);
  t.deepEqual(
    [...s.routes.values()].map((r) => [r.table_id, r.prefix, r.paths.length]),
    [
      [7, '10.1.0.0/16', 2],
      [0, '10.1.0.0/16', 1],
    ],
  );
  s.addDelTable(false, 7, false, '');
  t.is(s.routes.size, 1);
  t.deepEqual([...s.routesOf(7, false)], []);
  s.addDelTable(true, 7, false, '');
  t.deepEqual([...s.routesOf(7, false)], [], 'a re-created table starts empty');
});

test('N2 N3: prefixes come back from the table exactly as stored (IPv4 range edges, IPv6); identical paths are shared', (t) => {
  const s = new DataplaneState();
  const v4 = ['0.0.0.0/0', '255.255.255.255/32', '10.0.0.0/8', '192.168.1.128/25', '1.2.3.4/9', '10.0.0.0/08'];
  for (const prefix of v4) s.addDelRoute(true, { table_id: 0, is_ip6: false, prefix, paths: [path(0xffffffff, '192.168.0.1')] }, true);
  s.addDelRoute(true, { table_id: 0, is_ip6: true, prefix: 'fd00::/8', paths: [path(0xffffffff, 'fd00::1')] }, true);
  t.deepEqual([...s.routesOf(0, false)].map((r) => r.prefix), v4);
  t.deepEqual([...s.routesOf(0, true)].map((r) => r.prefix), ['fd00::/8']);
  // The request handler shares identical paths; one route's in-place update leaves the others alone.
  t.is(sharedPath(0xffffffff, '192.168.0.1', 1, 0), sharedPath(0xffffffff, '192.168.0.1', 1, 0));
  t.not(sharedPath(0xffffffff, '192.168.0.1', 1, 0), sharedPath(0xffffffff, '192.168.0.1', 4, 0));
  t.deepEqual(sharedPath(3, '', 1, 0), path(3, ''));
  s.addDelRoute(true, { table_id: 0, is_ip6: false, prefix: '10.0.0.0/8', paths: [path(0xffffffff, '192.168.0.1', 4)] }, true);
  t.deepEqual([...s.routesOf(0, false)].map((r) => r.paths[0]?.weight), [1, 1, 4, 1, 1, 1]);
  for (const prefix of v4) s.addDelRoute(false, { table_id: 0, is_ip6: false, prefix, paths: [path(0xffffffff, '192.168.0.1')] }, true);
  t.is(s.routes.size, 1);
});
