// The k8s: scheme for grpc-js: k8s:///SERVICE[.NAMESPACE]:PORT lists and watches the Service's
// EndpointSlices through the Kubernetes API and hands grpc-js the ready pods, so that a client-side
// balancer (round_robin) sees every pod as soon as it is ready and none after it is gone.
// @kubernetes/client-node is imported dynamically: it is slow to load (most of this client's start-up), and only k8s:
// targets need it (a static import would be hoisted into the bundle and slow every client down).
import * as grpc from '@grpc/grpc-js';
import type * as K8s from '@kubernetes/client-node';
import { apiErrorText, loadKubeConfig } from '../common/kube-api.js';
import { endpointsOf } from './k8s-endpoints.js';
import { parseK8sPath, type K8sTarget } from './k8s-target.js';

type ClientNode = typeof K8s;
type SliceInformer = K8s.Informer<K8s.V1EndpointSlice> & K8s.ObjectCache<K8s.V1EndpointSlice>;

const { BackoffTimeout, statusOrFromValue, statusOrFromError } = grpc.experimental;

export async function registerK8sResolver(): Promise<void> {
  const k8s = await import('@kubernetes/client-node');
  grpc.experimental.registerResolver('k8s', resolverClass(k8s));
}

function resolverClass(k8s: ClientNode) {
  return class EndpointSliceResolver implements grpc.experimental.Resolver {
    /** The :authority of the calls: the Service's DNS name as in-cluster clients write it; the port only when
     *  it is a number (grpc-js makes a URL of it, so a port name cannot stay). */
    static getDefaultAuthority(target: grpc.experimental.GrpcUri): string {
      const { service, namespace, port } = parseK8sPath(target.path);
      return `${[service, namespace].filter(Boolean).join('.')}${typeof port === 'number' ? `:${port}` : ''}`;
    }

    private informer: SliceInformer | undefined;
    private target: (K8sTarget & { namespace: string }) | undefined;
    /** Restarts the informer after an error: the client-node informer stops on any error but 410 Gone. */
    private readonly retry: grpc.experimental.BackoffTimeout;
    private errors = 0;
    private published: string | undefined;
    private publishing: NodeJS.Immediate | undefined;
    /** Counts destroy() calls, so that a start() under way when it came says nothing. */
    private lives = 0;

    constructor(
      private readonly uri: grpc.experimental.GrpcUri,
      private readonly listener: grpc.experimental.ResolverListener,
      options: grpc.ChannelOptions,
    ) {
      this.retry = new BackoffTimeout(() => void this.start(), {
        initialDelay: options['grpc.initial_reconnect_backoff_ms'],
        maxDelay: options['grpc.max_reconnect_backoff_ms'],
      });
      this.retry.unref();
    }

    /** The watch keeps the endpoints current: grpc-js' requests only start it, or restart it once destroyed. */
    updateResolution(): void {
      if (this.informer === undefined && !this.retry.isRunning()) void this.start();
    }

    destroy(): void {
      this.lives += 1;
      this.retry.stop();
      this.retry.reset();
      if (this.publishing) clearImmediate(this.publishing);
      this.publishing = undefined;
      void this.informer?.stop();
      this.informer = undefined;
      this.published = undefined;
    }

    private async start(): Promise<void> {
      const errorsBefore = this.errors;
      const life = this.lives;
      let informer: SliceInformer | undefined;
      try {
        informer = this.informer ??= this.makeInformer();
        await informer.start();
      } catch (error) {
        if (life === this.lives) this.fail(error);
        return;
      }
      // Destroyed while the watch was being opened: stop() found no request to abort then, so the watch
      // would hold the process for its 30 s timeout.
      if (life !== this.lives) {
        void informer.stop();
        return;
      }
      // start() resolves once the watch is open, or after the error handler ran for a list or watch that failed.
      if (this.errors === errorsBefore) {
        this.retry.reset();
        this.schedulePublish();
      }
    }

    private makeInformer(): SliceInformer {
      const kubeConfig = loadKubeConfig(k8s);
      const parsed = parseK8sPath(this.uri.path);
      const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
      const target = { ...parsed, namespace: parsed.namespace ?? context?.namespace ?? 'default' };
      this.target = target;
      const api = kubeConfig.makeApiClient(k8s.DiscoveryV1Api);
      const labelSelector = `kubernetes.io/service-name=${target.service}`;
      const informer = k8s.makeInformer<K8s.V1EndpointSlice>(
        kubeConfig,
        `/apis/discovery.k8s.io/v1/namespaces/${target.namespace}/endpointslices`,
        async () => {
          const list = await api.listNamespacedEndpointSlice({ namespace: target.namespace, labelSelector });
          // Also when the list is empty (no event follows): an unknown Service must be said.
          this.schedulePublish();
          return list;
        },
        labelSelector,
      );
      // A stopped informer may still report the abort of its watch: only the current one speaks.
      informer.on('change', () => informer === this.informer && this.schedulePublish());
      informer.on('error', (error: unknown) => informer === this.informer && this.fail(error));
      return informer;
    }

    private fail(error: unknown): void {
      this.errors += 1;
      // The balancer keeps the endpoints it has; with none, calls fail with this status until the API answers.
      this.published = undefined;
      this.listener(
        statusOrFromError({ code: grpc.status.UNAVAILABLE, details: `Kubernetes API: ${apiErrorText(error)}` }),
        {},
        null,
        '',
      );
      if (!this.retry.isRunning()) this.retry.runOnce();
    }

    /** The informer reports one event per slice; a list is many at once. Hand grpc-js the result once. */
    private schedulePublish(): void {
      this.publishing ??= setImmediate(() => {
        this.publishing = undefined;
        if (this.informer === undefined || this.target === undefined) return;
        const { service, namespace, port } = this.target;
        const { endpoints, note } = endpointsOf(this.informer.list(), port, `${service}.${namespace}`);
        const key = JSON.stringify([endpoints, note]);
        if (key === this.published) return;
        this.published = key;
        this.listener(statusOrFromValue(endpoints), {}, null, note);
        // grpc-js' round_robin, given no endpoint, queues calls until their deadline; an error after the
        // empty list (which dropped the old endpoints) makes them fail at once, saying why.
        if (endpoints.length === 0) {
          this.listener(statusOrFromError({ code: grpc.status.UNAVAILABLE, details: note }), {}, null, note);
        }
      });
    }
  };
}
