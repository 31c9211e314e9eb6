// What an event means for one pod's network, shared by the IPAM, pod and policy handlers.
import { KubeStateChange, type Event } from '../api/index.js';
import { podView, type Labels } from './k8s-view.js';
import { identityFromKey } from './names.js';
import { AddPod, DeletePod } from './pod-events.js';

export type PodChange =
  | { readonly kind: 'connect'; readonly id: string; readonly namespace: string; readonly name: string; readonly labels: Labels | null }
  | { readonly kind: 'disconnect'; readonly id: string; readonly namespace: string };


export function isPodEvent(event: Event): boolean {
  return event instanceof AddPod || event instanceof DeletePod || (event instanceof KubeStateChange && event.resource === 'pod');
}

// Three handlers ask about the same event in a row: remember the last answer.
let lastEvent: Event | null = null;
let lastChange: PodChange | null = null;

/** The pod change an event carries; null when none. Throws InvalidKubeValueError for a malformed pod value. */
export function podChangeOf(event: Event): PodChange | null {
  if (event === lastEvent) return lastChange;
  const change = compute(event);
  lastEvent = event;
  lastChange = change;
  return change;
}

function compute(event: Event): PodChange | null {
  if (event instanceof AddPod) {
    return { kind: 'connect', id: event.podId, namespace: event.namespace, name: event.name, labels: null };
  }
  if (event instanceof DeletePod) return { kind: 'disconnect', id: event.podId, namespace: event.namespace };
  if (!(event instanceof KubeStateChange) || event.resource !== 'pod') return null;
  if (event.newValue !== null) {
    const pod = podView(event.newValue);
    return { kind: 'connect', id: pod.id, namespace: pod.namespace, name: pod.name, labels: pod.labels };
  }
  if (event.prevValue !== null) {
    const pod = podView(event.prevValue);
    return { kind: 'disconnect', id: pod.id, namespace: pod.namespace };
  }
  const pod = identityFromKey(event.key);
  return pod === undefined ? null : { kind: 'disconnect', id: pod.id, namespace: pod.namespace };
}
