// The DB watcher's public door: the etcd watcher with its local mirror, and Contiv's key layout.
export * from './k8s-layout.js';
