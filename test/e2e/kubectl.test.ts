// The lab's Kubernetes API through the real kubectl: the post's commands verbatim against the API over a
// stand-in cluster (test/support/kube-fixtures.ts), kubectl's own columns and messages, its watch and its
// log follower. (The same API over plain HTTP, in-process: test/kube-api.test.ts; against a real lab:
// test/e2e/lab/lab-kubectl.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { KubeApiServer } from '../../src/lab/api/api-server.js';
import { writeKubeconfig } from '../../src/lab/api/kubeconfig.js';
import { ObjectStore, type WatchEvent } from '../../src/lab/api/store.js';
import { NS, seed, TinyCluster } from '../support/kube-fixtures.js';
import { waitUntil } from '../support/wait.js';
import { kubectlFor, type Kubectl } from './support/kubectl.js';

const logText = (pod: string) => `listening on 8080 (HTTP) and 30051 (gRPC) as ${pod}\nGET /addr\n`;

describe('the Kubernetes API, through the real kubectl', () => {
  const store = new ObjectStore();
  const cluster = new TinyCluster(store);
  const dashboard = 'http://127.0.0.1:1';
  const api = new KubeApiServer({
    store,
    maxReplicas: 20,
    allowedOrigins: [dashboard],
    podLogs: ({ pod, follow }) =>
      follow
        ? (async function* () {
            for (const line of logText(pod).split(/(?<=\n)/)) {
              await new Promise((resolve) => setTimeout(resolve, 20));
              yield line;
            }
          })()
        : logText(pod),
  });
  let kubeconfig = '';
  let kubectl: Kubectl;
  const podNames = () => store.list('pods', { namespace: NS }).items.map((pod) => pod.metadata.name);
  const replicas = () => Number(store.read('deployments', NS, 'addr-server').spec?.replicas);
  const columns = (line: string) => line.trim().split(/\s{2,}/);

  before(async () => {
    seed(store);
    cluster.start();
    await api.listen(0);
    kubeconfig = await writeKubeconfig(api.url, `${mkdtempSync(`${tmpdir()}/grpc-lb-kubeconfig-`)}/config`);
    kubectl = kubectlFor(kubeconfig);
    await waitUntil(
      'the first pod is ready',
      () => store.read('deployments', NS, 'addr-server').status?.readyReplicas === 1,
    );
  });
  after(async () => {
    cluster.stop();
    await api.close();
  });

  it('kubectl scale --replicas=5, then rollout status returns once the rollout is complete', async () => {
    const scale = await kubectl(['scale', '-n', NS, '--replicas=5', 'deployment/addr-server']);
    assert.equal(scale.stderr, '');
    assert.equal(scale.stdout, 'deployment.apps/addr-server scaled\n');
    assert.equal(replicas(), 5);
    const rollout = await kubectl(['rollout', 'status', '-n', NS, 'deployment/addr-server']);
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.match(rollout.stdout, /deployment "addr-server" successfully rolled out\n$/);
    assert.equal(
      store.read('deployments', NS, 'addr-server').status?.availableReplicas,
      5,
      'rollout status returned before the pods were available',
    );
  });

  it('kubectl scale --current-replicas checks the Scale first, then writes it whole (PUT)', async () => {
    const stale = await kubectl(['scale', '-n', NS, '--current-replicas=4', '--replicas=5', 'deployment/addr-server']);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /Expected replicas to be 4, was 5/);
    const current = await kubectl([
      'scale',
      '-n',
      NS,
      '--current-replicas=5',
      '--replicas=5',
      'deployment/addr-server',
    ]);
    assert.equal(current.code, 0, current.stderr);
    assert.equal(current.stdout, 'deployment.apps/addr-server scaled\n');
  });

  it('kubectl get pods -o wide: the real columns, 5 Running pods with their IPs', async () => {
    const { code, stdout } = await kubectl(['get', 'pods', '-n', NS, '-o', 'wide']);
    assert.equal(code, 0);
    const [header = '', ...rows] = stdout.trim().split('\n');
    assert.deepEqual(columns(header), [
      'NAME',
      'READY',
      'STATUS',
      'RESTARTS',
      'AGE',
      'IP',
      'NODE',
      'NOMINATED NODE',
      'READINESS GATES',
    ]);
    assert.equal(rows.length, 5, stdout);
    const ips = rows.map((row) => {
      const [name, ready, status, restarts, , ip, node] = columns(row);
      assert.ok(podNames().includes(name as string), row);
      assert.deepEqual([ready, status, restarts, node], ['1/1', 'Running', '0', 'lab'], row);
      assert.match(ip as string, /^127\.244\.0\.\d+$/);
      return ip;
    });
    assert.equal(new Set(ips).size, 5, 'each pod has its own IP');
    const narrow = await kubectl(['get', 'pods', '-n', NS]);
    assert.deepEqual(columns(narrow.stdout.split('\n')[0] as string), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  });

  it('kubectl get deploy,svc,endpointslices: one table per kind', async () => {
    const { code, stdout } = await kubectl(['get', 'deploy,svc,endpointslices', '-n', NS]);
    assert.equal(code, 0);
    const [deployments, services, slices] = stdout
      .trim()
      .split('\n\n')
      .map((table) => table.split('\n').map(columns));
    assert.deepEqual(deployments, [
      ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
      ['deployment.apps/addr-server', '5/5', '5', '5', deployments?.[1]?.[4]],
    ]);
    assert.deepEqual(services?.[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    assert.deepEqual(services?.[1]?.slice(0, 5), [
      'service/addr-server',
      'NodePort',
      '10.96.0.10',
      '<none>',
      '80:30080/TCP,30051:30051/TCP',
    ]);
    assert.deepEqual(slices?.[0], ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
    assert.equal(slices?.[1]?.[2], '8080,30051');
    assert.match(slices?.[1]?.[3] ?? '', /^127\.244\.0\.\d+,127\.244\.0\.\d+,127\.244\.0\.\d+ \+ 2 more\.\.\.$/);
  });

  it('kubectl get pods -w prints a row as pods change', async () => {
    const watch = kubectl.spawn(['get', 'pods', '-n', NS, '-w']);
    try {
      await waitUntil('the watch lists the 5 pods', () => watch.output().trim().split('\n').length >= 6);
      const scale = await kubectl(['scale', '-n', NS, '--replicas=2', 'deployment/addr-server']);
      assert.equal(scale.code, 0);
      await waitUntil(
        '3 pods are shown Terminating',
        () =>
          new Set(
            watch
              .output()
              .split('\n')
              .filter((l) => / Terminating /.test(l))
              .map((l) => columns(l)[0]),
          ).size === 3,
      );
      assert.equal(
        watch
          .output()
          .split('\n')
          .filter((line) => line.startsWith('NAME ')).length,
        1,
        'one header',
      );
    } finally {
      watch.child.kill();
    }
    await waitUntil('2 pods are left', () => podNames().length === 2);
  });

  it('kubectl delete pod returns once the pod has terminated and is gone', async () => {
    const name = podNames()[0] as string;
    const seen: WatchEvent[] = [];
    const watcher = store.watch(
      'pods',
      { namespace: NS, fieldSelector: `metadata.name=${name}`, resourceVersion: store.resourceVersion },
      (event) => seen.push(event),
    );
    const { code, stdout } = await kubectl(['delete', 'pod', '-n', NS, name]);
    watcher.stop();
    assert.equal(code, 0);
    assert.equal(stdout, `pod "${name}" deleted\n`);
    assert.equal(store.get('pods', NS, name), undefined, 'kubectl returned while the pod was still there');
    assert.deepEqual(
      seen.map((event) => [event.type, Boolean(event.object.metadata.deletionTimestamp)]),
      [
        ['MODIFIED', true],
        ['DELETED', true],
      ],
    );
  });

  it('kubectl logs prints what the pod wrote, and follows it with -f', async () => {
    const name = podNames()[0] as string;
    const logs = await kubectl(['logs', '-n', NS, name]);
    assert.equal(logs.stdout, logText(name));
    const tail = await kubectl(['logs', '-n', NS, name, '--tail=1']);
    assert.equal(tail.stdout, 'GET /addr\n');
    const follow = await kubectl(['logs', '-f', '-n', NS, name]);
    assert.equal(follow.code, 0);
    assert.equal(follow.stdout, logText(name));
    const missing = await kubectl(['logs', '-n', NS, 'no-such-pod']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /pods "no-such-pod" not found/);
  });

  it("unknown resources, bad patches and unsupported verbs: kubectl prints the API server's words", async () => {
    const unknown = await kubectl(['get', 'foos', '-n', NS]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /the server doesn't have a resource type "foos"/);
    const negative = await kubectl([
      'patch',
      'deployment',
      'addr-server',
      '-n',
      NS,
      '--type',
      'merge',
      '-p',
      '{"spec":{"replicas":-1}}',
    ]);
    assert.equal(negative.code, 1);
    assert.match(negative.stderr, /The Deployment "addr-server" is invalid: spec\.replicas: Invalid value: -1/);
    const selector = await kubectl([
      'patch',
      'deployment',
      'addr-server',
      '-n',
      NS,
      '--type',
      'merge',
      '-p',
      '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}',
    ]);
    assert.equal(selector.code, 1);
    assert.match(
      selector.stderr,
      /The Deployment "addr-server" is invalid: [^]*\* spec\.selector: Invalid value: \{"matchLabels":\{"app":"other"\}\}: field is immutable/,
    );
    const tooMany = await kubectl(['scale', '-n', NS, '--replicas=21', 'deployment/addr-server']);
    assert.equal(tooMany.code, 1);
    assert.match(tooMany.stderr, /must be less than or equal to 20/);
    const deleteService = await kubectl(['delete', 'service', '-n', NS, 'addr-server']);
    assert.match(deleteService.stderr, /MethodNotAllowed/);
    assert.ok(store.get('services', NS, 'addr-server'));
    assert.equal(replicas(), 2, 'nothing changed');
  });
});
