// Units of the DB watcher without etcd: options validation, error classes, key layout and routing,
// value parsing, duplicate suppression, the push backlog (with a recorder test double of EventLoop).
import test from 'ava';
import { EngineError } from '../src/api/errors.js';
import { KubeStateChange } from '../src/api/events.js';
import {
  DbWatcher,
  DbWatcherStateError,
  InvalidDbValueError,
  LocalDbUnavailableError,
  RemoteDbUnavailableError,
  externalConfigEtcdKey,
  kubeKey,
  kubeResourcePrefix,
  kubeStateEtcdKey,
  parseKubeKey,
  podKey,
} from '../src/dbwatcher/index.js';
import { EventPusher } from '../src/dbwatcher/event-pusher.js';
import { KeyRouter, parseDbValue } from '../src/dbwatcher/key-router.js';
import { resolveDbWatcherOptions, silentLogger } from '../src/dbwatcher/options.js';
import { RevisionTracker } from '../src/dbwatcher/revision-tracker.js';
import { RecordingLoop } from './helpers/dbwatcher-recorder.js';

const loop = new RecordingLoop();
const base = { eventLoop: loop, etcd: { hosts: 'http://127.0.0.1:2379' } };

const badOptions: Array<[string, unknown, typeof TypeError | typeof RangeError, RegExp]> = [
  ['no options', undefined, TypeError, /options must be an object/],
  ['eventLoop without pushEvent', { ...base, eventLoop: {} }, TypeError, /options\.eventLoop .*pushEvent/],
  ['etcd missing', { eventLoop: loop }, TypeError, /options\.etcd must be an object/],
  ['hosts empty', { ...base, etcd: { hosts: [] } }, TypeError, /options\.etcd\.hosts .*received an array/],
  ['hosts not strings', { ...base, etcd: { hosts: [1] } }, TypeError, /options\.etcd\.hosts/],
  ['a host with a path', { ...base, etcd: { hosts: 'http://127.0.0.1:2379/v3' } }, RangeError, /options\.etcd\.hosts: "http:\/\/127\.0\.0\.1:2379\/v3" is not an etcd endpoint/],
  ['a host without a port', { ...base, etcd: { hosts: ['127.0.0.1:2379', 'etcd-1'] } }, RangeError, /options\.etcd\.hosts: "etcd-1" is not/],
  ['a host with a bad port', { ...base, etcd: { hosts: 'http://127.0.0.1:99999' } }, RangeError, /options\.etcd\.hosts/],
  ['a host of another scheme', { ...base, etcd: { hosts: 'ftp://127.0.0.1:2379' } }, RangeError, /options\.etcd\.hosts/],
  ['dialTimeout NaN', { ...base, etcd: { hosts: '127.0.0.1:2379', dialTimeout: Number.NaN } }, TypeError, /options\.etcd\.dialTimeout .*finite/],
  ['root without slashes', { ...base, root: 'vnf-agent' }, RangeError, /options\.root must start and end with "\/"; received "vnf-agent"/],
  ['nodeLabel with slash', { ...base, nodeLabel: 'a/b' }, RangeError, /options\.nodeLabel must not contain/],
  ['resources not strings', { ...base, resources: ['pod', 3] }, TypeError, /options\.resources/],
  ['negative delayLocalResync', { ...base, delayLocalResync: -1 }, RangeError, /options\.delayLocalResync must be >= 0; received -1/],
  ['zero probing interval', { ...base, remoteDBProbingInterval: 0 }, RangeError, /options\.remoteDBProbingInterval must be >= 1; received 0/],
  ['probing over the longest timer', { ...base, remoteDBProbingInterval: 2 ** 31 }, RangeError, /options\.remoteDBProbingInterval must be <= 2147483647 .*received 2147483648/],
  ['delayLocalResync over the longest timer', { ...base, delayLocalResync: 2 ** 31 }, RangeError, /options\.delayLocalResync must be <= 2147483647/],
  ['requestTimeout over the longest timer', { ...base, etcd: { hosts: '127.0.0.1:2379', requestTimeout: 1e12 } }, RangeError, /options\.etcd\.requestTimeout must be <= 2147483647/],
  ['probing as string', { ...base, remoteDBProbingInterval: '3s' }, TypeError, /options\.remoteDBProbingInterval .*the string "3s"/],
  ['max probing below probing', { ...base, remoteDBProbingInterval: 100, maxProbingInterval: 50 }, RangeError, /options\.maxProbingInterval must be >= 100/],
  ['empty localDbPath', { ...base, localDbPath: '' }, TypeError, /options\.localDbPath must be a non-empty string/],
  ['statusCheck without method', { ...base, statusCheck: {} }, TypeError, /options\.statusCheck/],
  ['logger without warn', { ...base, logger: { debug() {}, info() {}, error() {} } }, TypeError, /options\.logger must have a warn\(\) method/],
];
for (const [what, options, Err, message] of badOptions) {
  test(`options: ${what} throws ${Err.name} naming the option`, (t) => {
    const err = t.throws(() => new DbWatcher(options as never), { instanceOf: Err });
    t.regex(err!.message, message);
  });
}

