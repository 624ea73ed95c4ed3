// The post's kubectl commands, verbatim, against `out/lab up`: the real kubectl, the lab's API, real pods.
// Assertions are on what kubectl prints and what the pods answer, never on timings.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { kubectlFor, raw, waitUntil, type Kubectl } from './support/kubectl.js';
import { exitWithin, start, type Running } from './support/processes.js';

const NS = ['-n', 'grpc-lb'];
const PREFIX = `127.246.${process.pid % 200}.`;

describe('the real kubectl against lab up', () => {
  let lab: Running;
  let kubectl: Kubectl;
  let apiPort: number;
  before(async () => {
    const kubeconfig = `${mkdtempSync(`${tmpdir()}/grpc-lb-kubeconfig-`)}/config`;
    lab = start('lab', [
      'up',
      '--http-node-port',
      '0',
      '--grpc-node-port',
      '0',
      '--mesh-port',
      '0',
      '--api-port',
      '0',
      '--dashboard-port',
      '0',
      '--no-mesh-client',
      '--no-service-clients',
      '--no-k8s-client',
      '--pod-cidr',
      `${PREFIX}0/24`,
      '--kubeconfig',
      kubeconfig,
    ]);
    const [, port] = await lab.waitFor(/ · API :(\d+)/);
    apiPort = Number(port);
    await lab.waitFor(new RegExp(`export KUBECONFIG=${kubeconfig.replaceAll('/', '\\/')}`));
    kubectl = kubectlFor(kubeconfig);
  });
  after(async () => {
    lab.child.kill('SIGINT');
    await exitWithin(lab, 20_000);
  });

  const podLines = async () =>
    (await kubectl(['get', 'pods', ...NS, '-o', 'wide', '--no-headers'])).stdout.trim().split('\n').filter(Boolean);

  it('kubectl scale --replicas=5, then rollout status returns; get pods -o wide lists 5 Running pods and their IPs', async () => {
    const scaled = await kubectl(['scale', ...NS, '--replicas=5', 'deployment/addr-server']);
    assert.equal(scaled.code, 0, scaled.stderr);
    assert.equal(scaled.stdout.trim(), 'deployment.apps/addr-server scaled');
    const rollout = await kubectl(['rollout', 'status', ...NS, 'deployment/addr-server'], 60_000);
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.match(rollout.stdout, /deployment "addr-server" successfully rolled out/);

    const wide = await kubectl(['get', 'pods', ...NS, '-o', 'wide']);
    const [header, ...rows] = wide.stdout.trim().split('\n');
    assert.match(
      header ?? '',
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/,
    );
    assert.equal(rows.length, 5, wide.stdout);
    for (const row of rows)
      assert.match(
        row,
        new RegExp(
          `^addr-server-\\S+\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${PREFIX.replaceAll('.', '\\.')}\\d+\\s+lab\\s`,
        ),
      );
  });

  it('a pod IP answers /addr with itself, over HTTP', async () => {
    const ips = (await podLines()).map((row) => row.split(/\s+/)[5] as string);
    assert.equal(ips.length, 5);
    for (const ip of ips) assert.equal(await (await fetch(`http://${ip}:8080/addr`)).text(), ip);
  });

  it('kubectl get deploy,svc,endpointslices shows the Deployment, the NodePort Service and the ready endpoints', async () => {
    const { code, stdout } = await kubectl(['get', 'deploy,svc,endpointslices', ...NS]);
    assert.equal(code, 0);
    assert.match(stdout, /deployment\.apps\/addr-server\s+5\/5\s+5\s+5\s/);
    assert.match(stdout, /service\/addr-server\s+NodePort\s+\S+\s+<none>\s+80:\d+\/TCP,30051:\d+\/TCP/);
    assert.match(
      stdout,
      /endpointslice\.discovery\.k8s\.io\/addr-server-\S+\s+IPv4\s+8080,30051\s+\S+ \+ 2 more\.\.\./,
    );
  });

  it("kubectl logs shows the pod's output; kubectl delete pod gets it replaced", async () => {
    const [first] = await podLines();
    const name = first?.split(/\s+/)[0] as string;
    const logs = await kubectl(['logs', ...NS, name]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, new RegExp(`msg=listening pod_ip=\\S+ pod=${name} `));

    const deleted = await kubectl(['delete', 'pod', ...NS, name], 60_000);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim(), `pod "${name}" deleted`);
    await waitUntil(
      'a replacement is ready',
      async () => {
        const rows = await podLines();
        return (
          rows.length === 5 &&
          rows.every((row) => / 1\/1 +Running /.test(row)) &&
          !rows.some((row) => row.startsWith(`${name} `))
        );
      },
      30_000,
    );
  });

  it('kubectl scale to 2 leaves 2', async () => {
    assert.equal((await kubectl(['scale', ...NS, '--replicas=2', 'deployment/addr-server'])).code, 0);
    await waitUntil('2 pods are left', async () => (await podLines()).length === 2, 60_000);
    const rollout = await kubectl(['rollout', 'status', ...NS, 'deployment/addr-server'], 60_000);
    assert.equal(rollout.code, 0, rollout.stderr);
  });

  it('an unknown resource, a bad patch and a flood of bad requests get errors, and the API keeps serving', async () => {
    const unknown = await kubectl(['get', 'foos', ...NS]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /the server doesn't have a resource type "foos"/);
    const bad = await kubectl([
      'patch',
      'deployment',
      'addr-server',
      ...NS,
      '--type',
      'merge',
      '-p',
      '{"spec":{"replicas":-1}}',
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.replicas: Invalid value: -1/);
    for (let i = 0; i < 200; i++) {
      const response = await raw(
        apiPort,
        ['GET', 'PUT', 'PATCH', 'DELETE', 'POST'][i % 5] as string,
        `/apis/apps/v1/namespaces/grpc-lb/${['deployments', 'pods', 'x', 'deployments/addr-server/scale'][i % 4]}/%zz${i}`,
        { 'content-type': 'application/json' },
        '{"oops',
      );
      assert.ok(response.status >= 400 && response.status < 500, `${response.status} ${response.text.slice(0, 80)}`);
      assert.equal(response.json().kind, 'Status');
    }
    assert.equal((await podLines()).length, 2, 'still serving, nothing changed');
  });
});
