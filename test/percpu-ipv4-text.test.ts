// The hand-written IPv4 readers on the hot path (descriptor validation, native-sim request fields)
// against node:net, the reference they replace: same verdicts, same canonical text, same errors.
import test from 'ava';
import fc from 'fast-check';
import { isIP, isIPv4 } from 'node:net';
import { isIPv4Text, parseIPv4, parsePrefixLength } from '../src/descriptors/ipv4-text.js';
import { FieldReader, isCidr, isIPv6, isNetworkAddress } from '../src/descriptors/value-checks.js';
import { InvalidValueError } from '../src/scheduler/errors.js';
import { FieldError, ipAddress, ipPrefix } from '../native-sim/field-readers.js';
import { VppRetval } from '../src/binapi/retval.js';

/** Text close to IPv4 (digits, dots, slashes, a few others), so most samples are near misses. */
const nearIp = fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', '.', '/', ':', 'a', ' ', '-', '+'), maxLength: 20 });
const dottedQuad = fc
  .tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.boolean())
  .map(([a, b, c, d, pad]) => [a, b, c, d].map((x, i) => (pad && i === 2 ? `0${x}` : String(x))).join('.'));
const cidrText = fc.tuple(fc.oneof(dottedQuad, nearIp, fc.constant('fe80::1')), fc.oneof(fc.nat(140).map(String), fc.constantFrom('', '08', '032', '1000', 'x', '-1'))).map(([ip, len]) => `${ip}/${len}`);

/** The node:net based checks the fast paths replaced. */
const reference = {
  isCidr(v: string): boolean {
    const slash = v.indexOf('/');
    if (slash < 0) return false;
    const ip = v.slice(0, slash);
    const lenText = v.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return false;
    const fam = isIP(ip);
    const len = Number(lenText);
    return (fam === 4 && len <= 32) || (fam === 6 && len <= 128);
  },
  isNetworkAddress(cidr: string): boolean {
    const [ip, lenText] = cidr.split('/');
    if (isIP(ip ?? '') !== 4) return true;
    const len = Number(lenText);
    const parts = (ip as string).split('.').map(Number);
    const n = (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return ((n & ~mask) >>> 0) === 0;
  },
};

test('S2, N2: parseIPv4 accepts exactly what node:net isIPv4 accepts, with the right value', (t) => {
  for (const s of ['0.0.0.0', '255.255.255.255', '10.1.2.3', '01.1.1.1', '1.1.1', '1.1.1.1.', '.1.1.1', '256.1.1.1', '1..1.1', '1.1.1.1 ', '1.1.1.1/8', '', '١.1.1.1']) {
    t.is(isIPv4Text(s), isIPv4(s), s);
  }
  t.is(parseIPv4('10.1.2.3'), 0x0a010203);
  t.is(parseIPv4('255.255.255.255'), 0xffffffff);
  t.is(parseIPv4('x10.1.2.3/24', 1, 9), 0x0a010203);
  fc.assert(fc.property(fc.oneof(nearIp, dottedQuad), (s) => isIPv4Text(s) === isIPv4(s)), { numRuns: 5000 });
});

test('S2: parsePrefixLength reads 1–3 digits only', (t) => {
  t.is(parsePrefixLength('a/24', 2), 24);
  t.is(parsePrefixLength('a/024', 2), 24);
  t.is(parsePrefixLength('a/', 2), -1);
  t.is(parsePrefixLength('a/1000', 2), -1);
  t.is(parsePrefixLength('a/2x', 2), -1);
});

test('S2: CIDR, network-address and family checks agree with the node:net versions', (t) => {
  fc.assert(
    fc.property(cidrText, (c) => {
      if (isCidr(c) !== reference.isCidr(c)) return false;
      // isNetworkAddress is only asked about valid CIDRs.
      if (reference.isCidr(c) && isNetworkAddress(c) !== reference.isNetworkAddress(c)) return false;
      return isIPv6(c) === (isIP(c.split('/')[0] ?? '') === 6);
    }),
    { numRuns: 5000 },
  );
  t.true(isNetworkAddress('10.0.0.0/8'));
  t.false(isNetworkAddress('10.0.0.1/8'));
  t.true(isNetworkAddress('10.0.0.1/32'));
  t.true(isNetworkAddress('0.0.0.0/0'));
  t.false(isNetworkAddress('1.0.0.0/0'));
  t.true(isIPv6('2001:db8::/32'));
  t.false(isIPv6('10.0.0.0/8'));
});

test('S2: FieldReader keeps IPv4 text as is and still rejects bad addresses with InvalidValueError', (t) => {
  const f = new FieldReader('k', { a: '10.0.0.1', c: '10.0.0.0/8', v6: 'FE80::0:1/64', bad: '10.0.0.256', badc: '10.0.0.0/33', padded: '10.0.0.0/08' });
  t.is(f.ip('a'), '10.0.0.1');
  t.is(f.cidr('c'), '10.0.0.0/8');
  // The dataplane gives "/8" back: a padded length would never match what it reports.
  t.throws(() => f.cidr('padded'), { instanceOf: InvalidValueError, message: /no leading zero in the prefix length/ });
  t.is(f.cidr('v6'), 'fe80::1/64');
  t.throws(() => f.ip('bad'), { instanceOf: InvalidValueError, message: /bad must be an IP address/ });
  t.throws(() => f.cidr('badc'), { instanceOf: InvalidValueError, message: /badc must be a CIDR/ });
});

test('N2: native-sim prefix and address readers: canonical keys, IPv6 results cached, errors every time', (t) => {
  const p = ipPrefix({ prefix: '10.1.0.0/16' }, 'prefix');
  t.deepEqual({ ...p }, { ip: '10.1.0.0', v6: false, len: 16, key: '10.1.0.0/16' });
  t.deepEqual(ipPrefix({ prefix: '10.1.0.0/16' }, 'prefix'), p, 'an IPv4 prefix is parsed again, to the same result');
  const q = ipPrefix({ prefix: '2001:db8:1::/48' }, 'prefix');
  t.is(ipPrefix({ prefix: '2001:db8:1::/48' }, 'prefix'), q, 'a repeated IPv6 prefix is served from the cache');
  t.deepEqual({ ...ipPrefix({ prefix: '10.1.0.0/016' }, 'prefix') }, { ip: '10.1.0.0', v6: false, len: 16, key: '10.1.0.0/16' });
  t.deepEqual({ ...ipPrefix({ prefix: '2001:DB8:0::/48' }, 'prefix') }, { ip: '2001:db8::', v6: true, len: 48, key: '2001:db8::/48' });
  t.deepEqual({ ...ipAddress({ nh: '192.168.0.1' }, 'nh') }, { ip: '192.168.0.1', v6: false });
  t.deepEqual({ ...ipAddress({ nh: '::FFFF:1' }, 'nh') }, { ip: '::ffff:1', v6: true });
  for (const bad of ['10.1.0.0', '10.1.0.0/33', '10.1.0.256/8', '01.1.0.0/8', '10.1.0.0/', '10.1.0.0/1x', 'fe80::/129']) {
    for (let i = 0; i < 2; i++) {
      const e = t.throws(() => ipPrefix({ prefix: bad }, 'prefix'), { instanceOf: FieldError, message: /invalid prefix/ });
      t.is(e?.retval, VppRetval.INVALID_VALUE);
    }
  }
  t.throws(() => ipAddress({ nh: '1.2.3' }, 'nh'), { instanceOf: FieldError, message: /invalid IP address/ });
  t.throws(() => ipPrefix({ prefix: 7 }, 'prefix'), { instanceOf: FieldError, message: /expected string/ });
});
