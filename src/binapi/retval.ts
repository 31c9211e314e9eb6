/** VPP binary-API return values (vnet/api_errno.h) used by the simulated dataplane. */
export const VppRetval = Object.freeze({
  OK: 0,
  UNSPECIFIED: -1,
  INVALID_SW_IF_INDEX: -2,
  NO_SUCH_FIB: -3,
  NO_SUCH_ENTRY: -6,
  INVALID_VALUE: -7,
  ADDRESS_NOT_FOUND_FOR_INTERFACE: -60,
  NO_SUCH_TABLE: -65,
  VIF_ALREADY_EXISTS: -79,
  VALUE_EXIST: -81,
  ADDRESS_FOUND_FOR_INTERFACE: -114,
  ENTRY_ALREADY_EXISTS: -116,
  BD_ALREADY_EXISTS: -119,
  BD_IN_USE: -120,
  BD_NOT_MODIFIABLE: -121,
  BD_ID_EXCEED_MAX: -122,
  ACL_IN_USE_INBOUND: -142,
  ACL_IN_USE_OUTBOUND: -143,
} as const);
export type VppRetval = (typeof VppRetval)[keyof typeof VppRetval];

const NAMES = new Map<number, string>(Object.entries(VppRetval).map(([name, code]) => [code, name]));

/** The retval an error carries (a `VppApiError`, duck-typed: errors cross threads), or undefined. */
export function retvalOf(err: unknown): number | undefined {
  const r = (err as { retval?: unknown } | null)?.retval;
  return typeof r === 'number' ? r : undefined;
}

/** The VPP name of a retval, e.g. -2 → 'INVALID_SW_IF_INDEX'. */
export function retvalName(retval: number): string {
  return NAMES.get(retval) ?? `VPP_ERROR_${retval}`;
}
