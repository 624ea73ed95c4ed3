// kubectl create -f and delete -f of a fault Deployment (k8s/faults) against the lab's API, as a user
// adds a bad pod beside the server's Deployment and takes it away. (The same requests over plain HTTP and
// through @kubernetes/client-node, in-process: test/kube-api-create.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { KubeApiServer } from '../../src/lab/api/api-server.js';
import { writeKubeconfig } from '../../src/lab/api/kubeconfig.js';
import { ObjectStore } from '../../src/lab/api/store.js';
import { NS, seed } from '../support/kube-fixtures.js';
import { root } from '../support/root.js';
import { kubectlFor, type Kubectl } from './support/kubectl.js';

describe('Deployments created and deleted through the real kubectl', () => {
  const store = new ObjectStore();
  const api = new KubeApiServer({ store, maxReplicas: 20 });
  let kubectl: Kubectl;
  before(async () => {
    seed(store);
    await api.listen(0);
    kubectl = kubectlFor(await writeKubeconfig(api.url, `${mkdtempSync(`${tmpdir()}/grpc-lb-kubeconfig-`)}/config`));
  });
  after(() => api.close());

  it('kubectl create -f and delete -f of a fault Deployment', async () => {
    const file = `${root}k8s/faults/slow.yml`;
    // The lab serves no OpenAPI document for kubectl's client-side schema check: --validate=false skips it.
    const created = await kubectl(['create', '--validate=false', '-n', NS, '-f', file]);
    assert.equal(created.stdout, 'deployment.apps/addr-server-slow created\n', created.stderr);
    const stored = store.read('deployments', NS, 'addr-server-slow');
    assert.equal((stored.spec as { strategy?: { type?: string } }).strategy?.type, 'RollingUpdate', 'defaulted');
    assert.equal(stored.metadata.labels?.['grpc-lb.io/fault-kind'], 'slow');
    const again = await kubectl(['create', '--validate=false', '-n', NS, '-f', file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /deployments\.apps "addr-server-slow" already exists/);
    const deleted = await kubectl(['delete', '-n', NS, '-f', file]);
    assert.equal(deleted.stdout, 'deployment.apps "addr-server-slow" deleted\n', deleted.stderr);
    assert.equal(store.get('deployments', NS, 'addr-server-slow'), undefined);
    assert.ok(store.get('deployments', NS, 'addr-server'), 'the other Deployment stays');
  });
});
