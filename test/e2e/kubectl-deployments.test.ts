// Deployments that can change, through the real kubectl: the commands that start a rollout (`set env`,
// `set image`, `rollout restart`, `patch`) change what they should, with the API server's messages for what
// it refuses. (The same writes over plain HTTP, in-process: test/kube-api-deployments.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { KubeApiServer } from '../../src/lab/api/api-server.js';
import { writeKubeconfig } from '../../src/lab/api/kubeconfig.js';
import { ObjectStore, type KubeObject } from '../../src/lab/api/store.js';
import { NS, seed } from '../support/kube-fixtures.js';
import { kubectlFor, type Kubectl } from './support/kubectl.js';

type Template = {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Array<Record<string, unknown>> };
};
const templateOf = (deployment: KubeObject) => (deployment.spec as { template: Template }).template;

describe('Deployment changes through the real kubectl', () => {
  const store = new ObjectStore();
  const api = new KubeApiServer({ store });
  let kubectl: Kubectl;
  const read = () => store.read('deployments', NS, 'addr-server');
  const containers = () => templateOf(read()).spec.containers;
  const run = async (args: string[]) => {
    const result = await kubectl([...args, '-n', NS]);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  before(async () => {
    seed(store);
    store.mutate('deployments', NS, 'addr-server', (d) => {
      const spec = templateOf(d).spec;
      (spec.containers[0] as Record<string, unknown>).env = [
        { name: 'A', value: '1' },
        { name: 'COLOR', value: 'blue' },
      ];
      spec.containers.push({ name: 'sidecar', image: 'sidecar:1' });
    });
    await api.listen(0);
    kubectl = kubectlFor(await writeKubeconfig(api.url, `${mkdtempSync(`${tmpdir()}/grpc-lb-kubeconfig-`)}/config`));
  });
  after(() => api.close());

  it('kubectl set env changes, adds and removes variables in every container, in order', async () => {
    const generation = read().metadata.generation ?? 0;
    assert.equal(
      await run(['set', 'env', 'deployment/addr-server', 'COLOR=green', 'FOO=bar']),
      'deployment.apps/addr-server env updated\n',
    );
    assert.deepEqual(containers()[0]?.env, [
      { name: 'A', value: '1' },
      { name: 'COLOR', value: 'green' },
      { name: 'FOO', value: 'bar' },
    ]);
    assert.deepEqual(containers()[1]?.env, [
      { name: 'COLOR', value: 'green' },
      { name: 'FOO', value: 'bar' },
    ]);
    await run(['set', 'env', 'deployment/addr-server', 'COLOR-']);
    assert.deepEqual(containers()[0]?.env, [
      { name: 'A', value: '1' },
      { name: 'FOO', value: 'bar' },
    ]);
    await run(['set', 'env', 'deployment/addr-server', '-c', 'sidecar', 'X=1']);
    assert.deepEqual(containers()[1]?.env, [
      { name: 'FOO', value: 'bar' },
      { name: 'X', value: '1' },
    ]);
    assert.equal(read().metadata.generation, generation + 3);
    const listed = await run(['set', 'env', 'deployment/addr-server', '--list']);
    assert.equal(
      listed,
      '# Deployment addr-server, container addr-server\nA=1\nFOO=bar\n# Deployment addr-server, container sidecar\nFOO=bar\nX=1\n',
    );
  });

  it('kubectl rollout restart stamps the pod template, and kubectl set image changes one container', async () => {
    assert.equal(
      await run(['rollout', 'restart', 'deployment/addr-server']),
      'deployment.apps/addr-server restarted\n',
    );
    const restartedAt = templateOf(read()).metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] ?? '';
    assert.ok(Math.abs(Date.parse(restartedAt) - Date.now()) < 60_000, restartedAt);
    await run(['set', 'image', 'deployment/addr-server', 'addr-server=addr-server:v2']);
    assert.deepEqual(
      containers().map((c) => c.image),
      ['addr-server:v2', 'sidecar:1'],
    );
  });

  it('kubectl patch: strategic by default, merge and json on request; invalid changes get the API server’s message', async () => {
    await run([
      'patch',
      'deployment/addr-server',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"sidecar:2"}]}}}}',
    ]);
    assert.equal(containers()[1]?.image, 'sidecar:2');
    await run(['patch', 'deployment/addr-server', '--type=merge', '-p', '{"spec":{"minReadySeconds":3}}']);
    await run([
      'patch',
      'deployment/addr-server',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":4}]',
    ]);
    assert.deepEqual([read().spec?.minReadySeconds, read().spec?.revisionHistoryLimit], [3, 4]);
    const recreate = await kubectl([
      'patch',
      'deployment/addr-server',
      '-n',
      NS,
      '-p',
      '{"spec":{"strategy":{"type":"Recreate"}}}',
    ]);
    assert.equal(recreate.code, 1);
    assert.equal(
      recreate.stderr,
      'The Deployment "addr-server" is invalid: spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is \'Recreate\'\n',
    );
    await run([
      'patch',
      'deployment/addr-server',
      '-p',
      '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}',
    ]);
    assert.deepEqual(read().spec?.strategy, { type: 'Recreate' });
    const label = await kubectl(['label', 'deployment/addr-server', '-n', NS, 'bad key=x']);
    assert.equal(label.code, 1);
    assert.match(
      label.stderr,
      /metadata\.labels: Invalid value: "bad key": name part must consist of alphanumeric characters/,
    );
  });
});
