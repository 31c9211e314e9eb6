// Failure-path audit of the connector (V1–V4): seeded random mixes of requests, batches (with bad
// items), dumps, oversized and unknown messages, while the dataplane stalls, slows down or answers
// with errors, and a close() at a random point. Every operation settles once, with its own reply
// (never another request's) or a typed EngineError; nothing hangs or stays in flight after close().
import test from 'ava';
import fc from 'fast-check';
import { startNativeSim } from '../native-sim/index.js';
import { EngineError } from '../src/api/errors.js';
import { ConnectorClosedError, VppConnector, type BatchItem } from '../src/connector/index.js';

type Action =
  | { kind: 'request' | 'dump' | 'unknown' | 'huge' }
  | { kind: 'batch'; size: number; bad: boolean }
  | { kind: 'stall' | 'latency'; ms: number }
  | { kind: 'errors' }
  | { kind: 'yield' };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom<Action>({ kind: 'request' }, { kind: 'dump' }, { kind: 'unknown' }, { kind: 'huge' }, { kind: 'errors' }, { kind: 'yield' }),
  fc.record({ kind: fc.constant('batch' as const), size: fc.integer({ min: 1, max: 300 }), bad: fc.boolean() }),
  fc.record({ kind: fc.constantFrom('stall' as const, 'latency' as const), ms: fc.integer({ min: 10, max: 120 }) }),
);

async function scenario(transport: 'ring' | 'postMessage', actions: readonly Action[], closeAt: number): Promise<string | null> {
  const sim = await startNativeSim({ ringBytes: 4096 });
  try {
    const c = await VppConnector.connect(sim, { transport, pingInterval: 0, replyTimeout: 60, maxInFlight: 32 });
    const ops: Array<Promise<unknown>> = [];
    // The tag each single create_loopback carried, by op index: its reply must name that interface.
    const tags = new Map<number, string>();
    let closed: Promise<void> | null = null;
    for (let i = 0; i <= actions.length; i++) {
      if (i === closeAt) closed = c.close();
      const a = actions[i];
      if (a === undefined) break;
      switch (a.kind) {
        case 'request':
          tags.set(ops.length, `r${i}`);
          ops.push(c.request('create_loopback', { tag: `r${i}` }));
          break;
        case 'dump':
          ops.push(c.dump('sw_interface_dump'));
          break;
        case 'unknown':
          ops.push(c.request('no_such_message'));
          break;
        case 'huge':
          ops.push(c.request('create_loopback', { tag: 'x'.repeat(8192) }));
          break;
        case 'batch': {
          const items: BatchItem[] = Array.from({ length: a.size }, (_, j) => (a.bad && j % 7 === 3 ? { name: 'sw_interface_dump' } : { name: 'create_loopback' }));
          ops.push(c.requestBatch(items));
          break;
        }
        case 'stall':
          if (closed === null) await sim.setFaults({ stallMs: a.ms });
          break;
        case 'latency':
          if (closed === null) await sim.setFaults({ latencyMs: a.ms });
          break;
        case 'errors':
          if (closed === null) await sim.setFaults({ errorRate: 0.5, seed: i });
          break;
        case 'yield':
          await new Promise((resolve) => setImmediate(resolve));
          break;
      }
    }
    const results = await Promise.allSettled(ops);
    await (closed ?? c.close());
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected' && !(r.reason instanceof EngineError)) return `op ${i} rejected with an untyped error: ${String(r.reason)}`;
      if (r.status === 'fulfilled' && Array.isArray(r.value)) {
        for (const item of r.value as unknown[]) {
          if (item instanceof Error && !(item instanceof EngineError)) return `op ${i}: a batch item failed with an untyped error: ${String(item)}`;
        }
      }
    }
    const byIndex = new Map((await sim.snapshot()).interfaces.map((x) => [x.sw_if_index, x.tag]));
    for (const [i, tag] of tags) {
      const r = results[i];
      if (r?.status !== 'fulfilled') continue;
      const got = byIndex.get((r.value as Record<string, number>)['sw_if_index'] as number);
      if (got !== tag) return `op ${i} (tag ${tag}) got the reply of another request (interface tagged ${String(got)})`;
    }
    if (c.stats().inFlight !== 0) return `${c.stats().inFlight} operation(s) in flight after close()`;
    const after = await c.request('control_ping').then(
      () => 'resolved',
      (err: unknown) => (err instanceof ConnectorClosedError ? null : String(err)),
    );
    return after;
  } finally {
    await sim.close();
  }
}

for (const transport of ['ring', 'postMessage'] as const) {
  test(`V1 V3 V4: every operation settles once with its own reply or a typed error under stalls, latency, errors and a random close (${transport})`, async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), fc.nat({ max: 14 }), async (actions, closeAt) => {
        const problem = await scenario(transport, actions, closeAt);
        if (problem !== null) throw new Error(problem);
      }),
      { seed: Number(process.env['AUDIT_SEED'] ?? 4242), numRuns: Number(process.env['AUDIT_RUNS'] ?? 12) },
    );
    t.pass();
  });
}
