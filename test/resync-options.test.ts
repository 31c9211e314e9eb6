import test from 'ava';
import { DuplicateRegistrationError, ResyncOrchestrator, ResyncOrchestratorClosedError } from '../src/resync/index.js';
import { EngineError } from '../src/api/index.js';

test('R1 R2: options are validated, naming the option, the expectation and the value', (t) => {
  t.throws(() => new ResyncOrchestrator({ acceptTimeout: -1 }), { instanceOf: RangeError, message: /acceptTimeout.*-1/ });
  t.throws(() => new ResyncOrchestrator({ ackTimeout: Number.NaN }), { instanceOf: TypeError, message: /ackTimeout.*finite/ });
  t.throws(() => new ResyncOrchestrator({ ackTimeout: '5' as unknown as number }), { instanceOf: TypeError, message: /ackTimeout.*"5"/ });
  t.throws(() => new ResyncOrchestrator({ acceptTimeout: 2 ** 31 }), { instanceOf: RangeError, message: /acceptTimeout/ });
  t.throws(() => new ResyncOrchestrator({ logger: {} as never }), { instanceOf: TypeError, message: /logger.*warn/ });
  t.throws(() => new ResyncOrchestrator(5 as never), { instanceOf: TypeError, message: /options/ });
  t.notThrows(() => new ResyncOrchestrator({}));
  t.throws(() => new ResyncOrchestrator().onResync(5 as never), { instanceOf: TypeError, message: /listener/ });
});

const errors = [
  { make: () => new DuplicateRegistrationError('x'), name: 'DuplicateRegistrationError', code: 'ERR_RESYNC_DUPLICATE_REGISTRATION', message: /"x" already exists/ },
  { make: () => new ResyncOrchestratorClosedError('register'), name: 'ResyncOrchestratorClosedError', code: 'ERR_RESYNC_ORCHESTRATOR_CLOSED', message: /cannot register/ },
];

for (const e of errors) {
  test(`R1 R3: ${e.name} has a stable code and extends EngineError`, (t) => {
    const err = e.make();
    t.true(err instanceof EngineError);
    t.is(err.name, e.name);
    t.is(err.code, e.code);
    t.regex(err.message, e.message);
  });
}
