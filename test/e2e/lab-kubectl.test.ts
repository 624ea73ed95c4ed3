// The post's kubectl commands, verbatim, against `out/lab up`: the real kubectl, the lab's API, its
// controllers and kubelet, real pods. One pass through what only a running lab can show — pods that answer
// at the IPs kubectl lists, their own logs, a deleted pod replaced, a rollout that replaces every pod —
// on what kubectl prints and what the pods answer, never on timings. (kubectl's columns, messages, watches
// and errors against the API alone: test/e2e/kubectl*.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../support/wait.js';
import { kubectlFor, type Kubectl } from './support/kubectl.js';
import { labUp, type RunningLab } from './support/lab-up.js';
import { podNetwork } from './support/pod-network.js';

const NS = ['-n', 'grpc-lb'];
const network = podNetwork('lab-kubectl');

describe('the real kubectl against lab up', () => {
  let lab: RunningLab;
  let kubectl: Kubectl;
  before(async () => {
    lab = await labUp(network, ['--no-mesh-client', '--no-service-clients', '--no-k8s-client']);
    kubectl = kubectlFor(lab.kubeconfig);
  });
  after(async () => {
    assert.equal(await lab.stop('SIGINT'), 0);
  });

  /** `kubectl get pods -o wide`: name, ready, status and IP of each pod. */
  const pods = async () =>
    (await kubectl(['get', 'pods', ...NS, '-o', 'wide', '--no-headers'])).stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((row) => {
        const [name = '', ready, status, , , ip = ''] = row.split(/\s+/);
        return { name, ready, status, ip };
      });
  const running = async (count: number) => {
    const now = await pods();
    return now.length === count && now.every((pod) => pod.ready === '1/1' && pod.status === 'Running');
  };
  const rolledOut = async () => {
    const rollout = await kubectl(['rollout', 'status', ...NS, 'deployment/addr-server', '--timeout=90s'], 100_000);
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.match(rollout.stdout, /deployment "addr-server" successfully rolled out/);
  };

  it('kubectl scale --replicas=5 and rollout status: 5 Running pods, each answering at the IP kubectl lists', async () => {
    const scaled = await kubectl(['scale', ...NS, '--replicas=5', 'deployment/addr-server']);
    assert.equal(scaled.code, 0, scaled.stderr);
    assert.equal(scaled.stdout.trim(), 'deployment.apps/addr-server scaled');
    await rolledOut();
    assert.ok(await running(5), JSON.stringify(await pods()));
    const ips = (await pods()).map((pod) => pod.ip);
    assert.equal(new Set(ips).size, 5);
    for (const ip of ips) {
      assert.ok(ip.startsWith(network.prefix), `${ip} is in the lab's pod network`);
      assert.equal(await (await fetch(`http://${ip}:8080/addr`)).text(), ip);
    }
  });

  it("kubectl logs shows the pod's own output; kubectl delete pod gets it replaced", async () => {
    const [first] = await pods();
    const name = first?.name ?? '';
    const logs = await kubectl(['logs', ...NS, name]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, new RegExp(`msg=listening pod_ip=${first?.ip.replaceAll('.', '\\.')} pod=${name} `));

    const deleted = await kubectl(['delete', 'pod', ...NS, name], 60_000);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim(), `pod "${name}" deleted`);
    await waitUntil(
      'a replacement is ready',
      async () => (await running(5)) && !(await pods()).some((pod) => pod.name === name),
      30_000,
      200,
    );
  });

  it('kubectl rollout restart, then set env: each replaces every pod through a new ReplicaSet, whose pods carry the change', async () => {
    const before = (await pods()).map((pod) => pod.name);
    const restarted = await kubectl(['rollout', 'restart', ...NS, 'deployment/addr-server']);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.equal(restarted.stdout.trim(), 'deployment.apps/addr-server restarted');
    await rolledOut();
    await waitUntil('the old pods are gone', () => running(5), 60_000, 200);
    const after = (await pods()).map((pod) => pod.name);
    assert.ok(
      after.every((name) => !before.includes(name)),
      `no pod of the old template is left: ${after.join(' ')}`,
    );

    const set = await kubectl(['set', 'env', ...NS, 'deployment/addr-server', 'ADDR_SERVER_DELAY_MS=1']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), 'deployment.apps/addr-server env updated');
    await rolledOut();
    await waitUntil('the old pods are gone', () => running(5), 60_000, 200);
    const env = await kubectl([
      'get',
      'pods',
      ...NS,
      '-o',
      'jsonpath={range .items[*]}{.spec.containers[0].env[?(@.name=="ADDR_SERVER_DELAY_MS")].value}{"\\n"}{end}',
    ]);
    assert.deepEqual(env.stdout.trim().split('\n'), ['1', '1', '1', '1', '1']);
    const sets = (await kubectl(['get', 'rs', ...NS, '--no-headers'])).stdout.trim().split('\n');
    assert.deepEqual(
      sets.map((row) => row.split(/\s+/).slice(1, 4).join(' ')).sort(),
      ['0 0 0', '0 0 0', '5 5 5'],
      'the old ReplicaSets stay, scaled to 0',
    );
  });

  it('kubectl scale to 2 leaves 2', async () => {
    assert.equal((await kubectl(['scale', ...NS, '--replicas=2', 'deployment/addr-server'])).code, 0);
    await rolledOut();
    await waitUntil('2 pods are left', () => running(2), 60_000, 200);
  });
});
