// The control plane: a Deployment with a replica count (its ReplicaSet and the kubelet, in short). It
// starts pods until the count is met, puts a pod into the Service's endpoints once it is ready, and on
// scale-down or deletion takes a pod out of the endpoints before it sends SIGTERM — the order
// Kubernetes aims for. A pod that dies, or is deleted, is replaced.
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Endpoints } from './endpoints.js';
import { Pod, type PodSpec } from './pod.js';

export interface DeploymentOptions {
  /** The Deployment's name: pods are NAME-<template hash>-<5 letters>, as a ReplicaSet names them. */
  name: string;
  templateHash: string;
  /** The pod IP of the n-th pod (n from 0): the pod network. */
  podIp: (n: number) => string;
  /** What the kubelet needs to run a pod of this name and IP. */
  podSpec: (pod: { name: string; ip: string }) => PodSpec;
  terminationGraceMs: number;
}

interface DeploymentEvents {
  /** Something a person watching would want to know: a pod started, became ready, was replaced, … */
  event: [message: string];
  /** A pod was added, changed state or went away: for whoever publishes the state (the API). */
  change: [];
}

// The alphabet Kubernetes uses for generated names (no vowels, no look-alikes).
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const encode = (bytes: Uint8Array) => [...bytes].map((byte) => NAME_ALPHABET[byte % NAME_ALPHABET.length]).join('');
const suffix = () => encode(randomBytes(5));

/** A ReplicaSet's pod-template-hash: a short digest of the pod template, stable for the same one. */
export const podTemplateHash = (template: unknown) =>
  encode(createHash('sha256').update(JSON.stringify(template)).digest().subarray(0, 10));

export class Deployment extends EventEmitter<DeploymentEvents> {
  readonly endpoints = new Endpoints();
  readonly #pods = new Set<Pod>();
  readonly #options: DeploymentOptions;
  readonly #deleting = new Set<Pod>();
  #created = 0;
  #replicas = 0;
  #stopped = false;
  /** CrashLoopBackOff, in short: a pod that dies before it was ever ready is replaced after a growing delay. */
  #backoffMs = 0;
  #backoffTimer: NodeJS.Timeout | undefined;

  constructor(options: DeploymentOptions) {
    super();
    this.#options = options;
  }

  get replicas(): number {
    return this.#replicas;
  }

  /** The pods that count toward the replicas (not terminating), oldest first. */
  get pods(): Pod[] {
    return [...this.#pods].filter((pod) => pod.phase === 'Pending' || pod.phase === 'Running');
  }

  get allPods(): Pod[] {
    return [...this.#pods];
  }

  scale(replicas: number): void {
    this.#replicas = replicas;
    this.#reconcile();
    this.emit('change');
  }

  /** Resolves once `count` pods are ready. Unbounded: the caller decides how long to wait. */
  waitReady(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.endpoints.list().length < count) return;
        this.endpoints.off('change', check);
        resolve();
      };
      this.endpoints.on('change', check);
      check();
    });
  }

  /** A pod deleted through the API: terminated gracefully, and replaced as a ReplicaSet does. */
  delete(name: string, graceMs = this.#options.terminationGraceMs): Promise<void> | undefined {
    const pod = [...this.#pods].find((p) => p.name === name);
    if (!pod) return undefined;
    const gone = this.#delete(pod, graceMs);
    this.#reconcile();
    return gone;
  }

  /** Stops every pod: SIGTERM, and SIGKILL after `graceMs` (the lab going away need not wait for drains). */
  async stop(graceMs = 2000): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#backoffTimer);
    this.#replicas = 0;
    await Promise.all([...this.#pods].map((pod) => this.#delete(pod, graceMs)));
  }

  #reconcile(): void {
    if (this.#stopped) return;
    const live = this.pods;
    for (let i = live.length; i < this.#replicas; i++) this.#create();
    // Scale-down removes the newest pods first (unready ones before ready ones), as a ReplicaSet would.
    const victims = live
      .slice()
      .sort((a, b) => Number(a.ready) - Number(b.ready) || live.indexOf(b) - live.indexOf(a))
      .slice(0, Math.max(0, live.length - this.#replicas));
    for (const pod of victims) void this.#delete(pod);
  }

  #create(): void {
    const inUse = new Set([...this.#pods].map((p) => p.ip));
    let ip = this.#options.podIp(this.#created++);
    for (let tries = 0; inUse.has(ip) && tries < 1000; tries++) ip = this.#options.podIp(this.#created++);
    const { name: deployment, templateHash } = this.#options;
    const name = `${deployment}-${templateHash}-${suffix()}`;
    const pod = new Pod(name, ip, this.#options.podSpec({ name, ip }));
    this.#pods.add(pod);
    this.emit('event', `pod ${ip} created`);
    this.emit('change');
    let everReady = false;
    pod.on('ready', () => {
      everReady = true;
      this.#backoffMs = 0;
      if (pod.endpoint) this.endpoints.add(pod.endpoint);
      this.emit('event', `pod ${ip} ready: added to the endpoints`);
      this.emit('change');
    });
    pod.on('unready', () => {
      this.endpoints.remove(ip);
      this.emit('change');
    });
    pod.on('exit', (code, signal) => {
      this.endpoints.remove(ip);
      this.#pods.delete(pod);
      this.emit('change');
      if (this.#deleting.delete(pod) || this.#stopped) return;
      const why = `${signal ?? `exit ${code}`}${pod.lastError ? `: ${pod.lastError}` : ''}`;
      if (everReady) {
        this.emit('event', `pod ${ip} died (${why}): replacing it`);
        this.#reconcile();
      } else {
        this.#backoffMs = Math.min(30_000, Math.max(1000, this.#backoffMs * 2));
        this.emit('event', `pod ${ip} died before it was ready (${why}): replacing it in ${this.#backoffMs / 1000} s`);
        clearTimeout(this.#backoffTimer);
        this.#backoffTimer = setTimeout(() => this.#reconcile(), this.#backoffMs);
      }
    });
  }

  async #delete(pod: Pod, graceMs = this.#options.terminationGraceMs): Promise<void> {
    if (this.#deleting.has(pod) || pod.phase === 'Gone') return pod.exited;
    this.#deleting.add(pod);
    this.endpoints.remove(pod.ip); // out of the Service first …
    this.emit('event', `pod ${pod.ip} terminating: removed from the endpoints, then SIGTERM`);
    const stopped = pod.terminate(graceMs); // … then the kubelet stops it; the server drains its calls in flight
    this.emit('change');
    await stopped;
  }
}
