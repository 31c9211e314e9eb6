/** The longest delay setTimeout honours: a longer one runs after 1 ms. Options that set timers stop here. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
