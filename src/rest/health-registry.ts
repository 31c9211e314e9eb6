import { toError } from '../api/errors.js';

export type ComponentState = 'ok' | 'error';

export interface ComponentHealth {
  readonly state: ComponentState;
  readonly error?: { readonly name: string; readonly code?: string; readonly message: string };
  /** Epoch ms of the last change. */
  readonly since: number;
}

export interface HealthReport {
  /** `error` as soon as one component is in error. */
  readonly status: ComponentState;
  readonly components: Readonly<Record<string, ComponentHealth>>;
}

/**
 * Collects the state of each component (the controller's `statusCheck`, the connector, …) for
 * `GET /health`. Components that never reported are not listed; no component at all means `ok`.
 */
export class HealthRegistry {
  readonly #components = new Map<string, ComponentHealth>();
  readonly #listeners = new Set<(name: string, health: ComponentHealth) => void>();

  /** The controller's status-check interface. */
  reportStateChange(name: string, state: ComponentState, err?: Error | null): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`name must be a non-empty string, received ${typeof name === 'string' ? '""' : typeof name}`);
    }
    if (state !== 'ok' && state !== 'error') {
      throw new TypeError(`state must be 'ok' or 'error', received ${JSON.stringify(state) ?? typeof state}`);
    }
    let health: ComponentHealth = { state, since: Date.now() };
    if (err !== undefined && err !== null) {
      const e = toError(err);
      const code = (e as { code?: unknown }).code;
      health = { ...health, error: { name: e.name, ...(typeof code === 'string' ? { code } : {}), message: e.message } };
    }
    this.#components.set(name, health);
    for (const l of this.#listeners) l(name, health);
  }

  /** The current state of every component and the overall status. */
  report(): HealthReport {
    const components: Record<string, ComponentHealth> = {};
    let status: ComponentState = 'ok';
    for (const [name, h] of this.#components) {
      components[name] = h;
      if (h.state === 'error') status = 'error';
    }
    return { status, components };
  }

  /** Calls `listener` on every state report; returns the unsubscribe function. */
  onChange(listener: (name: string, health: ComponentHealth) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
