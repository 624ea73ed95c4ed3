// A real Prometheus (Debian's prometheus package, 2.42: no Kubernetes discovery) against `out/lab up`,
// configured as docs/prometheus-lab.yml tells a user to — the lab's pods through its HTTP service
// discovery (/prometheus/targets on the dashboard's port), the lab itself statically — and asked the
// PromQL of docs/cluster.md: after the scale to 5, the Service's HTTP client's calls are about a fifth
// on each pod and its gRPC client's calls all on one. Only the Service's clients run, as in the post's
// Experiment 1.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { freePort } from '../support/free-port.js';
import { root } from '../support/root.js';
import { waitUntil } from '../support/wait.js';
import { labUp, type RunningLab } from './support/lab-up.js';
import { podNetwork } from './support/pod-network.js';
import { readyIps } from './support/pods.js';
import { exitWithin, run, startCommand, type Running } from './support/processes.js';

const PROMETHEUS = '/usr/bin/prometheus';

interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  http_sd_configs?: Array<{ url: string; refresh_interval?: string }>;
  static_configs?: Array<{ targets: string[] }>;
}

/**
 * docs/prometheus-lab.yml for this lab: its dashboard's port instead of the default 30001, and every
 * second instead of every 5 s, so that a short window holds enough samples.
 */
function configFor(dashboardPort: number): string {
  const config = parse(readFileSync(`${root}docs/prometheus-lab.yml`, 'utf8')) as {
    global: Record<string, string>;
    scrape_configs: ScrapeConfig[];
  };
  const here = (address: string) => address.replace(/127\.0\.0\.1:30001\b/, `127.0.0.1:${dashboardPort}`);
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  for (const job of config.scrape_configs) {
    for (const sd of job.http_sd_configs ?? []) {
      sd.url = here(sd.url);
      sd.refresh_interval = '1s';
    }
    for (const group of job.static_configs ?? []) group.targets = group.targets.map(here);
  }
  return stringify(config);
}

type Sample = { metric: Record<string, string>; value: [number, string] };

describe('Prometheus against lab up, as docs/prometheus-lab.yml and docs/cluster.md say', () => {
  const network = podNetwork('prometheus');
  let lab: RunningLab;
  let prometheus: Running;
  let api = '';
  /** An instant query, its samples. */
  const query = async (promql: string): Promise<Sample[]> => {
    const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; data?: { result: Sample[] }; error?: string };
    assert.equal(body.status, 'success', `${promql}: ${body.error}`);
    return body.data?.result ?? [];
  };
  const value = (sample: Sample | undefined) => Number(sample?.value[1]);

  before(async () => {
    lab = await labUp(network, ['--no-mesh-client', '--no-k8s-client', '--interval', '100']);
    const dir = mkdtempSync(`${tmpdir()}/grpc-lb-prometheus-`);
    writeFileSync(`${dir}/prometheus.yml`, configFor(lab.dashboard));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = startCommand(PROMETHEUS, [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    const ready = () =>
      fetch(`${api}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
    await waitUntil('Prometheus is ready', ready, 30_000, 100);
  });
  after(async () => {
    void prometheus.stop();
    await exitWithin(prometheus, 10_000);
    assert.equal(await lab.stop(), 0);
  });

  it("finds the pods through the lab's HTTP service discovery, by their template's annotations, and scrapes the lab", async () => {
    await waitUntil(
      'the pod and the lab are up in Prometheus',
      async () =>
        (await query('up{job="addr-server"} == 1')).length === 1 && (await query('up{job="lab"} == 1')).length === 1,
      30_000,
      200,
    );
    const [pod] = await query('up{job="addr-server"}');
    assert.equal(pod?.metric.namespace, 'grpc-lb');
    assert.match(pod?.metric.pod ?? '', /^addr-server-[a-z0-9]+-[a-z0-9]{5}$/);
    assert.equal(pod?.metric.instance, `${network.ip(8)}:8080`, "the prometheus.io/port annotation's port");
    // The pods carry the template's annotations, as a ReplicaSet's pods do.
    const pods = (await (await fetch(`http://127.0.0.1:${lab.api}/api/v1/namespaces/grpc-lb/pods`)).json()) as {
      items: Array<{ metadata: { annotations?: Record<string, string> } }>;
    };
    assert.deepEqual(pods.items[0]?.metadata.annotations, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/path': '/metrics',
    });
    assert.equal(value((await query('lab_pods_ready'))[0]), 1, "the lab's own /metrics");
  });

  it('after the scale to 5: HTTP through the Service about 0.2 a pod, gRPC through the Service all on one pod', async () => {
    const scaled = await run('lab', ['scale', '5', '--api-port', String(lab.api)]);
    assert.equal(scaled.code, 0, scaled.output);
    await waitUntil('5 pods are ready', async () => (await readyIps(lab.api)).length === 5, 30_000);
    const allReady = Date.now();
    // docs/cluster.md's queries take [1m] with a 15 s scrape interval. Here Prometheus scrapes every
    // second, so 15 s hold 15 samples a pod — and a 15 s window is over the 5 pods alone once they have
    // all been scraped for that long, without waiting a minute after the scale. A pod is scraped from
    // the moment it runs (as Kubernetes' pod discovery lists it), before it is Ready and in the
    // Service: the window must also begin after the last one's Ready, or the first pod's calls from
    // before it are in it.
    const WINDOW_S = 15;
    const WINDOW = `${WINDOW_S}s`;
    await waitUntil(
      `5 pods scraped throughout the last ${WINDOW}, all of it after they were Ready`,
      async () =>
        Date.now() - allReady > (WINDOW_S + 1) * 1000 &&
        (await query(`count_over_time(up{job="addr-server"}[${WINDOW}]) >= ${WINDOW_S - 1}`)).length === 5,
      60_000,
      500,
    );
    const share = (protocol: string, method: string) => {
      const selector = `addr_server_requests_total{namespace="grpc-lb", protocol="${protocol}", method="${method}"}`;
      return query(
        `sum by (pod) (rate(${selector}[${WINDOW}])) / ignoring(pod) group_left sum(rate(${selector}[${WINDOW}]))`,
      );
    };
    const http = await share('http', 'GET /addr');
    assert.equal(http.length, 5, JSON.stringify(http));
    for (const sample of http)
      assert.ok(
        value(sample) >= 0.05 && value(sample) <= 0.4,
        `HTTP: ${sample.metric.pod} has ${value(sample).toFixed(2)} of the calls, not about 0.2`,
      );
    const grpc = (await share('grpc', 'addr.Addr/GetAddr')).filter((sample) => value(sample) > 0);
    assert.equal(grpc.length, 1, `gRPC calls on ${grpc.map((s) => s.metric.pod).join(', ')}`);
    assert.ok(Math.abs(value(grpc[0]) - 1) < 1e-9, `the one pod has ${value(grpc[0])} of the gRPC calls`);
    const reached = await query(
      `count(sum by (pod) (rate(addr_server_requests_total{namespace="grpc-lb", protocol="grpc", method="addr.Addr/GetAddr"}[${WINDOW}])) > 0)`,
    );
    assert.equal(value(reached[0]), 1, 'one pod gets gRPC calls at all');
    assert.equal(value((await query('lab_pods_ready'))[0]), 5);
  });
});
