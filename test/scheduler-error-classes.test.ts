// The scheduler's error classes: name, stable code and message (STYLE #4), table-driven.
import test from 'ava';
import { EngineError } from '../src/api/errors.js';
import {
  DescriptorError,
  DescriptorRegistrationError,
  InvalidValueError,
  SchedulerClosedError,
  UnimplementedKeyError,
} from '../src/scheduler/index.js';

const cases: Array<[EngineError, string, string, RegExp]> = [
  [new InvalidValueError('k/1', 'x must be a number'), 'InvalidValueError', 'ERR_INVALID_VALUE', /^invalid value for k\/1: x must be a number$/],
  [new SchedulerClosedError(), 'SchedulerClosedError', 'ERR_SCHEDULER_CLOSED', /^scheduler is closed$/],
  [new UnimplementedKeyError('nobody/x'), 'UnimplementedKeyError', 'ERR_UNIMPLEMENTED_KEY', /^no descriptor handles key nobody\/x$/],
  [new DescriptorRegistrationError('clash'), 'DescriptorRegistrationError', 'ERR_DESCRIPTOR_REGISTRATION', /^clash$/],
  [new DescriptorError('vpp-route', 'no sw_if_index'), 'DescriptorError', 'ERR_DESCRIPTOR', /^descriptor vpp-route: no sw_if_index$/],
];

for (const [err, name, code, message] of cases) {
  test(`S5: ${name} has code ${code}`, (t) => {
    t.true(err instanceof EngineError);
    t.is(err.name, name);
    t.is(err.code, code);
    t.regex(err.message, message);
  });
}
