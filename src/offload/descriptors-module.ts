// Loads the descriptors a sync uses, the same way in the main thread and in every worker.
import { builtinDescriptors } from '../descriptors/builtin.js';
import type { Descriptor } from '../scheduler/descriptor.js';

const cache = new Map<string, Promise<Descriptor[]>>();

/**
 * `module` (a file: URL) must export `descriptors(): Descriptor[]`; functions cannot cross threads,
 * so every thread imports the same module. Undefined: the built-in descriptors.
 */
export function loadDescriptors(module: string | undefined): Promise<Descriptor[]> {
  if (module === undefined) return Promise.resolve(builtinDescriptors());
  let p = cache.get(module);
  if (!p) {
    p = import(module).then((m: { descriptors?: unknown }) => {
      if (typeof m.descriptors !== 'function') throw new TypeError(`descriptorsModule: ${module} must export descriptors(), it does not`);
      return (m.descriptors as () => Descriptor[])();
    }, (err: unknown) => {
      // A module that cannot be found or fails to load is a bad option, not a crash of the pool.
      throw new TypeError(`descriptorsModule: cannot import ${module}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    cache.set(module, p);
  }
  return p;
}
