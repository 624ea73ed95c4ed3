// Deployments created and deleted through the lab's API, in-process: what `lab compare --cluster` does
// through @kubernetes/client-node for a scenario's fault step (a Deployment beside the server's, then
// gone), and what the API server refuses. (kubectl create -f / delete -f: test/e2e/kubectl-create.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { KubeApiServer } from '../src/lab/api/api-server.js';
import { writeKubeconfig } from '../src/lab/api/kubeconfig.js';
import { ObjectStore } from '../src/lab/api/store.js';
import { faultDeployment } from '../src/lab/experiment/engine.js';
import { KubeClient } from '../src/lab/experiment/kube-client.js';
import { raw } from './support/http.js';
import { NS, seed } from './support/kube-fixtures.js';
import { root } from './support/root.js';

const JSON_BODY = { 'content-type': 'application/json' };

describe('Deployments created and deleted through the API', () => {
  const store = new ObjectStore();
  const api = new KubeApiServer({ store, maxReplicas: 20 });
  let port = 0;
  let kubeconfig = '';
  const collection = `/apis/apps/v1/namespaces/${NS}/deployments`;
  before(async () => {
    seed(store);
    port = await api.listen(0);
    kubeconfig = await writeKubeconfig(api.url, `${mkdtempSync(`${tmpdir()}/grpc-lb-kubeconfig-`)}/config`);
  });
  after(() => api.close());

  it('a POST of k8s/faults/slow.yml creates it, defaulted; the same name again is 409', async () => {
    const body = JSON.stringify(parse(readFileSync(`${root}k8s/faults/slow.yml`, 'utf8')));
    const created = await raw(port, 'POST', collection, JSON_BODY, body);
    assert.equal(created.status, 201, created.text);
    const stored = store.read('deployments', NS, 'addr-server-slow');
    assert.equal((stored.spec as { strategy?: { type?: string } }).strategy?.type, 'RollingUpdate', 'defaulted');
    assert.equal(stored.metadata.labels?.['grpc-lb.io/fault-kind'], 'slow');
    assert.equal(created.json().metadata && (created.json().metadata as { uid?: string }).uid, stored.metadata.uid);
    const again = await raw(port, 'POST', collection, JSON_BODY, body);
    assert.equal(again.status, 409, again.text);
    assert.match(again.text, /deployments\.apps \\"addr-server-slow\\" already exists/);
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
    const response = await raw(port, 'POST', collection, JSON_BODY, JSON.stringify(body));
    assert.equal(response.status, 422, response.text);
    assert.match(response.text, /spec\.template\.metadata\.labels/);
    assert.equal(store.get('deployments', NS, 'odd'), undefined);
    const nameless = await raw(port, 'POST', collection, JSON_BODY, '{"kind":"Deployment"}');
    assert.equal(nameless.status, 422, nameless.text);
    const other = await raw(port, 'POST', collection, JSON_BODY, '{"apiVersion":"v1","kind":"Pod"}');
    assert.equal(other.status, 400, other.text);
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
    assert.ok(store.get('deployments', NS, 'addr-server'), 'the server Deployment stays');
  });

  it('a DELETE answers a Status naming what went; Orphan, dryRun and a stale precondition are refused', async () => {
    const name = 'addr-server-failing';
    const body = JSON.stringify(parse(readFileSync(`${root}k8s/faults/failing.yml`, 'utf8')));
    assert.equal((await raw(port, 'POST', collection, JSON_BODY, body)).status, 201);
    const path = `${collection}/${name}`;
    const orphan = await raw(port, 'DELETE', path, JSON_BODY, '{"propagationPolicy":"Orphan"}');
    assert.equal(orphan.status, 400, orphan.text);
    assert.match(orphan.text, /Orphan is not supported/);
    const dryRun = await raw(port, 'DELETE', `${path}?dryRun=All`, JSON_BODY);
    assert.equal(dryRun.status, 400, dryRun.text);
    const stale = await raw(port, 'DELETE', path, JSON_BODY, '{"preconditions":{"uid":"not-its-uid"}}');
    assert.equal(stale.status, 409, stale.text);
    assert.ok(store.get('deployments', NS, name), 'a refused DELETE deletes nothing');
    const uid = store.read('deployments', NS, name).metadata.uid;
    const deleted = await raw(port, 'DELETE', path, JSON_BODY, '{"propagationPolicy":"Background"}');
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: 'apps', kind: 'deployments', uid },
    });
    const gone = await raw(port, 'DELETE', path, JSON_BODY);
    assert.equal(gone.status, 404, gone.text);
  });
});
