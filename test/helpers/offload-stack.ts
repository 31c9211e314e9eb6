// A real stack for the offload tests: native-sim, a ring connector and an OffloadPool over it.
import { startNativeSim, type NativeSim } from '../../native-sim/index.js';
import { VppConnector } from '../../src/connector/index.js';
import { arpKey, interfaceKey, routeKey, vrfTableKey } from '../../src/descriptors/index.js';
import type { Prng } from '../../src/flood/prng.js';
import { OffloadPool, type OffloadOptions } from '../../src/offload/index.js';

export interface OffloadStack {
  readonly sim: NativeSim;
  readonly connector: VppConnector;
  readonly pool: OffloadPool;
  close(): Promise<void>;
}

export async function startOffloadStack(options: Omit<OffloadOptions, 'connector'> = {}): Promise<OffloadStack> {
  const sim = await startNativeSim();
  const connector = await VppConnector.connect(sim, { replyTimeout: 20_000, pingInterval: 0 });
  const pool = await OffloadPool.start({ threads: 2, ...options, connector });
  return {
    sim,
    connector,
    pool,
    async close() {
      await pool.close();
      await connector.close();
      await sim.close();
    },
  };
}

export type Entry = [string, Record<string, unknown>];

export function route(i: number, opts: { vrf?: number; via?: string; preference?: number } = {}): Entry {
  const v: Record<string, unknown> = { vrfId: opts.vrf ?? 0, dstNetwork: `10.${(i >>> 8) & 255}.${i & 255}.0/24`, weight: 1, preference: opts.preference ?? 0 };
  if (opts.via) v['outgoingInterface'] = opts.via;
  else v['nextHopAddr'] = '192.168.0.1';
  return [routeKey(v as { vrfId: number; dstNetwork: string }), v];
}

export function vrf(id: number): Entry {
  return [vrfTableKey(id, 'IPV4'), { id, protocol: 'IPV4' }];
}

export function loopback(name: string, vrfId: number, addr: string): Entry {
  return [interfaceKey(name), { name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [addr], vrf: vrfId }];
}

/**
 * A state with three dependency levels: VRF tables, loopbacks in them, routes in the tables and
 * through the loopbacks (created in the wrong order, the sim rejects them).
 */
export function layeredState(routes: number): Entry[] {
  const out: Entry[] = [vrf(1), vrf(2), loopback('loop1', 1, '172.16.1.1/24'), loopback('loop2', 2, '172.16.2.1/24')];
  for (let i = 0; i < routes; i++) {
    const v = i % 2 === 0 ? 1 : 2;
    out.push(route(i, i % 3 === 0 ? { vrf: v, via: `loop${v}` } : { vrf: v }));
  }
  return out;
}

/** A random desired state over a small universe: tables, loopbacks (some unnumbered), routes and ARP entries through them. */
export function randomState(rng: Prng): Entry[] {
  const out: Entry[] = [];
  const vrfs = [1, 2].filter(() => rng.chance(0.8));
  for (const id of vrfs) out.push([vrfTableKey(id, 'IPV4'), { id, protocol: 'IPV4' }]);
  const loops: string[] = [];
  for (let n = 0; n < 4; n++) {
    if (!rng.chance(0.75)) continue;
    const name = `loop${n}`;
    const v: Record<string, unknown> = { name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [`172.16.${n}.1/24`], vrf: rng.pick([0, 1, 2]) };
    if (rng.chance(0.5)) v['mtu'] = 1500;
    out.push([interfaceKey(name), v]);
    loops.push(name);
  }
  const named = [...loops];
  for (let n = 0; n < 2; n++) {
    if (loops.length === 0 || !rng.chance(0.6)) continue;
    const name = `unn${n}`;
    out.push([interfaceKey(name), { name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0, unnumbered: { interfaceWithIp: rng.pick(loops) } }]);
    named.push(name);
  }
  // Some routes and ARP entries name an interface that may not be desired: they fail, typed.
  const anyIf = [...named, 'loop0', 'loop3'];
  for (let i = 0; i < 24; i++) if (rng.chance(0.7)) out.push(route(i, rng.chance(0.6) ? { via: rng.pick(anyIf), preference: rng.int(2) } : { preference: rng.int(2) }));
  for (let i = 0; i < 4; i++) {
    if (!rng.chance(0.6)) continue;
    const iface = rng.pick(anyIf);
    out.push([arpKey(iface, `172.16.9.${i + 1}`), { interface: iface, ipAddress: `172.16.9.${i + 1}`, physAddress: `02:00:00:00:09:0${i + 1}`, static: true }]);
  }
  return out;
}