test('D1: options: valid options construct a watcher in state connecting', (t) => {
  const w = new DbWatcher({ ...base, root: '/x/', nodeLabel: 'n', resources: ['pod'], delayLocalResync: 0 });
  t.is(w.state, 'connecting');
  t.false(w.hasLocalMirror);
});

test('D1: options: etcd hosts are checked endpoints; a trailing slash, which gRPC cannot dial, is dropped', (t) => {
  const hosts = resolveDbWatcherOptions({ ...base, etcd: { hosts: ['http://127.0.0.1:2379/', 'https://[::1]:2379', '10.0.0.1:2379'] } }).hosts;
  t.deepEqual(hosts, ['http://127.0.0.1:2379', 'https://[::1]:2379', '10.0.0.1:2379']);
});

test('D1 D3: errors: each error class has its stable code, name and message', (t) => {
  const table: Array<[EngineError, string, string, RegExp]> = [
    [new InvalidDbValueError('/k', 'not JSON'), 'ERR_DBWATCHER_INVALID_VALUE', 'InvalidDbValueError', /invalid value at "\/k": not JSON/],
    [new RemoteDbUnavailableError(new Error('refused')), 'ERR_REMOTE_DB_UNAVAILABLE', 'RemoteDbUnavailableError', /remote DB unavailable: refused/],
    [new LocalDbUnavailableError('no binary'), 'ERR_LOCAL_DB_UNAVAILABLE', 'LocalDbUnavailableError', /local DB unavailable: no binary/],
    [new DbWatcherStateError('closed', 'ERR_DBWATCHER_CLOSED'), 'ERR_DBWATCHER_CLOSED', 'DbWatcherStateError', /closed/],
  ];
  for (const [err, code, name, message] of table) {
    t.true(err instanceof EngineError);
    t.is(err.code, code);
    t.is(err.name, name);
    t.regex(err.message, message);
  }
});

test('D1 D4: lifecycle: resync() before start() rejects ERR_DBWATCHER_NOT_STARTED; after close() ERR_DBWATCHER_CLOSED; close twice is harmless', async (t) => {
  const w = new DbWatcher(base);
  await t.throwsAsync(w.resync(), { code: 'ERR_DBWATCHER_NOT_STARTED' });
  await w.close();
  await w.close();
  t.is(w.state, 'closed');
  await t.throwsAsync(w.resync(), { code: 'ERR_DBWATCHER_CLOSED' });
  await t.throwsAsync(w.start(), { code: 'ERR_DBWATCHER_CLOSED' });
});

test('D1: key layout of Contiv: builders and parseKubeKey round-trip', (t) => {
  t.is(kubeStateEtcdKey('pod', podKey('web', 'shop')), '/vnf-agent/contiv-ksr/k8s/pod/web/namespace/shop');
  t.is(kubeResourcePrefix('namespace', '/r/'), '/r/contiv-ksr/k8s/namespace/');
  t.is(externalConfigEtcdKey('node-1', 'config/vpp/v2/interfaces/a'), '/vnf-agent/node-1/config/vpp/v2/interfaces/a');
  t.is(kubeKey('namespace', 'shop'), 'shop');
  t.is(kubeKey('service', 'web'), 'web/namespace/default');
  t.deepEqual(parseKubeKey('web/namespace/shop'), { name: 'web', namespace: 'shop' });
  t.deepEqual(parseKubeKey('shop'), { name: 'shop' });
});

