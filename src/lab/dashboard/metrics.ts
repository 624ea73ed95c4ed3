// The lab's Prometheus metrics, served on the dashboard's port at /metrics: what each client the lab
// runs got from each pod, what each proxy sent each pod (the Service's L4 connections, the mesh's L7
// requests and their latency), and the pods by phase. Observers only: counts are read from the proxies
// at scrape time. Pods are labelled by pod IP, which the pod network bounds (a /24), not by name.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { podIsActive, specOf, statusOf, type PodStatus } from '../controllers/objects.js';
import type { Route } from '../experiment/clients.js';
import type { Workload } from '../experiment/workload.js';
import type { LabView } from './lab-view.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class LabMetrics {
  readonly registry = new Registry();
  readonly #calls: Counter<'client' | 'route' | 'pod_ip'>;
  readonly #errors: Counter<'client' | 'route'>;

  constructor(lab: LabView) {
    const registers = [this.registry];
    this.#calls = new Counter({
      name: 'lab_client_calls_total',
      help: "Calls answered, by the lab's client, its route to the pods (service, mesh, client: it balances by itself) and the pod that answered",
      labelNames: ['client', 'route', 'pod_ip'],
      registers,
    });
    this.#errors = new Counter({
      name: 'lab_client_errors_total',
      help: "Calls that failed, by the lab's client",
      labelNames: ['client', 'route'],
      registers,
    });

    const services = [
      ['http', lab.http],
      ['grpc', lab.grpc],
    ] as const;
    const seen = new Map<string, number>(); // what the opened counter already counted, per port and pod
    new Counter({
      name: 'lab_service_connections_opened_total',
      help: "Connections the Service (L4, kube-proxy's role) opened to each pod, by Service port",
      labelNames: ['port', 'pod_ip'],
      registers,
      collect() {
        for (const [port, proxy] of services) {
          for (const [ip, total] of proxy?.connections ?? []) {
            const key = `${port} ${ip}`;
            if (total > (seen.get(key) ?? 0)) this.inc({ port, pod_ip: ip }, total - (seen.get(key) ?? 0));
            seen.set(key, total);
          }
        }
      },
    });
    new Gauge({
      name: 'lab_service_connections_open',
      help: 'Connections through the Service open now, by Service port and pod: where a long-lived gRPC connection sits',
      labelNames: ['port', 'pod_ip'],
      registers,
      collect() {
        this.reset();
        for (const [port, proxy] of services)
          for (const [ip, open] of proxy?.open ?? []) this.set({ port, pod_ip: ip }, open);
      },
    });
    const meshSeen = new Map<string, number>();
    new Counter({
      name: 'lab_mesh_requests_total',
      help: "Requests the mesh proxy (L7, Linkerd's role) sent to each pod",
      labelNames: ['pod_ip'],
      registers,
      collect() {
        for (const [ip, total] of lab.meshRequests) {
          if (total > (meshSeen.get(ip) ?? 0)) this.inc({ pod_ip: ip }, total - (meshSeen.get(ip) ?? 0));
          meshSeen.set(ip, total);
        }
      },
    });
    const latency = new Histogram({
      name: 'lab_mesh_request_duration_seconds',
      help: 'Time from the mesh proxy sending a request to a pod to the end of its answer',
      labelNames: ['pod_ip'],
      buckets: BUCKETS,
      registers,
    });
    lab.mesh?.on('response', ({ ip, ms, outcome }) => {
      if (outcome !== 'refused') latency.observe({ pod_ip: ip }, ms / 1000);
    });
    new Gauge({
      name: 'lab_pods',
      help: 'Pods of the Deployment by phase (Terminating: deleted, draining)',
      labelNames: ['phase'],
      registers,
      collect() {
        const pods = lab.store.list('pods', { namespace: lab.namespace }).items;
        const phaseOf = (pod: (typeof pods)[number]) =>
          !podIsActive(pod) ? 'Terminating' : (statusOf<PodStatus>(pod).phase ?? 'Pending');
        for (const phase of ['Pending', 'Running', 'Terminating'] as const)
          this.set({ phase }, pods.filter((pod) => phaseOf(pod) === phase).length);
      },
    });
    new Gauge({
      name: 'lab_pods_ready',
      help: "Pods in the Service's endpoints",
      registers,
      collect() {
        this.set(lab.endpoints.list().length);
      },
    });
    new Gauge({
      name: 'lab_deployment_replicas',
      help: "The Deployment's spec.replicas",
      registers,
      collect() {
        const deployment = lab.store.get('deployments', lab.namespace, lab.deployment);
        this.set(deployment ? (specOf<{ replicas?: number }>(deployment).replicas ?? 1) : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts a client's replies and failures from now on. */
  follow(workload: Workload, client: string, route: Route): void {
    workload.on('call', (call) => {
      if (call.code === 'OK') this.#calls.inc({ client, route, pod_ip: call.pod });
      else this.#errors.inc({ client, route });
    });
    this.#errors.inc({ client, route }, 0);
  }
}
