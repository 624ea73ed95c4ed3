// `out/lab compare --cluster` against `out/lab up` as the cluster: lab up applies the strategies' folders
// (their client Deployments run as pods, as on a cluster), and compare drives the scenario through the
// lab's Kubernetes API with @kubernetes/client-node alone, reading each client's calls from its pods' logs.
// It must judge each strategy as `out/lab compare` does on its own; and refuse what a cluster lacks.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { labUp, type RunningLab } from '../support/lab-up.js';
import { podNetwork } from '../support/pod-network.js';
import { root, run } from '../support/processes.js';

/** The strategies the lab-as-cluster run proves the path with: L4, DNS, the API watch, xDS, the mesh. */
const STRATEGIES = 'l4,dns,k8s,xds,mesh';

interface Report {
  settings: { cluster: { namespace: string } | null; rate: number | null };
  strategies: Array<{ name: string; ok: boolean | null; cpuMs: number | null; addedMs: unknown }>;
}

const verdicts = (report: Report) => Object.fromEntries(report.strategies.map((s) => [s.name, s.ok]));

describe('lab compare --cluster, against lab up as the cluster', () => {
  let lab: RunningLab;
  const dir = mkdtempSync(`${tmpdir()}/grpc-lb-compare-cluster-`);
  before(async () => {
    lab = await labUp(podNetwork('compare-cluster', 0), [
      '--strategies',
      STRATEGIES,
      '--no-service-clients',
      '--no-k8s-client',
      '--no-mesh-client',
    ]);
  });
  after(() => lab.stop());

  it('refuses, in one line, a strategy not deployed, a SIGSTOP scenario and the lab pace flags', async () => {
    const cluster = ['compare', '--cluster', '--kubeconfig', lab.kubeconfig];
    const missing = await run('lab', [...cluster, '--strategies', 'l4,dns+age']);
    assert.equal(missing.code, 1, missing.output);
    assert.match(
      missing.output,
      /no Deployment addr-server-aged in namespace grpc-lb|no client Deployment for the strategy dns\+age/,
    );
    const hung = await run('lab', [...cluster, '--scenario', 'hung-pod']);
    assert.equal(hung.code, 2, hung.output);
    assert.match(hung.output, /SIGSTOP, which no Kubernetes API can do/);
    const paced = await run('lab', [...cluster, '--rate', '10']);
    assert.equal(paced.code, 2, paced.output);
    assert.match(paced.output, /--rate is the lab's/);
    const variant = await run('lab', [...cluster, '--strategies', 'mesh-p2c']);
    assert.equal(variant.code, 2, variant.output);
    assert.match(variant.output, /mesh-p2c: a variant the lab makes/);
  });

  it('prints the same verdicts as lab compare for the same strategies', { timeout: 400_000 }, async () => {
    const common = ['--scenario', 'compare', '--strategies', STRATEGIES, '--phase-seconds', '5'];
    const onCluster = await run(
      'lab',
      ['compare', '--cluster', '--kubeconfig', lab.kubeconfig, ...common, '--json', `${dir}/cluster.json`],
      180_000,
    );
    const inLab = await run(
      'lab',
      [
        ...['compare', ...common],
        '--latency-seconds',
        '0',
        '--pod-cidr',
        podNetwork('compare-cluster', 1).cidr,
        '--json',
        `${dir}/lab.json`,
      ],
      180_000,
    );
    const cluster = JSON.parse(readFileSync(`${dir}/cluster.json`, 'utf8')) as Report;
    const own = JSON.parse(readFileSync(`${dir}/lab.json`, 'utf8')) as Report;
    const why = `on the cluster:\n${onCluster.output}\n\nin the lab:\n${inLab.output}`;
    assert.deepEqual(verdicts(cluster), verdicts(own), why);
    assert.deepEqual(Object.keys(verdicts(cluster)), STRATEGIES.split(','), why);
    assert.equal(onCluster.code, inLab.code, why);
    for (const name of STRATEGIES.split(',')) assert.match(onCluster.output, new RegExp(`^${name} +✓ `, 'm'), why);
    // What only the lab measures is left out on a cluster, and said so.
    assert.equal(cluster.settings.cluster?.namespace, 'grpc-lb');
    assert.equal(cluster.settings.rate, 50, 'the clients call as their manifests say');
    assert.ok(cluster.strategies.every((s) => s.cpuMs === null && s.addedMs === null));
    assert.match(onCluster.output, /added ms, CPU ms, RSS MiB: — on a cluster/);
  });

  it(
    "a fault step's Deployment is created through the API, and deleted when the run ends",
    { timeout: 200_000 },
    async () => {
      // The built-in scenario with its 30 s pause cut to 10 s: the DNS strategies, which need the 30 s, are
      // not run here; the 10 s outlast the old pods' 5 s shutdown delay, after which l4 reconnects — it must
      // have chosen its pod before the bad one comes (as test/e2e/alone/compare-faults.test.ts does).
      const scenario = `${dir}/slow-pod.yml`;
      const steps = readFileSync(`${root}scenarios/slow-pod.yml`, 'utf8');
      assert.match(steps, /^ {2}- pause: 30s$/m);
      writeFileSync(scenario, steps.replace(/^ {2}- pause: 30s$/m, '  - pause: 10s'));
      const slow = await run(
        'lab',
        [
          ...['compare', '--cluster', '--kubeconfig', lab.kubeconfig, '--scenario', scenario],
          ...['--strategies', 'l4,k8s,mesh', '--phase-seconds', '6'],
        ],
        180_000,
      );
      assert.match(slow.output, /step \d+\/\d+: a faulty pod: delay-ms 1000/, slow.output);
      assert.match(slow.output, /addr-server-fault: pod [\d.]+ ready: in the endpoints/, slow.output);
      assert.match(slow.output, /deleted the Deployment addr-server-fault, the faulty pods the scenario added/);
      // The mesh is judged as Linkerd's proxy balances: a small share to the slow pod.
      assert.match(slow.output, /^mesh +✓ /m, slow.output);
      assert.equal(slow.code, 0, slow.output);
      const config = new k8s.KubeConfig();
      config.loadFromFile(lab.kubeconfig);
      const apps = config.makeApiClient(k8s.AppsV1Api);
      const names = (await apps.listNamespacedDeployment({ namespace: 'grpc-lb' })).items.map((d) => d.metadata?.name);
      assert.ok(names.includes('addr-server') && !names.includes('addr-server-fault'), names.join(', '));
    },
  );
});
