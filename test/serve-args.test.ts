import test from 'ava';
import { parseServeArgs, ServeUsageError } from '../src/cli/serve-args.js';

test('C20: serve listens on 127.0.0.1:9999 by default, without etcd, local DB or token', (t) => {
  t.deepEqual(parseServeArgs([]), { etcd: null, host: '127.0.0.1', port: 9999, localDb: null, token: null, logLevel: 'info', help: false });
});

test('C20 D1 D2: serve takes --etcd, --http, --local-db, --token, --log-level (also as --name=value)', (t) => {
  const a = parseServeArgs(['--etcd', 'http://127.0.0.1:2379,http://10.0.0.2:2379', '--http', '0.0.0.0:0', '--local-db=/var/lib/engine', '--token', 't0k', '--log-level=debug']);
  t.is(a.etcd, 'http://127.0.0.1:2379,http://10.0.0.2:2379');
  t.is(a.host, '0.0.0.0');
  t.is(a.port, 0);
  t.is(a.localDb, '/var/lib/engine');
  t.is(a.token, 't0k');
  t.is(a.logLevel, 'debug');
  t.deepEqual([parseServeArgs(['--http', '[::1]:8080']).host, parseServeArgs(['--http', '[::1]:8080']).port], ['::1', 8080]);
  t.is(parseServeArgs([], { ENGINE_REST_TOKEN: 'from-env' }).token, 'from-env');
  t.true(parseServeArgs(['--help']).help);
});

test('C20 D1: --etcd takes http(s)://HOST:PORT and HOST:PORT endpoints, IPv6 included; a trailing slash is dropped', (t) => {
  for (const etcd of ['127.0.0.1:2379', 'etcd-0:2379,etcd-1:2379', 'http://[::1]:2379', 'http://host:80', 'https://host:65535']) {
    t.is(parseServeArgs(['--etcd', etcd]).etcd, etcd);
  }
  t.is(parseServeArgs(['--etcd', 'https://etcd.example:2379/,etcd-1:2379/']).etcd, 'https://etcd.example:2379,etcd-1:2379');
});

const bad: Array<[string[], RegExp]> = [
  [['--http', '9999'], /--http expects HOST:PORT.*"9999"/],
  [['--http', 'localhost:70000'], /--http.*0-65535/],
  [['--http'], /--http needs a value/],
  [['--http', '--etcd'], /--http needs a value/],
  [['--etcd', 'not a url'], /--etcd expects URL/],
  [['--etcd', 'http://127.0.0.1:notaport'], /--etcd expects URL.*"http:\/\/127\.0\.0\.1:notaport"/],
  [['--etcd', 'http://127.0.0.1:99999'], /--etcd expects URL/],
  [['--etcd', '127.0.0.1:99999'], /--etcd expects URL/],
  [['--etcd', 'http://host:2379 junk'], /--etcd expects URL/],
  [['--etcd', 'http://host:2379,127.0.0.1:0'], /--etcd expects URL.*"127\.0\.0\.1:0"/],
  [['--etcd', 'http://host'], /--etcd expects URL/],
  [['--etcd', 'ftp://host:2379'], /--etcd expects URL/],
  [['--etcd', 'http://host:2379/v3'], /--etcd expects URL/],
  [['--etcd', 'http://host:2379/?x=1'], /--etcd expects URL/],
  [['--etcd', 'http://host:2379/?'], /--etcd expects URL/],
  [['--etcd', 'http://user:pw@host:2379'], /--etcd expects URL/],
  [['--etcd', 'http://host:2379,'], /--etcd expects URL/],
  [['--log-level', 'loud'], /--log-level.*"loud"/],
  [['--verbose'], /unknown argument "--verbose"/],
  [['extra'], /unknown argument "extra"/],
];
for (const [argv, message] of bad) {
  test(`C20: serve ${argv.join(' ')} is a usage error`, (t) => {
    const err = t.throws(() => parseServeArgs(argv), { instanceOf: ServeUsageError, message });
    t.is(err?.code, 'ERR_SERVE_USAGE');
  });
}
