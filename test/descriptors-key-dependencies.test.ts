import test from 'ava';
import { arpDescriptor, arpKey, routeDescriptor, routeKey } from '../src/descriptors/index.js';
import { Prng } from '../src/flood/prng.js';

/** Seeded valid routes of every key shape: with and without an interface, VRF 0 or not, IPv4 or IPv6, with and without a next hop (not without both). */
function routes(rng: Prng, n: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const v6 = rng.chance(0.3);
    const v: Record<string, unknown> = { vrfId: rng.pick([0, 0, 1, 7, 4096]), dstNetwork: v6 ? `fd00:${(i + 1).toString(16)}::/64` : `10.${i & 255}.${rng.int(256)}.0/24`, weight: 1, preference: 0 };
    const iface = rng.chance(0.5);
    if (iface) v['outgoingInterface'] = rng.pick(['tap0', 'loop-1', 'memif1.2', 'vxlan_tunnel3']);
    // A route has an interface, a next hop or both (one with neither is invalid).
    if (!iface || rng.chance(0.6)) v['nextHopAddr'] = v6 ? 'fd00::1' : '192.168.0.1';
    out.push(v);
  }
  return out;
}

test('S2: a route\'s and an ARP entry\'s dependencies named by the key are the ones its value gives, for every key shape', (t) => {
  const rng = new Prng(7);
  for (const v of routes(rng, 400)) {
    const key = routeKey(v as { vrfId: number; dstNetwork: string });
    const norm = routeDescriptor.validate(key, v);
    t.deepEqual(routeDescriptor.dependenciesOfKey?.(key), routeDescriptor.dependencies(key, norm), key);
  }
  for (let i = 0; i < 50; i++) {
    const iface = rng.pick(['tap0', 'loop1', 'memif1.2']);
    const ip = rng.chance(0.5) ? `10.0.0.${i + 1}` : `fd00::${i + 1}`;
    const key = arpKey(iface, ip);
    const norm = arpDescriptor.validate(key, { interface: iface, ipAddress: ip, physAddress: '02:00:00:00:00:01' });
    t.deepEqual(arpDescriptor.dependenciesOfKey?.(key), arpDescriptor.dependencies(key, norm), key);
  }
});

test('S2: a key that does not name its dependencies gets none from it (the value is read instead)', (t) => {
  for (const key of ['config/vpp/v2/route/if//vrf/0/dst/10.0.0.0/24', 'config/vpp/v2/route/vrf/x/dst/10.0.0.0/24', 'config/vpp/v2/route/garbage']) {
    t.is(routeDescriptor.dependenciesOfKey?.(key), undefined, key);
  }
  t.is(arpDescriptor.dependenciesOfKey?.('config/vpp/v2/arp/no-address'), undefined);
});

test('S2: the key builders write IPv6 addresses as validation does, so a key built from any spelling matches its value', (t) => {
  const route = { vrfId: 0, dstNetwork: '2001:DB8:0:0::/64', nextHopAddr: 'FD00:0::1', weight: 1, preference: 0 };
  const key = routeKey(route);
  t.is(key, 'config/vpp/v2/route/vrf/0/dst/2001:db8::/64/gw/fd00::1');
  t.like(routeDescriptor.validate(key, route), { dstNetwork: '2001:db8::/64', nextHopAddr: 'fd00::1' });
  const arp = { interface: 'tap0', ipAddress: 'FD00:0:0::5', physAddress: '02:00:00:00:00:01' };
  const akey = arpKey(arp.interface, arp.ipAddress);
  t.is(akey, 'config/vpp/v2/arp/tap0/fd00::5');
  t.like(arpDescriptor.validate(akey, arp), { ipAddress: 'fd00::5' });
  // IPv4 text is left as given (validation refuses non-canonical IPv4 anyway).
  t.is(routeKey({ vrfId: 1, dstNetwork: '10.0.0.0/8', nextHopAddr: '10.0.0.1' }), 'config/vpp/v2/route/vrf/1/dst/10.0.0.0/8/gw/10.0.0.1');
});
