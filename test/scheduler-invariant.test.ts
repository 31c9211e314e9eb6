// The invariant on the real stack (Scheduler -> VppConnector -> native-sim): after seeded random
// commits of every built-in kind with injected dataplane errors, a restart, and then a final full
// resync without faults, the dataplane holds exactly the desired state.
import test from 'ava';
import type { Value } from '../src/api/values.js';
import type { CommitOptions } from '../src/api/scheduler.js';
import { aclKey, arpKey, bridgeDomainKey, dnat44Key, interfaceKey, routeKey, vrfTableKey } from '../src/descriptors/index.js';
import { realStack, sorted } from './helpers/scheduler-real-stack.js';

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const IFS = 6;
const TYPES = ['SOFTWARE_LOOPBACK', 'TAP', 'MEMIF'];

function generator(rnd: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const chance = (p: number): boolean => rnd() < p;
  const makers: Array<() => [string, Value]> = [
    () => {
      const id = pick([1, 2]);
      const protocol = pick(['IPV4', 'IPV6'] as const);
      return [vrfTableKey(id, protocol), { id, protocol, ...(chance(0.3) ? { label: `t${id}` } : {}) }];
    },
    () => {
      const i = Math.floor(rnd() * IFS);
      const name = `if${i}`;
      const unnumbered = chance(0.15);
      const addrs = unnumbered ? [] : [`10.${i}.0.1/24`, `10.${i}.1.1/24`, `fd00:${i}::1/64`].filter(() => chance(0.5));
      return [
        interfaceKey(name),
        {
          name,
          type: pick(TYPES),
          enabled: chance(0.5),
          ipAddresses: addrs,
          vrf: pick([0, 0, 1, 2]),
          ...(chance(0.3) ? { mtu: pick([1400, 1500, 9000]) } : {}),
          ...(unnumbered ? { unnumbered: { interfaceWithIp: `if${(i + 1) % IFS}` } } : {}),
        },
      ];
    },
    () => {
      const j = Math.floor(rnd() * 8);
      const r = { vrfId: j % 3 === 0 ? 1 : 0, dstNetwork: `10.100.${j}.0/24`, outgoingInterface: `if${j % IFS}`, nextHopAddr: `10.${j % IFS}.0.254` };
      return [routeKey(r), { ...r, weight: pick([1, 2, 5]), preference: pick([0, 10]) }];
    },
    () => {
      const j = Math.floor(rnd() * 6);
      const iface = `if${j % IFS}`;
      const ip = `10.200.${j}.1`;
      return [arpKey(iface, ip), { interface: iface, ipAddress: ip, physAddress: pick(['02:00:00:00:00:01', '02:00:00:00:00:02']), static: chance(0.5) }];
    },
    () => {
      const j = Math.floor(rnd() * 3);
      const iface = `if${j}`;
      return [
        aclKey(`acl${j}`),
        {
          name: `acl${j}`,
          rules: [{ action: pick(['PERMIT', 'DENY']), ipRule: { ip: { sourceNetwork: `10.${j}.0.0/16` }, ...(chance(0.5) ? { udp: { destinationPortRange: { lowerPort: 53, upperPort: 53 } } } : {}) } }],
          // ACLs share interfaces: each interface's list is the union of the ACLs naming it.
          interfaces: { ingress: ['if0', 'if1', 'if2'].filter(() => chance(0.4)), egress: chance(0.5) ? [iface] : [] },
        },
      ];
    },
    () => {
      const j = Math.floor(rnd() * 3);
      return [
        dnat44Key(`nat${j}`),
        {
          label: `nat${j}`,
          staticMappings: [1, 2].filter((k) => k === 1 || chance(0.5)).map((k) => ({ externalIp: `10.96.${j}.${k}`, externalPort: 80, localIps: [{ localIp: `10.1.${k}.${j + 2}`, localPort: pick([8080, 8443]) }] })),
        },
      ];
    },
    () => {
      const j = Math.floor(rnd() * 2);
      const members = [`if${2 * j}`, `if${2 * j + 1}`].filter(() => chance(0.6));
      const bvi = members.length > 0 && chance(0.5) ? members[0] : undefined;
      return [
        bridgeDomainKey(`bd${j}`),
        { name: `bd${j}`, flood: chance(0.5), learn: chance(0.5), interfaces: members.map((m) => ({ name: m, bridgedVirtualInterface: m === bvi })) },
      ];
    },
  ];
  return { pick, chance, change: (): [string, Value] => pick(makers)() };
}

for (const seed of [20261121, 7, 4242]) {
test(`S1-S7 invariant (seed ${seed}): random commits with injected errors, a restart, then a full resync leave the dataplane equal to the desired state`, async (t) => {
  const { sim, s } = await realStack(t, seed, 3000);
  const rnd = prng(seed);
  const g = generator(rnd);
  const model = new Map<string, Value>();
  await sim.setFaults({ errorRate: 0.08, seed });
  const STEPS = 300;
  let failedCommits = 0;
  for (let step = 0; step < STEPS; step++) {
    if (step === STEPS / 2) {
      await sim.restart();
      await s.resyncDownstream();
    }
    const changes = new Map<string, Value | null>();
    const n = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) {
      if (model.size > 0 && g.chance(0.25)) changes.set(g.pick([...model.keys()]), null);
      else {
        const [key, value] = g.change();
        changes.set(key, value);
      }
    }
    const options: CommitOptions = g.chance(0.2)
      ? { revert: true }
      : g.chance(0.3)
        ? { retry: { delay: 1, maxAttempts: 2, expBackoff: true } }
        : {};
    const r = await s.commit(changes, options);
    if (r.error) failedCommits++;
    if (r.error && options.revert) continue; // reverted: the desired state is unchanged
    for (const [k, v] of changes) {
      if (v === null) model.delete(k);
      else model.set(k, v);
    }
  }
  t.true(failedCommits > 0, 'faults were injected');
  await sim.setFaults({ errorRate: 0 });
  const final = await s.commit(model, { resync: 'full' });
  t.is(final.error, null);

  const nb = await s.dump('', 'nb');
  t.deepEqual([...nb.keys()].sort(), [...model.keys()].sort(), 'the desired state is what was committed');
  const configured = new Map([...nb].filter(([k]) => s.getStatus(k)?.state === 'configured'));
  t.deepEqual(sorted(await s.dump('', 'sb')), sorted(configured), 'the dataplane holds exactly the configured values');
  for (const k of nb.keys()) {
    const st = s.getStatus(k);
    if (st?.state === 'configured') continue;
    t.is(st?.state, 'pending', k);
    const waits = st?.state === 'pending' ? st.details.map((d) => d.replace('waiting for ', '')) : [];
    t.true(waits.length > 0 && waits.some((d) => !configured.has(d)), `${k} waits for a value that is not configured`);
  }
  t.true(configured.size > 0);
});
}
