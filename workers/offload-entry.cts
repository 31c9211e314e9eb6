// The offload pool's entry in each thread, CommonJS on purpose: piscina require()s its task module,
// and require() of an ES module (Node >= 20.19) instantiates the whole graph synchronously, a path
// on which Node can abort the process with a V8 fatal error (seen when a pool closed while its
// threads were still loading). Loaded here with import(), asynchronously, as soon as the thread starts.
import type { OffloadTask } from '../src/offload/task-protocol.js';

const task = import('./offload-task.js');
// A module that fails to load fails each task that awaits it, not the thread before any does.
task.catch(() => undefined);

module.exports = async function run(t: OffloadTask): Promise<unknown> {
  return (await task).default(t);
};
