// Bad values and keys from a handler, through the real engine (Controller + Scheduler + simulated
// VPP engine; the huge-value case over the threaded stack and its rings). Each gets a typed error
// or a defined outcome, the loop keeps running, and the other keys of the event are not lost.
import test from 'ava';
import { EngineError, TransactionError, type Value } from '../src/api/index.js';
import { Controller } from '../src/controller/index.js';
import { startDefaultStack } from '../src/engine/index.js';
import { StartupResync, TestUpdate, loopback, putsHandler, startTestEngine } from './helpers/flood-engine.js';

const IF = 'config/vpp/v2/interfaces/';

async function commitOne(puts: Map<unknown, unknown>): Promise<{ err: Error | null; sb: Map<string, Value>; engine: Awaited<ReturnType<typeof startTestEngine>> }> {
  const engine = await startTestEngine([putsHandler]);
  const ev = new TestUpdate('bad', puts);
  engine.controller.pushEvent(ev);
  const err = await ev.completion.settled;
  // The loop goes on: a later event is processed.
  const after = new TestUpdate('after', new Map([[`${IF}after`, loopback('after')]]));
  engine.controller.pushEvent(after);
  if ((await after.completion.settled) !== null) throw new Error('the loop did not go on');
  return { err, sb: await engine.scheduler.dump('', 'sb'), engine };
}

test('C19 S2 S5: a value the descriptor rejects fails only its key (InvalidValueError); the other keys commit', async (t) => {
  const { err, sb, engine } = await commitOne(new Map<string, Value>([[`${IF}good`, loopback('good')], [`${IF}bad`, { ...loopback('bad'), mtu: 'huge' }]]));
  try {
    t.true(err instanceof TransactionError);
    const kv = (err as TransactionError).kvErrors;
    t.deepEqual(kv.map((e) => e.key), [`${IF}bad`]);
    t.is((kv[0]?.error as EngineError).code, 'ERR_INVALID_VALUE');
    t.true(sb.has(`${IF}good`));
    t.false(sb.has(`${IF}bad`));
    t.true(sb.has(`${IF}after`));
  } finally {
    await engine.close();
  }
});

test('C19: a non-string key is refused by the transaction with a TypeError; the event fails, the loop goes on', async (t) => {
  const { err, engine } = await commitOne(new Map<unknown, unknown>([[42, loopback('n')]]));
  try {
    t.true(err instanceof TypeError);
    t.regex(String(err?.message), /key must be a string, received number/);
  } finally {
    await engine.close();
  }
});

test('C19 S2: a key no descriptor handles is kept as unimplemented (ERR_UNIMPLEMENTED_KEY status), never sent to the dataplane', async (t) => {
  const { err, sb, engine } = await commitOne(new Map<string, Value>([['config/unknown/thing', { a: 1 }]]));
  try {
    t.is(err, null);
    t.false(sb.has('config/unknown/thing'));
    const status = engine.scheduler.getStatus('config/unknown/thing');
    t.is(status?.state as string, 'unimplemented');
    t.is(((status as { error?: EngineError } | undefined)?.error)?.code, 'ERR_UNIMPLEMENTED_KEY');
  } finally {
    await engine.close();
  }
});

test('C19 S5: an empty key fails only itself with a typed error; the other keys commit', async (t) => {
  const { err, sb, engine } = await commitOne(new Map<string, Value>([['', loopback('x')], [`${IF}fine`, loopback('fine')]]));
  try {
    t.true(err instanceof TransactionError, `got ${String(err)}`);
    t.is(((err as TransactionError).kvErrors[0]?.error as EngineError | undefined)?.code?.startsWith('ERR_'), true);
    t.true(sb.has(`${IF}fine`));
  } finally {
    await engine.close();
  }
});

// Values must be plain serializable data (API.md "Values"): put() refuses the rest with
// InvalidValueError naming the key and the offending path, so nothing else ever meets them.
test('C19: a function, a cycle or a BigInt inside a value is refused with a typed error', async (t) => {
  const cyclic: Record<string, unknown> = { ...loopback('cyc') };
  cyclic['self'] = cyclic;
  for (const [name, value] of [
    ['fn', { ...loopback('fn'), hook: () => 1 }],
    ['cyc', cyclic],
    ['big', { ...loopback('big'), extra: 10n }],
  ] as const) {
    const { err, engine } = await commitOne(new Map<string, unknown>([[`${IF}${name}`, value]]));
    try {
      t.true(err instanceof EngineError && /^ERR_/.test(err.code), `${name}: got ${String(err)}`);
      t.notThrows(() => engine.controller.getConfig(`${IF}${name}`), `${name}: getConfig must not throw`);
    } finally {
      await engine.close();
    }
  }
});

// VPP tags hold 63 bytes of name.
test('C19 S2: an interface name longer than VPP allows is refused with InvalidValueError', async (t) => {
  const name = 'n'.repeat(100_000);
  const { err, engine } = await commitOne(new Map<string, Value>([[`${IF}${name}`, loopback(name)]]));
  try {
    t.true(err instanceof TransactionError);
    t.is(((err as TransactionError).kvErrors[0]?.error as EngineError | undefined)?.code, 'ERR_INVALID_VALUE');
  } finally {
    await engine.close();
  }
});

test('C19 V3: a huge value over the threaded stack finishes its event (committed or a typed error) and the loop goes on', async (t) => {
  const stack = await startDefaultStack({ sim: { seed: 1 } });
  const controller = new Controller({ handlers: [putsHandler], scheduler: stack.scheduler, config: { delayRetry: 1, delayAfterErrorHealing: 60_000 } });
  stack.attach(controller);
  try {
    await controller.start();
    const startup = new StartupResync();
    controller.pushEvent(startup);
    await startup.completion.settled;
    const rules = Array.from({ length: 40_000 }, (_, i) => ({
      action: 'PERMIT',
      ipRule: { ip: { sourceNetwork: `10.${(i >> 8) & 255}.${i & 255}.0/24`, destinationNetwork: '0.0.0.0/0' } },
    }));
    const huge = new TestUpdate('huge', new Map<string, Value>([['config/vpp.acls/v2/acl/huge', { name: 'huge', rules, interfaces: { ingress: [], egress: [] } }]]));
    controller.pushEvent(huge);
    const err = await huge.completion.settled;
    if (err !== null) {
      t.true(err instanceof TransactionError, String(err));
      const inner = (err as TransactionError).kvErrors[0]?.error as EngineError | undefined;
      t.regex(String(inner?.code), /^ERR_/);
    }
    const after = new TestUpdate('after', new Map([[`${IF}after`, loopback('after')]]));
    controller.pushEvent(after);
    t.is(await after.completion.settled, null);
    t.true((await stack.scheduler.dump(IF, 'sb')).has(`${IF}after`));
  } finally {
    await controller.close();
    await stack.close();
  }
});
