// ReplicaSets in the lab's object store, in-process: the generation follows the spec, and a ReplicaSet
// gets the API server's defaults. (Through the real kubectl: test/e2e/kubectl-replicasets.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectStore } from '../src/lab/api/store.js';
import { NS, replicaSetOf, seed } from './support/kube-fixtures.js';

describe('ReplicaSets in the store', () => {
  const store = new ObjectStore();
  seed(store);
  replicaSetOf(store, 2, '7c9b45d8f', 3);

  it('the store keeps a ReplicaSet’s generation for its spec and gives it its defaults', () => {
    const before = store.read('replicasets', NS, 'addr-server-7c9b45d8f');
    store.mutate(
      'replicasets',
      NS,
      'addr-server-7c9b45d8f',
      (rs) => (rs.status = { ...rs.status, observedGeneration: 1 }),
    );
    assert.equal(
      store.read('replicasets', NS, 'addr-server-7c9b45d8f').metadata.generation,
      before.metadata.generation,
    );
    store.mutate('replicasets', NS, 'addr-server-7c9b45d8f', (rs) => (rs.spec = { ...rs.spec, replicas: 2 }));
    assert.equal(
      store.read('replicasets', NS, 'addr-server-7c9b45d8f').metadata.generation,
      (before.metadata.generation ?? 0) + 1,
    );
    const bare = store.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'bare', namespace: NS },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } },
      },
    });
    assert.equal(bare.spec?.replicas, 1);
    assert.equal(bare.metadata.generation, 1);
  });
});
