/** How an event is reacted to: a resync of some depth, or an incremental update. */
export const EventMethodType = Object.freeze({
  FullResync: 0,
  DownstreamResync: 1,
  UpstreamResync: 2,
  Update: 3,
} as const);
export type EventMethodType = (typeof EventMethodType)[keyof typeof EventMethodType];

/** Order in which handlers see an update: as given, or backwards. */
export const UpdateDirectionType = Object.freeze({ Forward: 0, Reverse: 1 } as const);
export type UpdateDirectionType = (typeof UpdateDirectionType)[keyof typeof UpdateDirectionType];

/** What a handler error does to an update transaction. */
export const UpdateTransactionType = Object.freeze({
  BestEffort: 0,
  BestEffortIgnoreErrors: 1,
  RevertOnFailure: 2,
} as const);
export type UpdateTransactionType = (typeof UpdateTransactionType)[keyof typeof UpdateTransactionType];

/** Why a healing resync runs. */
export const HealingResyncType = Object.freeze({ Periodic: 0, AfterError: 1 } as const);
export type HealingResyncType = (typeof HealingResyncType)[keyof typeof HealingResyncType];

/** Status offered to resync registrations. */
export const ResyncStatus = Object.freeze({ Started: 'Started', NotActive: 'NotActive' } as const);
export type ResyncStatus = (typeof ResyncStatus)[keyof typeof ResyncStatus];

export function isResyncMethod(method: EventMethodType): boolean {
  return method !== EventMethodType.Update;
}