test('D1: the key router maps etcd keys to resource keys and config keys, and ignores the rest', (t) => {
  const r = new KeyRouter('/vnf-agent/', 'node-1', ['pod', 'namespace']);
  t.deepEqual(r.route('/vnf-agent/contiv-ksr/k8s/pod/web/namespace/shop'), { kind: 'kube', resource: 'pod', key: 'web/namespace/shop' });
  t.deepEqual(r.route('/vnf-agent/node-1/config/vpp/v2/interfaces/a'), { kind: 'config', key: 'config/vpp/v2/interfaces/a' });
  t.is(r.route('/vnf-agent/contiv-ksr/k8s/service/web/namespace/shop'), null);
  t.is(r.route('/vnf-agent/contiv-ksr/k8s/pod/'), null);
  t.is(r.route('/vnf-agent/node-2/config/vpp/v2/interfaces/a'), null);
  t.is(r.route('/other/key'), null);
  t.deepEqual(r.prefixes, ['/vnf-agent/contiv-ksr/k8s/pod/', '/vnf-agent/contiv-ksr/k8s/namespace/', '/vnf-agent/node-1/config/']);
});

test('D1: values must be JSON objects: anything else is an InvalidDbValueError', (t) => {
  const enc = (s: string) => new TextEncoder().encode(s);
  t.deepEqual(parseDbValue('/k', enc('{"a":1}')), { a: 1 });
  for (const bad of ['not json', '[1]', 'null', '42', '"s"', '']) {
    t.throws(() => parseDbValue('/k', enc(bad)), { instanceOf: InvalidDbValueError, code: 'ERR_DBWATCHER_INVALID_VALUE' });
  }
});

test('D5: a change at or below the snapshot revision or the key\'s last revision is a duplicate', (t) => {
  const r = new RevisionTracker();
  r.reset(10, new Map([['/a', 7]]));
  t.false(r.accept('/a', 7));
  t.false(r.accept('/b', 10));
  t.true(r.accept('/a', 11));
  t.false(r.accept('/a', 11));
  t.true(r.accept('/b', 12));
  t.false(r.accept('/b', 11));
  t.true(r.accept('/a', 13));
  r.reset(20, new Map());
  t.false(r.accept('/c', 15));
  t.true(r.accept('/c', 21));
  t.is(r.snapshotRevision, 20);
});

test('D1 C2: the push backlog keeps order behind a refused event and drains on retry', async (t) => {
  const rec = new RecordingLoop();
  const pusher = new EventPusher(rec, silentLogger, 1);
  rec.refuse = 2;
  const events = Array.from({ length: 5 }, (_, i) => new KubeStateChange({ key: `k${i}`, resource: 'pod', newValue: { i } }));
  for (const e of events) pusher.push(e);
  t.is(rec.events.length, 0);
  t.is(pusher.backlog, 5);
  await pusher.drained();
  t.deepEqual(rec.events, events);
  t.is(pusher.retries, 2);
});

test('D1 C2: the push backlog drops (and counts) events a closed loop refuses, and close() reports what is left', async (t) => {
  const closedLoop = { pushEvent: () => { throw new EngineError('ERR_CONTROLLER_CLOSED', 'closed'); } };
  const pusher = new EventPusher(closedLoop, silentLogger, 1);
  pusher.push(new KubeStateChange({ key: 'k', resource: 'pod' }));
  t.is(pusher.dropped, 1);
  t.is(pusher.backlog, 0);
  const rec = new RecordingLoop();
  rec.refuse = 100;
  const p2 = new EventPusher(rec, silentLogger, 1000);
  p2.push(new KubeStateChange({ key: 'k', resource: 'pod' }));
  const drained = p2.drained();
  t.is(p2.close(), 1);
  await drained;
  t.is(p2.backlog, 0);
});
