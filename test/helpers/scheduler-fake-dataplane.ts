// A test double of the dataplane client (the `BinapiClient` interface), for unit-testing the
// scheduler core above it with the `thing` descriptor below. The real stack (connector +
// native-sim) is exercised by the descriptors-* and scheduler-invariant tests.
import type { Value } from '../../src/api/values.js';
import type { BinapiClient, Descriptor, Reply } from '../../src/scheduler/index.js';
import { InvalidValueError } from '../../src/scheduler/index.js';
import { EngineError } from '../../src/api/errors.js';

export class FakeVppError extends EngineError {
  readonly retval: number;
  constructor(name: string, retval: number) {
    super('ERR_VPP_API', `${name}: retval ${retval}`);
    this.retval = retval;
  }
}

interface Thing {
  id: number;
  name: string;
  x: number;
  parent: number | null;
}

/** A dataplane of "things": each has an id (its metadata) and may point at a parent thing. */
export class FakeDataplane implements BinapiClient {
  readonly things = new Map<number, Thing>();
  readonly log: string[] = [];
  batches = 0;
  #nextId = 1;
  /** Message names that fail (once per listed entry). */
  failures: string[] = [];
  /** When set, requestBatch never answers until `release()`. */
  #stalled: Array<() => void> | null = null;

  stall(): void {
    this.#stalled = [];
  }

  release(): void {
    const s = this.#stalled ?? [];
    this.#stalled = null;
    for (const r of s) r();
  }

  failNext(name: string, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(name);
  }

  byName(name: string): Thing | undefined {
    for (const t of this.things.values()) if (t.name === name) return t;
    return undefined;
  }

  async request(name: string, fields: Record<string, unknown> = {}): Promise<Reply> {
    const [r] = await this.requestBatch([{ name, fields }]);
    if (r instanceof Error) throw r;
    return r as Reply;
  }

  async requestBatch(msgs: ReadonlyArray<{ name: string; fields?: Record<string, unknown> }>): Promise<Array<Reply | Error>> {
    this.batches++;
    if (this.#stalled) await new Promise<void>((resolve) => this.#stalled?.push(resolve));
    return msgs.map((m) => this.#apply(m.name, m.fields ?? {}));
  }

  async dump(name: string): Promise<Reply[]> {
    if (name !== 'thing_dump') return [];
    const i = this.failures.indexOf(name);
    if (i >= 0) {
      this.failures.splice(i, 1);
      throw new FakeVppError(name, -1);
    }
    return [...this.things.values()].map((t) => ({ ...t }));
  }

  onRestart(): () => void {
    return () => {};
  }

  #apply(name: string, f: Record<string, unknown>): Reply | Error {
    this.log.push(`${name} ${String(f.name ?? f.id)}`);
    const i = this.failures.indexOf(name);
    if (i >= 0) {
      this.failures.splice(i, 1);
      return new FakeVppError(name, -1);
    }
    switch (name) {
      case 'thing_add': {
        if (this.byName(f.name as string)) return new FakeVppError(name, -81);
        const parent = f.parent as number | null;
        if (parent !== null && !this.things.has(parent)) return new FakeVppError(name, -2);
        const id = this.#nextId++;
        this.things.set(id, { id, name: f.name as string, x: f.x as number, parent });
        return { retval: 0, id };
      }
      case 'thing_set': {
        const t = this.things.get(f.id as number);
        if (!t) return new FakeVppError(name, -6);
        t.x = f.x as number;
        return { retval: 0 };
      }
      case 'thing_del': {
        const id = f.id as number;
        if (!this.things.has(id)) return new FakeVppError(name, -6);
        for (const t of this.things.values()) if (t.parent === id) return new FakeVppError(name, -7);
        this.things.delete(id);
        return { retval: 0 };
      }
      default:
        return new FakeVppError(name, -1);
    }
  }
}

export const THING_PREFIX = 'test/thing/';

/** `test/thing/<name>` -> { name, x, parent?, big? }: `parent` is a dependency; a change of `big` re-creates. */
export function thingDescriptor(): Descriptor {
  const asThing = (v: Value) => v as { name: string; x: number; parent?: string; big?: boolean };
  return {
    name: 'test-thing',
    keyPrefix: THING_PREFIX,
    validate(key, value) {
      const name = key.slice(THING_PREFIX.length);
      if (typeof value.x !== 'number') throw new InvalidValueError(key, 'x must be a number');
      if (value.parent !== undefined && typeof value.parent !== 'string') throw new InvalidValueError(key, 'parent must be a string');
      const out: Record<string, unknown> = { name, x: value.x };
      if (value.parent !== undefined) out.parent = value.parent;
      if (value.big === true) out.big = true;
      return out;
    },
    dependencies(_key, value) {
      const p = asThing(value).parent;
      return p ? [THING_PREFIX + p] : [];
    },
    needsRecreate(_key, a, b) {
      return asThing(a).big !== asThing(b).big;
    },
    create(_key, value, md) {
      const v = asThing(value);
      const parent = v.parent ? (md.get(THING_PREFIX + v.parent) ?? null) : null;
      return { requests: [{ name: 'thing_add', fields: { name: v.name, x: v.x, parent } }], capture: 'id' };
    },
    update(key, _old, value, md) {
      return [{ name: 'thing_set', fields: { id: md.get(key), x: asThing(value).x, name: asThing(value).name } }];
    },
    delete(key, value, md) {
      return [{ name: 'thing_del', fields: { id: md.get(key), name: asThing(value).name } }];
    },
    async retrieve(ctx) {
      const rows = await ctx.dump('thing_dump');
      const names = new Map<number, string>(rows.map((r) => [r.id as number, r.name as string]));
      return rows.map((r) => {
        const v: Record<string, unknown> = { name: r.name, x: r.x };
        if (r.parent !== null) v.parent = names.get(r.parent as number);
        const hint = ctx.correlate(THING_PREFIX + String(r.name));
        if (hint?.big === true) v.big = true;
        return { key: THING_PREFIX + String(r.name), value: v, metadata: r.id as number };
      });
    },
  };
}

export function thing(x: number, parent?: string, big?: boolean): Value {
  return { x, ...(parent ? { parent } : {}), ...(big ? { big } : {}) };
}
