// A real stack for the offload tests: native-sim, a ring connector and an OffloadPool over it.
import { startNativeSim, type NativeSim } from '../../native-sim/index.js';
import { VppConnector } from '../../src/connector/index.js';
import { interfaceKey, routeKey, vrfTableKey } from '../../src/descriptors/index.js';
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
