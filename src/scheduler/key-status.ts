/** Where a key stands (STYLE #6: a union on `state`). */
export type KeyStatus =
  | { readonly state: 'configured' }
  | { readonly state: 'pending'; readonly details: string[] }
  | { readonly state: 'failed'; readonly error: Error }
  | { readonly state: 'retrying'; readonly error: Error; readonly details: string[] }
  | { readonly state: 'removed' }
  | { readonly state: 'invalid'; readonly error: Error }
  | { readonly state: 'obtained' }
  | { readonly state: 'unimplemented'; readonly error: Error };

export type KeyState = KeyStatus['state'];

/** Compact state codes kept per key. */
export const StateCode = Object.freeze({
  Configured: 0,
  Pending: 1,
  Failed: 2,
  Retrying: 3,
  Invalid: 4,
  Unimplemented: 5,
  Removed: 6,
} as const);
export type StateCode = (typeof StateCode)[keyof typeof StateCode];
