// The flood's options and command line (SPEC F1-F3: a bad option is a clear error, exit status 2).
import test from 'ava';
import { FloodUsageError, parseFloodArgs } from '../src/flood/argv.js';
import { resolveFloodOptions } from '../src/flood/options.js';

test('F1: defaults: 10000 events at max rate on the built-in handlers, no faults', (t) => {
  const o = resolveFloodOptions({});
  t.is(o.events, 10_000);
  t.is(o.rate, Number.POSITIVE_INFINITY);
  t.is(o.handlers, null);
  t.is(o.faults, 0);
  t.is(o.dataplane, 'thread');
  t.is(resolveFloodOptions({ durationS: 3 }).events, 1e9, 'a duration alone bounds the run by time');
});

test('F1: the command line maps onto the options', (t) => {
  const c = parseFloodArgs(['--events', '500', '--rate', '200', '--handlers', '3', '--keys-per-event', '5', '--faults', '0.03', '--resync-every', '100', '--restarts', '1', '--seed', '11', '--json', '--dataplane', 'inline']);
  t.like(c.options, { events: 500, rate: 200, handlers: 3, keysPerEvent: 5, faults: 0.03, resyncEvery: 100, restarts: 1, seed: 11, dataplane: 'inline' });
  t.true(c.json);
  t.true(c.progress);
  t.is(parseFloodArgs(['--rate', 'max']).options.rate, 'max');
  t.false(parseFloodArgs(['--no-progress']).progress);
  t.true(parseFloodArgs(['-h']).help);
});

test('F1: bad command lines are FloodUsageErrors naming the flag and what was received', (t) => {
  const bad: Array<[string[], RegExp]> = [
    [['--events', 'lots'], /--events expects a whole number, received 'lots'/],
    [['--events', '0'], /--events must be from 1/],
    [['--faults', '1.5'], /--faults must be from 0 to 1, received 1.5/],
    [['--rate', 'fast'], /--rate expects a number, received 'fast'/],
    [['--keys-per-event', '5'], /--keys-per-event only applies to the synthetic mode/],
    [['--dataplane', 'gpu'], /--dataplane must be 'thread' or 'inline', received 'gpu'/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['stray'], /positional/i],
    [['--seed'], /argument missing/i],
  ];
  for (const [argv, message] of bad) {
    const err = t.throws(() => parseFloodArgs(argv), { instanceOf: FloodUsageError, message }, argv.join(' '));
    t.is(err?.code, 'ERR_FLOOD_USAGE');
  }
});

test('F1: programmatic options are validated with TypeError/RangeError naming the option', (t) => {
  t.throws(() => resolveFloodOptions({ events: 1.5 }), { instanceOf: TypeError, message: /events must be an integer, received 1.5/ });
  t.throws(() => resolveFloodOptions({ faults: -0.1 }), { instanceOf: RangeError, message: /faults must be from 0 to 1/ });
  t.throws(() => resolveFloodOptions({ rate: 'slow' as unknown as number }), { instanceOf: TypeError, message: /rate must be a number, received 'slow'/ });
  t.throws(() => resolveFloodOptions({ handlers: 0 }), { instanceOf: RangeError, message: /handlers must be from 1/ });
  t.throws(() => resolveFloodOptions('x' as never), { instanceOf: TypeError, message: /options must be an object/ });
});
