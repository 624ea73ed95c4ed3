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

  const rolledOut = async () => {
    const rollout = await kubectl(['rollout', 'status', ...NS, 'deployment/addr-server', '--timeout=90s'], 100_000);
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.match(rollout.stdout, /deployment "addr-server" successfully rolled out/);
  };
  const replicaSets = async () =>
    (await kubectl(['get', 'rs', ...NS, '--no-headers'])).stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((row) => row.split(/\s+/));

  it('kubectl rollout restart replaces every pod through a new ReplicaSet; rollout status waits for it', async () => {
    const before = (await podLines()).map((row) => row.split(/\s+/)[0]);
    const restarted = await kubectl(['rollout', 'restart', ...NS, 'deployment/addr-server']);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.equal(restarted.stdout.trim(), 'deployment.apps/addr-server restarted');
    await rolledOut();
    await waitUntil('the old pods are gone', async () => (await podLines()).length === 5, 60_000);
    const after = (await podLines()).map((row) => row.split(/\s+/)[0]);
    assert.ok(
      after.every((name) => !before.includes(name)),
      `no pod of the old template is left: ${after.join(' ')}`,
    );
    const sets = await replicaSets();
    assert.equal(sets.length, 2, 'the old ReplicaSet stays, scaled to 0');
    assert.deepEqual(sets.map((row) => row.slice(1, 4).join(' ')).sort(), ['0 0 0', '5 5 5']);
  });

  it('kubectl set env rolls out a new template whose pods carry the variable; rollout history lists 3 revisions', async () => {
    const set = await kubectl(['set', 'env', ...NS, 'deployment/addr-server', 'ADDR_SERVER_DELAY_MS=1']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), 'deployment.apps/addr-server env updated');
    await rolledOut();
    await waitUntil('the old pods are gone', async () => (await podLines()).length === 5, 60_000);
    const env = await kubectl([
      'get',
      'pods',
      ...NS,
      '-o',
      'jsonpath={range .items[*]}{.spec.containers[0].env[?(@.name=="ADDR_SERVER_DELAY_MS")].value}{"\\n"}{end}',
    ]);
    assert.deepEqual(env.stdout.trim().split('\n'), ['1', '1', '1', '1', '1']);
    const history = await kubectl(['rollout', 'history', ...NS, 'deployment/addr-server']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n3\s+<none>/);
  });

  it('kubectl rollout undo --to-revision=1 brings the first template back as revision 4', async () => {
    const undo = await kubectl(['rollout', 'undo', ...NS, 'deployment/addr-server', '--to-revision=1']);
    assert.equal(undo.code, 0, undo.stderr);
    assert.equal(undo.stdout.trim(), 'deployment.apps/addr-server rolled back');
    await rolledOut();
    const env = await kubectl([
      'get',
      'deployment',
      'addr-server',
      ...NS,
      '-o',
      'jsonpath={.spec.template.spec.containers[0].env[*].name}',
    ]);
    assert.doesNotMatch(env.stdout, /ADDR_SERVER_DELAY_MS/);
    const history = await kubectl(['rollout', 'history', ...NS, 'deployment/addr-server']);
    assert.match(history.stdout, /\n2\s+<none>\n3\s+<none>\n4\s+<none>/);
    const sets = await replicaSets();
    assert.equal(sets.length, 3);
    assert.equal(sets.filter((row) => row[1] === '5').length, 1, 'one ReplicaSet holds the 5 pods');
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
