// handlers.pods.scale: pod additions through the whole engine with the built-in handlers (IPAM,
// pod networking, services, policies), in a cluster of 10,000 pods against one of 1,000. A change
// should cost what it changes, not what the cluster holds: the target is a ratio of rates ≤ 1.5.
import { DBResync, KubeStateChange } from '../../src/api/events.js';
import { newKubeStateData, type Value } from '../../src/api/values.js';
import { generateCluster, podKey } from '../../src/dbwatcher/index.js';
import { Engine } from '../../src/engine/index.js';
import { builtinHandlers, podInterfaceName } from '../../src/handlers/index.js';
import { figure, type BenchSuite } from '../figure.js';

/** Pod additions per second once `pods` pods are connected (the first `warm` are not timed). */
async function podAdds(pods: number, adds: number, warm: number): Promise<number> {
  const engine = await Engine.start({ handlers: builtinHandlers(), config: { eventQueueSize: adds + warm + 10 } });
  try {
    const kube = newKubeStateData();
    for (const o of generateCluster({ pods, services: 50, namespaces: 10, policies: 100, nodes: 1 })) {
      let byKey = kube.get(o.resource);
      if (byKey === undefined) kube.set(o.resource, (byKey = new Map()));
      byKey.set(o.key, o.value as unknown as Value);
    }
    await new Promise<void>((resolve, reject) => {
      const resync = new DBResync({ kubeState: kube });
      resync.done = (err) => (err ? reject(err) : resolve());
      engine.controller.pushEvent(resync);
    });
    let seq = 0;
    const push = async (n: number): Promise<number> => {
      let left = n;
      let failed: Error | null = null;
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        for (let i = 0; i < n; i++) {
          // Labelled so that no service or policy selects them: the cost is the pod's own.
          const name = `added-${seq++}`;
          const e = new KubeStateChange({ key: podKey(name, 'ns-0'), resource: 'pod', prevValue: null, newValue: { name, namespace: 'ns-0', labels: { app: 'bench-added' } } });
          e.done = (err) => {
            failed ??= err;
            if (--left === 0) resolve();
          };
          engine.controller.pushEvent(e);
        }
      });
      if (failed) throw failed;
      return (n / (performance.now() - t0)) * 1000;
    };
    await push(warm);
    const rate = await push(adds);
    // Verify on the dataplane: every added pod has its interface.
    const sb = await engine.scheduler.dump('config/vpp/v2/interfaces/', 'sb');
    for (let i = 0; i < seq; i++) {
      const key = `config/vpp/v2/interfaces/${podInterfaceName(`ns-0/added-${i}`)}`;
      if (!sb.has(key)) throw new Error(`handlers bench: ${key} is not on the dataplane`);
    }
    return rate;
  } finally {
    await engine.close();
  }
}

export const suite: BenchSuite = {
  name: 'handlers',
  async run({ quick }) {
    const adds = quick ? 200 : 2000;
    // Alternated and the best of each kept: the first engine of the process also pays the JIT warm-up.
    let small = 0;
    let large = 0;
    for (let round = 0; round < (quick ? 1 : 2); round++) {
      small = Math.max(small, await podAdds(1_000, adds, 100));
      large = Math.max(large, await podAdds(10_000, adds, 100));
    }
    process.stderr.write(`  pod adds: ${small.toFixed(0)}/s at 1,000 pods, ${large.toFixed(0)}/s at 10,000 pods\n`);
    return {
      'handlers.pods.1k': figure(small, null, 'events/s'),
      'handlers.pods.10k': figure(large, null, 'events/s'),
      // Slowdown from 1,000 to 10,000 connected pods (rate at 1k ÷ rate at 10k).
      'handlers.pods.scale': figure(small / large, null, '×', 'ratio <= 1.5', small / large <= 1.5),
    };
  },
};
