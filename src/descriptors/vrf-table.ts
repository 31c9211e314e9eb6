import type { Value } from '../api/values.js';
import type { Descriptor, RetrieveContext, RetrievedValue } from '../scheduler/descriptor.js';
import { InvalidValueError } from '../scheduler/errors.js';
import type { IpProtocol } from './keys.js';
import { VRF_TABLE_PREFIX, vrfTableKey } from './keys.js';
import { FieldReader } from './value-checks.js';

/** The normalized VRF table value. */
export interface VrfTableValue {
  readonly id: number;
  readonly protocol: IpProtocol;
  readonly label?: string;
}

const KEY = /^config\/vpp\/v2\/vrf-table\/id\/(\d+)\/protocol\/(IPV4|IPV6)$/;

function asVrf(v: Value): VrfTableValue {
  return v as unknown as VrfTableValue;
}

function table(v: VrfTableValue): Record<string, unknown> {
  return { table_id: v.id, is_ip6: v.protocol === 'IPV6', name: v.label ?? '' };
}

/** VRF tables (ip_table_add_del). Table 0 exists in every VPP and is not managed. */
export const vrfTableDescriptor: Descriptor = {
  name: 'vpp-vrf-table',
  keyPrefix: VRF_TABLE_PREFIX,

  validate(key, value) {
    const m = KEY.exec(key);
    if (!m) throw new InvalidValueError(key, 'the key must be config/vpp/v2/vrf-table/id/<id>/protocol/<IPV4|IPV6>');
    const f = new FieldReader(key, value);
    const id = f.uint('id', Number(m[1]));
    if (id === 0) f.fail('id', 'a table id other than 0 (table 0 always exists)', id);
    const protocol = f.oneOf<IpProtocol>('protocol', ['IPV4', 'IPV6'], m[2] as IpProtocol);
    if (vrfTableKey(id, protocol) !== key) throw new InvalidValueError(key, `id/protocol do not match the key (expected ${vrfTableKey(id, protocol)})`);
    const out: Record<string, unknown> = { id, protocol };
    // VPP keeps a table name of 64 bytes, NUL included: a longer label would read back cut short.
    if (f.has('label') && f.string('label') !== '') out.label = f.text('label');
    return out;
  },

  dependencies() {
    return [];
  },

  create(_key, value) {
    return { requests: [{ name: 'ip_table_add_del', fields: { is_add: true, table: table(asVrf(value)) } }] };
  },

  delete(_key, value) {
    return [{ name: 'ip_table_add_del', fields: { is_add: false, table: table(asVrf(value)) } }];
  },

  async retrieve(ctx: RetrieveContext): Promise<RetrievedValue[]> {
    const out: RetrievedValue[] = [];
    for (const d of await ctx.dump('ip_table_dump', {})) {
      const t = d.table as { table_id?: unknown; is_ip6?: unknown; name?: unknown } | undefined;
      if (!t || typeof t.table_id !== 'number' || t.table_id === 0) continue;
      const protocol: IpProtocol = t.is_ip6 ? 'IPV6' : 'IPV4';
      const key = vrfTableKey(t.table_id, protocol);
      const v: Record<string, unknown> = { id: t.table_id, protocol };
      // VPP names unnamed tables itself: the name is ours only when we gave one.
      const hint = ctx.correlate(key) as Partial<VrfTableValue> | undefined;
      if (hint?.label !== undefined && typeof t.name === 'string' && t.name !== '') v.label = t.name;
      out.push({ key, value: v });
    }
    return out;
  },
};
