// Deployments created and deleted through the lab's API, as `kubectl create -f` and `kubectl delete -f` do
// with a fault Deployment beside the server's (k8s/faults) — what `lab compare --cluster` does for a
// scenario's fault step: the object defaulted and validated as on a cluster, a taken name refused.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { KubeApiServer } from '../src/lab/api/api-server.js';
import { writeKubeconfig } from '../src/lab/api/kubeconfig.js';
import { ObjectStore } from '../src/lab/api/store.js';
import { faultDeployment } from '../src/lab/experiment/engine.js';
import { KubeClient } from '../src/lab/experiment/kube-client.js';
import { NS, seed } from './support/kube-fixtures.js';
import { kubectlFor, raw, type Kubectl } from './support/kubectl.js';
import { root } from './support/processes.js';

describe('Deployments created and deleted through the API', () => {
  const store = new ObjectStore();
  const api = new KubeApiServer({ store, maxReplicas: 20 });
  let kubectl: Kubectl;
  let port = 0;
  let kubeconfig = '';
  before(async () => {
    seed(store);
    port = await api.listen(0);
    kubeconfig = await writeKubeconfig(api.url, `${mkdtempSync(`${tmpdir()}/grpc-lb-kubeconfig-`)}/config`);
    kubectl = kubectlFor(kubeconfig);
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

  it('refuses a Deployment whose selector does not match its pods, with the fields named', async () => {
    const body = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'odd' },
      spec: {
        selector: { matchLabels: { app: 'a' } },
        template: { metadata: { labels: { app: 'b' } }, spec: { containers: [{ name: 'c', image: 'addr-server' }] } },
      },
    };
    const path = `/apis/apps/v1/namespaces/${NS}/deployments`;
    const response = await raw(port, 'POST', path, { 'content-type': 'application/json' }, JSON.stringify(body));
    assert.equal(response.status, 422, response.text);
    assert.match(response.text, /spec\.template\.metadata\.labels/);
    assert.equal(store.get('deployments', NS, 'odd'), undefined);
    const nameless = await raw(port, 'POST', path, { 'content-type': 'application/json' }, '{"kind":"Deployment"}');
    assert.equal(nameless.status, 422, nameless.text);
  });
  it("a scenario's fault step through @kubernetes/client-node: the fault Deployment created, then deleted", async () => {
    const config = new k8s.KubeConfig();
    config.loadFromFile(kubeconfig);
    const client = new KubeClient(k8s, config, NS);
    const base = await client.getDeployment('addr-server');
    assert.ok(base);
    await client.createDeployment(faultDeployment(base, 'addr-server-fault', { 'delay-ms': '1000' }, 1));
    const fault = store.read('deployments', NS, 'addr-server-fault');
    const spec = fault.spec as { replicas?: number; template: { spec: { containers: Array<{ env?: unknown[] }> } } };
    assert.equal(spec.replicas, 1);
    assert.deepEqual(spec.template.spec.containers[0]?.env?.at(-1), { name: 'ADDR_SERVER_DELAY_MS', value: '1000' });
    await client.deleteDeployment('addr-server-fault');
    assert.equal(store.get('deployments', NS, 'addr-server-fault'), undefined);
    await client.deleteDeployment('addr-server-fault'); // already gone: nothing to do
  });

  it('a DELETE answers a Status naming what went; Orphan, dryRun and a stale precondition are refused', async () => {
    const file = `${root}k8s/faults/failing.yml`;
    assert.equal((await kubectl(['create', '--validate=false', '-n', NS, '-f', file])).code, 0);
    const name = 'addr-server-failing';
    const path = `/apis/apps/v1/namespaces/${NS}/deployments/${name}`;
    const json = { 'content-type': 'application/json' };
    const orphan = await raw(port, 'DELETE', path, json, '{"propagationPolicy":"Orphan"}');
    assert.equal(orphan.status, 400, orphan.text);
    assert.match(orphan.text, /Orphan is not supported/);
    const dryRun = await raw(port, 'DELETE', `${path}?dryRun=All`, json);
    assert.equal(dryRun.status, 400, dryRun.text);
    const stale = await raw(port, 'DELETE', path, json, '{"preconditions":{"uid":"not-its-uid"}}');
    assert.equal(stale.status, 409, stale.text);
    assert.ok(store.get('deployments', NS, name), 'a refused DELETE deletes nothing');
    const uid = store.read('deployments', NS, name).metadata.uid;
    const deleted = await raw(port, 'DELETE', path, json, '{"propagationPolicy":"Background"}');
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: 'apps', kind: 'deployments', uid },
    });
    const gone = await raw(port, 'DELETE', path, json);
    assert.equal(gone.status, 404, gone.text);
  });
});
