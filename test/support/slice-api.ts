// The lab's Kubernetes API (its object store and API server) holding only what the k8s:/// resolver reads:
// a Service's EndpointSlices, written by hand so that a test decides every endpoint and condition. The
// faults a real API shows come with it: watches ended, history compacted, the API gone and back.
import { after } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { KubeApiServer } from '../../src/lab/api/api-server.js';
import { writeKubeconfig } from '../../src/lab/api/kubeconfig.js';
import { ObjectStore } from '../../src/lab/api/store.js';
import { listen } from '../../src/common/listen.js';
import { freePort } from './free-port.js';

export const NS = 'grpc-lb';

export interface SliceEndpoint {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export class SliceApi {
  readonly store = new ObjectStore();
  readonly api = new KubeApiServer({ store: this.store });
  readonly kubeconfig: Promise<string>;

  /** `port`: where the API will listen (it may start later: a client that finds no API at first). */
  constructor(readonly port: number) {
    for (const name of ['default', NS])
      this.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    this.kubeconfig = writeKubeconfig(`http://127.0.0.1:${port}`, `${mkdtempSync(`${tmpdir()}/grpc-lb-k8s-`)}/config`);
  }

  async listen(): Promise<void> {
    await this.api.listen(this.port);
  }

  close(): Promise<void> {
    return this.api.close();
  }

  /** Creates or replaces the EndpointSlice `name` of `service`, its endpoints on one named port. */
  apply(name: string, service: string, port: { name: string; port: number }, endpoints: SliceEndpoint[]): void {
    const content = {
      addressType: 'IPv4',
      ports: [{ ...port, protocol: 'TCP' }],
      endpoints: endpoints.map(({ ip, ...conditions }) => ({ addresses: [ip], conditions })),
    };
    if (this.store.get('endpointslices', NS, name)) {
      this.store.mutate('endpointslices', NS, name, (slice) => Object.assign(slice, content));
    } else {
      const metadata = { name, namespace: NS, labels: { 'kubernetes.io/service-name': service } };
      this.store.create('endpointslices', {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata,
        ...content,
      });
    }
  }

  remove(name: string): void {
    this.store.delete('endpointslices', NS, name);
  }
}

/**
 * A kubeconfig for `api` through a proxy that holds each watch request `delayMs` before passing it on:
 * a watch still being opened when the client wants to stop.
 */
export async function slowWatchKubeconfig(
  api: SliceApi,
  delayMs: number,
): Promise<{ kubeconfig: string; close(): void }> {
  const proxy: Server = createServer((req, res) => {
    const forward = () => {
      const upstream = request(
        {
          host: '127.0.0.1',
          port: api.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: `127.0.0.1:${api.port}` },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers).flushHeaders(); // a watch's headers come at once
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    };
    if (/[?&]watch=(true|1)/.test(req.url ?? '')) setTimeout(forward, delayMs);
    else forward();
  });
  const port = await listen(proxy, 0, '127.0.0.1');
  const kubeconfig = await writeKubeconfig(
    `http://127.0.0.1:${port}`,
    `${mkdtempSync(`${tmpdir()}/grpc-lb-k8s-`)}/config`,
  );
  return {
    kubeconfig,
    close: () => {
      proxy.close();
      proxy.closeAllConnections();
    },
  };
}

/** An API holding Service `service` (a port named grpc, and these annotations), listening on a port of its own. */
export async function apiWithService(service: string, annotations: Record<string, string> = {}): Promise<SliceApi> {
  const api = new SliceApi(await freePort());
  api.store.create('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service, namespace: NS, annotations },
    spec: { ports: [{ name: 'grpc', port: 30051 }] },
  });
  await api.listen();
  return api;
}

/** A slice of its own for `pod`, which listens on 127.0.0.1: its gRPC port is the slice's port. */
export function publishPod(api: SliceApi, service: string, pod: { ip: string; port: number }, ready = true): void {
  api.apply(`${service}-${pod.ip}`, service, { name: 'grpc', port: pod.port }, [{ ip: '127.0.0.1', ready }]);
}

/**
 * A test file's APIs (each with a Service) and the pods it starts behind them: all closed once the file's
 * tests are done.
 */
export function serviceFixtures() {
  const pods: { server: { forceShutdown(): void } }[] = [];
  const apis: SliceApi[] = [];
  after(async () => {
    pods.forEach((pod) => pod.server.forceShutdown());
    for (const api of apis) await api.close();
  });
  return {
    /** Registers a pod to stop after the tests; returns it. */
    keep<T extends { server: { forceShutdown(): void } }>(pod: T): T {
      pods.push(pod);
      return pod;
    },
    async apiWith(service: string, annotations: Record<string, string> = {}): Promise<SliceApi> {
      const api = await apiWithService(service, annotations);
      apis.push(api);
      return api;
    },
  };
}
