import type { Value } from '../api/values.js';
import type { BinapiRequest } from '../scheduler/binapi-client.js';
import type { Descriptor, RetrieveContext, RetrievedValue } from '../scheduler/descriptor.js';
import { InvalidValueError } from '../scheduler/errors.js';
import type { MetadataReader } from '../scheduler/metadata-store.js';
import { BRIDGE_DOMAIN_PREFIX, INTERFACE_PREFIX, bridgeDomainKey, interfaceKey, nameOf } from './keys.js';
import { FieldReader } from './value-checks.js';

export interface BridgedInterface {
  readonly name: string;
  readonly bridgedVirtualInterface: boolean;
}

/** The normalized bridge domain: flags filled in, interfaces sorted by name. */
export interface BridgeDomainValue {
  readonly name: string;
  readonly flood: boolean;
  readonly forward: boolean;
  readonly learn: boolean;
  readonly interfaces: readonly BridgedInterface[];
}

/** `sw_interface_set_l2_bridge.port_type`: 0 normal, 1 BVI. */
const PORT_NORMAL = 0;
const PORT_BVI = 1;

function asBd(v: Value): BridgeDomainValue {
  return v as unknown as BridgeDomainValue;
}

function bdId(key: string, md: MetadataReader): number {
  const id = md.get(key);
  if (id === undefined) throw new Error(`no bd_id known for ${key}`);
  return id;
}

function l2(bd: number, i: BridgedInterface, enable: boolean, md: MetadataReader): BinapiRequest {
  const sw = md.get(interfaceKey(i.name));
  if (sw === undefined) throw new Error(`no sw_if_index known for interface ${i.name}`);
  return { name: 'sw_interface_set_l2_bridge', fields: { rx_sw_if_index: sw, bd_id: bd, enable, port_type: i.bridgedVirtualInterface ? PORT_BVI : PORT_NORMAL } };
}

/** L2 bridge domains (bridge_domain_add_del, bd_id allocated here) and their interfaces. */
export const bridgeDomainDescriptor: Descriptor = {
  name: 'vpp-bridge-domain',
  keyPrefix: BRIDGE_DOMAIN_PREFIX,
  retrieveDependencies: ['vpp-interface'],

  validate(key, value) {
    const f = new FieldReader(key, value);
    const keyName = nameOf(key, BRIDGE_DOMAIN_PREFIX);
    if (keyName === '' || keyName.includes('/')) throw new InvalidValueError(key, 'the key must end with the bridge domain name');
    const name = f.name('name', keyName);
    if (name !== keyName) f.fail('name', `"${keyName}" (the name in the key)`, name);
    const seen = new Set<string>();
    let bvis = 0;
    const interfaces = f.array('interfaces').map((raw, i) => {
      const r = new FieldReader(key, raw, `interfaces[${i}].`);
      const bi = { name: r.name('name'), bridgedVirtualInterface: r.bool('bridgedVirtualInterface', false) };
      if (seen.has(bi.name)) r.fail('name', 'listed once', bi.name);
      seen.add(bi.name);
      if (bi.bridgedVirtualInterface) bvis++;
      return bi;
    });
    if (bvis > 1) f.fail('interfaces', 'at most one bridged virtual interface', bvis);
    interfaces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { name, flood: f.bool('flood', false), forward: f.bool('forward', false), learn: f.bool('learn', false), interfaces };
  },

  dependencies(_key, value) {
    return asBd(value).interfaces.map((i) => interfaceKey(i.name));
  },

  needsRecreate(_key, a, b) {
    const o = asBd(a);
    const n = asBd(b);
    return o.flood !== n.flood || o.forward !== n.forward || o.learn !== n.learn;
  },

  create(key, value, md) {
    const v = asBd(value);
    const id = md.allocate(BRIDGE_DOMAIN_PREFIX);
    return {
      requests: [{ name: 'bridge_domain_add_del', fields: { is_add: true, bd_id: id, bd_tag: v.name, flood: v.flood, forward: v.forward, learn: v.learn } }],
      metadata: id,
    };
  },

  configure(key, value, md) {
    const bd = bdId(key, md);
    return asBd(value).interfaces.map((i) => l2(bd, i, true, md));
  },

  update(key, oldValue, newValue, md) {
    const bd = bdId(key, md);
    const o = asBd(oldValue);
    const n = asBd(newValue);
    const out: BinapiRequest[] = [];
    for (const i of o.interfaces) {
      const now = n.interfaces.find((x) => x.name === i.name);
      if (!now || now.bridgedVirtualInterface !== i.bridgedVirtualInterface) out.push(l2(bd, i, false, md));
    }
    for (const i of n.interfaces) {
      const was = o.interfaces.find((x) => x.name === i.name);
      if (!was || was.bridgedVirtualInterface !== i.bridgedVirtualInterface) out.push(l2(bd, i, true, md));
    }
    return out;
  },

  delete(key, value, md) {
    const bd = bdId(key, md);
    const out: BinapiRequest[] = [];
    for (const i of asBd(value).interfaces) {
      if (md.get(interfaceKey(i.name)) !== undefined) out.push(l2(bd, i, false, md));
    }
    out.push({ name: 'bridge_domain_add_del', fields: { is_add: false, bd_id: bd } });
    return out;
  },

  async retrieve(ctx: RetrieveContext): Promise<RetrievedValue[]> {
    const out: RetrievedValue[] = [];
    for (const d of await ctx.dump('bridge_domain_dump', {})) {
      if (typeof d.bd_id !== 'number') continue;
      // Every id in use, ours or not: a bridge domain someone else made (untagged) keeps its id.
      ctx.reserve?.(BRIDGE_DOMAIN_PREFIX, d.bd_id);
      if (typeof d.bd_tag !== 'string' || d.bd_tag === '' || d.bd_tag.includes('/')) continue;
      const key = bridgeDomainKey(d.bd_tag);
      const hint = ctx.correlate(key) as Partial<BridgeDomainValue> | undefined;
      const members = Array.isArray(d.sw_if_details) ? (d.sw_if_details as Array<Record<string, unknown>>) : [];
      const interfaces: BridgedInterface[] = [];
      for (const m of members) {
        if (typeof m.sw_if_index !== 'number') continue;
        const ifKey = ctx.metadata.keyOf(INTERFACE_PREFIX, m.sw_if_index);
        if (!ifKey) continue;
        const name = ifKey.slice(INTERFACE_PREFIX.length);
        // The details name the BVI (a dataplane without the field: what we configured).
        const bvi = typeof d.bvi_sw_if_index === 'number' ? d.bvi_sw_if_index === m.sw_if_index : (hint?.interfaces?.find((i) => i.name === name)?.bridgedVirtualInterface ?? false);
        interfaces.push({ name, bridgedVirtualInterface: bvi });
      }
      interfaces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      out.push({
        key,
        value: { name: d.bd_tag, flood: d.flood === true, forward: d.forward === true, learn: d.learn === true, interfaces },
        metadata: d.bd_id,
      });
    }
    return out;
  },
};
