// ReplicaSets in the lab's API, through the real kubectl: discovery, `get rs` as the API server
// prints it, and the rollout commands that read them — `rollout history` and `rollout undo`, which lists the
// Deployment's ReplicaSets by its selector and keeps those it controls. The test plays the Deployment
// controller's part with the least it does: one ReplicaSet per revision, written through the store.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { KubeApiServer } from '../../src/lab/api/api-server.js';
import { writeKubeconfig } from '../../src/lab/api/kubeconfig.js';
import { ObjectStore } from '../../src/lab/api/store.js';
import { NS, replicaSetOf, seed } from '../support/kube-fixtures.js';
import { kubectlFor, type Kubectl } from './support/kubectl.js';
import { raw } from '../support/http.js';

const columns = (line: string) => line.trim().split(/\s{2,}/);
const table = (text: string) => text.trim().split('\n').map(columns);
const image = (store: ObjectStore) =>
  (
    store.read('deployments', NS, 'addr-server').spec as {
      template: { spec: { containers: Array<{ image: string }> } };
    }
  ).template.spec.containers[0]?.image;

describe('ReplicaSets, and the rollout commands that read them', () => {
  const store = new ObjectStore();
  const api = new KubeApiServer({ store });
  let kubectl: Kubectl;
  let port = 0;
  const run = (args: string[]) => kubectl([...args, '-n', NS]);

  before(async () => {
    seed(store);
    port = await api.listen(0);
    kubectl = kubectlFor(await writeKubeconfig(api.url, `${mkdtempSync(`${tmpdir()}/grpc-lb-kubeconfig-`)}/config`));
    // Revision 1: the Deployment as created, and its ReplicaSet.
    store.mutate('deployments', NS, 'addr-server', (d) => {
      d.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' };
    });
    replicaSetOf(store, 1, '5d8f7c9b4', 1);
    // Revision 2: a new image through kubectl; the controller's new ReplicaSet takes over from the old one.
    const setImage = await run(['set', 'image', 'deployment/addr-server', 'addr-server=addr-server:v2']);
    assert.equal(setImage.code, 0, setImage.stderr);
    store.mutate('replicasets', NS, 'addr-server-5d8f7c9b4', (rs) => {
      rs.spec = { ...rs.spec, replicas: 0 };
      rs.status = { replicas: 0 };
    });
    replicaSetOf(store, 2, '7c9b45d8f', 3, { 'kubernetes.io/change-cause': 'kubectl set image' });
    store.mutate('deployments', NS, 'addr-server', (d) => {
      d.metadata.annotations = { ...d.metadata.annotations, 'deployment.kubernetes.io/revision': '2' };
      d.spec = { ...d.spec, replicas: 3 };
      d.status = {
        observedGeneration: d.metadata.generation,
        replicas: 4,
        updatedReplicas: 2,
        readyReplicas: 3,
        availableReplicas: 3,
      };
    });
  });
  after(() => api.close());

  it('discovery lists replicasets in apps/v1, short name rs, namespaced, readable', async () => {
    const { stdout } = await kubectl(['api-resources', '--api-group=apps', '-o', 'wide']);
    const rows = table(stdout);
    assert.deepEqual(rows[0], ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', 'VERBS', 'CATEGORIES']);
    assert.deepEqual(
      rows.find((row) => row[0] === 'replicasets'),
      ['replicasets', 'rs', 'apps/v1', 'true', 'ReplicaSet', 'get,list,watch', 'all'],
    );
  });

  it('kubectl get rs prints DESIRED, CURRENT, READY and AGE; -o wide adds CONTAINERS, IMAGES and SELECTOR', async () => {
    const narrow = table((await run(['get', 'rs'])).stdout);
    assert.deepEqual(
      narrow.map((row) => row.slice(0, 4)),
      [
        ['NAME', 'DESIRED', 'CURRENT', 'READY'],
        ['addr-server-5d8f7c9b4', '0', '0', '0'],
        ['addr-server-7c9b45d8f', '3', '3', '3'],
      ],
    );
    assert.equal(narrow[0]?.[4], 'AGE');
    const wide = table((await run(['get', 'rs', '-o', 'wide', '-l', 'app=addr-server'])).stdout);
    assert.deepEqual(wide[0], ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    assert.deepEqual(wide[2]?.slice(5), [
      'addr-server',
      'addr-server:v2',
      'app=addr-server,pod-template-hash=7c9b45d8f',
    ]);
    const byHash = table((await run(['get', 'rs', '-l', 'pod-template-hash=5d8f7c9b4', '-o', 'name'])).stdout);
    assert.deepEqual(byHash, [['replicaset.apps/addr-server-5d8f7c9b4']]);
  });

  it('kubectl get deploy -o wide: READY ready/desired, UP-TO-DATE from status.updatedReplicas, AVAILABLE', async () => {
    const rows = table((await run(['get', 'deploy', '-o', 'wide'])).stdout);
    assert.deepEqual(rows[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    assert.deepEqual(
      [...(rows[1]?.slice(0, 4) ?? []), ...(rows[1]?.slice(5) ?? [])],
      ['addr-server', '3/3', '2', '3', 'addr-server', 'addr-server:v2', 'app=addr-server'],
    );
  });

  it('kubectl rollout history lists the revisions with their change cause, and shows one revision’s template', async () => {
    const history = await run(['rollout', 'history', 'deployment/addr-server']);
    assert.equal(history.code, 0, history.stderr);
    assert.equal(
      history.stdout,
      'deployment.apps/addr-server \nREVISION  CHANGE-CAUSE\n1         <none>\n2         kubectl set image\n\n',
    );
    const one = await run(['rollout', 'history', 'deployment/addr-server', '--revision=1']);
    assert.match(one.stdout, /^deployment\.apps\/addr-server with revision #1\nPod Template:\n/);
    assert.match(one.stdout, /\n {3}addr-server:\n {4}Image:\taddr-server\n/);
  });

  it('kubectl rollout undo --to-revision=1 puts revision 1’s template back (a JSON patch of whole subtrees)', async () => {
    const generation = store.read('deployments', NS, 'addr-server').metadata.generation ?? 0;
    const undo = await run(['rollout', 'undo', 'deployment/addr-server', '--to-revision=1']);
    assert.equal(undo.code, 0, undo.stderr);
    assert.equal(undo.stdout, 'deployment.apps/addr-server rolled back\n');
    const deployment = store.read('deployments', NS, 'addr-server');
    assert.equal(image(store), 'addr-server');
    const template = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template;
    assert.deepEqual(
      template.metadata.labels,
      { app: 'addr-server' },
      'the pod-template-hash label is not copied back',
    );
    // kubectl keeps the Deployment's revision annotation and takes the rest from the ReplicaSet: revision 1 had no change cause.
    assert.deepEqual(deployment.metadata.annotations, { 'deployment.kubernetes.io/revision': '2' });
    assert.equal(deployment.metadata.generation, generation + 1);
    // The template kubectl sent back is the one the store holds for revision 1: nothing to do a second time.
    const again = await run(['rollout', 'undo', 'deployment/addr-server', '--to-revision=1']);
    assert.equal(
      again.stdout,
      'deployment.apps/addr-server skipped rollback (current template already matches revision 1)\n',
    );
    const missing = await run(['rollout', 'undo', 'deployment/addr-server', '--to-revision=7']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /unable to find specified revision 7 in history/);
  });

  it('kubectl delete and patch of a ReplicaSet get a Status (the lab serves no client writes to them)', async () => {
    for (const args of [
      ['delete', 'rs', 'addr-server-5d8f7c9b4'],
      ['patch', 'rs', 'addr-server-5d8f7c9b4', '-p', '{"spec":{"replicas":3}}'],
      ['scale', 'rs', 'addr-server-5d8f7c9b4', '--replicas=2'],
    ]) {
      const result = await run(args);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, /MethodNotAllowed|the server could not find the requested resource/, args.join(' '));
    }
    const post = await raw(
      port,
      'POST',
      `/apis/apps/v1/namespaces/${NS}/replicasets`,
      { 'content-type': 'application/json' },
      '{}',
    );
    assert.deepEqual([post.status, post.json().reason], [405, 'MethodNotAllowed']);
    assert.equal(store.read('replicasets', NS, 'addr-server-5d8f7c9b4').spec?.replicas, 0);
  });
});
