// Embedding the engine: the built-in handlers over the embedded default (native-sim in a worker thread).
import { AddPod, Controller, DBResync, DeletePod, builtinHandlers } from '../src/index.js';

const controller = new Controller({ handlers: [...builtinHandlers()] });
await controller.start();

// Nothing is processed before the first resync (here: an empty cluster).
controller.pushEvent(new DBResync());

// A CNI-style request: blocking, all-or-nothing, answered with the pod's address.
const add = new AddPod({ namespace: 'default', name: 'web-1' });
controller.pushEvent(add);
await add.wait();
console.log('web-1 got', add.result?.ipAddress, 'on', add.result?.interfaceName);

const del = new DeletePod({ namespace: 'default', name: 'web-1' });
controller.pushEvent(del);
await del.wait();

for (const record of controller.getEventHistory()) {
  console.log(`#${record.seqNum} ${record.name}: ${record.description}`, record.txnError ? `(error: ${record.txnError.message})` : '');
}
await controller.close();
