import test from 'ava';
import { ALL_INTERFACES } from '../src/binapi/messages.js';
import { call, dump, newEngine, retval } from './helpers/dataplane-engine.js';

test('N3: ip_address_dump with sw_if_index ~0 answers every interface\'s addresses of the family in one dump', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback', { tag: 'a' })['sw_if_index'] as number;
  const b = call(e, 'create_loopback', { tag: 'b' })['sw_if_index'] as number;
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: true, prefix: '10.0.0.1/24' }), 0);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: b, is_add: true, prefix: '10.0.1.1/24' }), 0);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: b, is_add: true, prefix: 'fd00::1/64' }), 0);
  const v4 = dump(e, 'ip_address_dump', { sw_if_index: ALL_INTERFACES, is_ipv6: false }).map((d) => [d['sw_if_index'], d['prefix']]);
  t.deepEqual(v4, [[a, '10.0.0.1/24'], [b, '10.0.1.1/24']]);
  const v6 = dump(e, 'ip_address_dump', { sw_if_index: ALL_INTERFACES, is_ipv6: true }).map((d) => [d['sw_if_index'], d['prefix']]);
  t.deepEqual(v6, [[b, 'fd00::1/64']]);
  // One interface still answers alone.
  t.deepEqual(dump(e, 'ip_address_dump', { sw_if_index: a, is_ipv6: false }).map((d) => d['prefix']), ['10.0.0.1/24']);
});
