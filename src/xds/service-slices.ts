// A Service's ready endpoints, from its EndpointSlices in a Kubernetes API: listed, then watched through
// @kubernetes/client-node's informer. The informer itself lists again after 410 Gone and reopens a watch
// that timed out; on any other error (the API unreachable, 403 Forbidden, …) it stops, so it is started
// again after a backoff (1 s, doubling up to 30 s, ±20 %). Meanwhile the endpoints known stay, as
// kube-proxy and the k8s:/// resolver keep theirs: a control plane that loses its API must not empty
// every client's balancer.
import { EventEmitter } from 'node:events';
import * as k8s from '@kubernetes/client-node';
import { endpointsOf } from '../clients/k8s-endpoints.js';
import { apiErrorText } from '../common/kube-api.js';
import type { EndpointSource, XdsEndpoint } from './ads-server.js';

export interface ServiceSlicesOptions {
  namespace: string;
  service: string;
  /** the pods' port: a number, or the name of the Service port (as the slices name it) */
  port: number | string;
  /** the first retry's delay and the longest, in ms (default 1000 and 30000) */
  retryMs?: { initial: number; max: number };
  /** chance in [0, 1), for the jitter (default Math.random) */
  random?: () => number;
}

interface Events {
  /** the ready endpoints changed (list() has them) */
  change: [];
  /** a list went through: the endpoints are those of the API now ('' or why there are none) */
  synced: [note: string];
  /** the API failed; the watch starts again after `retryMs` */
  error: [message: string, retryMs: number];
}

export class ServiceSlices extends EventEmitter<Events> implements EndpointSource {
  readonly #kubeConfig: k8s.KubeConfig;
  readonly #options: Required<ServiceSlicesOptions>;
  #informer: (k8s.Informer<k8s.V1EndpointSlice> & k8s.ObjectCache<k8s.V1EndpointSlice>) | undefined;
  #endpoints: XdsEndpoint[] = [];
  #key = '[]';
  #failures = 0;
  #errors = 0;
  #retry: NodeJS.Timeout | undefined;
  #publishing: NodeJS.Immediate | undefined;
  #stopped = false;

  constructor(kubeConfig: k8s.KubeConfig, options: ServiceSlicesOptions) {
    super();
    this.#kubeConfig = kubeConfig;
    this.#options = { retryMs: { initial: 1000, max: 30_000 }, random: Math.random, ...options };
  }

  list(): readonly XdsEndpoint[] {
    return this.#endpoints;
  }

  /** Lists and watches; failures are reported as 'error' events and retried, never thrown. */
  start(): void {
    this.#stopped = false;
    void this.#start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    if (this.#publishing) clearImmediate(this.#publishing);
    await this.#informer?.stop();
  }

  async #start(): Promise<void> {
    const errorsBefore = this.#errors;
    try {
      this.#informer ??= this.#makeInformer();
      await this.#informer.start();
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (this.#stopped) {
      await this.#informer.stop(); // stopped while the watch was being opened
      return;
    }
    // start() also resolves after its list or watch failed, once the error handler has run.
    if (this.#errors === errorsBefore) this.#failures = 0;
  }

  #makeInformer() {
    const { namespace, service } = this.#options;
    const api = this.#kubeConfig.makeApiClient(k8s.DiscoveryV1Api);
    const labelSelector = `kubernetes.io/service-name=${service}`;
    const informer = k8s.makeInformer<k8s.V1EndpointSlice>(
      this.#kubeConfig,
      `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
      async () => {
        const list = await api.listNamespacedEndpointSlice({ namespace, labelSelector });
        // After the informer has taken the list in: a list is what the API holds now, even when empty.
        setImmediate(() => this.#publish(true));
        return list;
      },
      labelSelector,
    );
    informer.on('change', () => this.#schedulePublish());
    informer.on('error', (error: unknown) => this.#fail(error));
    return informer;
  }

  #fail(error: unknown): void {
    this.#errors += 1;
    if (this.#stopped) return;
    const { initial, max } = this.#options.retryMs;
    const delay = Math.round(
      Math.min(max, initial * 2 ** Math.min(this.#failures, 30)) * (0.8 + 0.4 * this.#options.random()),
    );
    this.#failures += 1;
    this.emit('error', apiErrorText(error), delay);
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#start(), delay);
  }

  /** The informer reports one event per slice; a list is many at once. Take the result once. */
  #schedulePublish(): void {
    this.#publishing ??= setImmediate(() => {
      this.#publishing = undefined;
      this.#publish(false);
    });
  }

  #publish(listed: boolean): void {
    if (!this.#informer || this.#stopped) return;
    const { namespace, service, port } = this.#options;
    const { endpoints, note } = endpointsOf(this.#informer.list(), port, `${service}.${namespace}`);
    // endpointsOf gives each pod its addresses (two when dual-stack), all host:port: the first is dialled.
    const next = endpoints.flatMap(({ addresses: [first] }) =>
      first && 'host' in first ? [{ address: first.host, grpcPort: first.port }] : [],
    );
    const key = JSON.stringify(next);
    if (key !== this.#key) {
      this.#key = key;
      this.#endpoints = next;
      this.emit('change');
    }
    if (listed) this.emit('synced', note);
  }
}
