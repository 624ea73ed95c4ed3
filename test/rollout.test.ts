// The Deployment's rolling update in-process: the arithmetic of maxSurge and maxUnavailable as Kubernetes
// documents it (k8s.io/kubernetes pkg/controller/deployment/rolling.go, util/deployment_util.go), and the
// Deployment and ReplicaSet controllers over a store with a stand-in kubelet that makes a pod ready when
// the test says so — so that every state of a rollout can be checked against the bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ObjectStore, type KubeObject } from '../src/lab/api/store.js';
import { DeploymentController } from '../src/lab/controllers/deployment.js';
import { REVISION, TEMPLATE_HASH } from '../src/lab/controllers/objects.js';
import { ReplicaSetController } from '../src/lab/controllers/replicaset.js';
import {
  newReplicaSetReplicas,
  proportionalSizes,
  resolveFenceposts,
  scaleDownOldReplicaSets,
} from '../src/lab/controllers/rollout.js';

describe('rolling update arithmetic', () => {
  it('rounds maxSurge up and maxUnavailable down, 25 % each by default', () => {
    assert.deepEqual(resolveFenceposts(undefined, undefined, 5), { maxSurge: 2, maxUnavailable: 1 });
    assert.deepEqual(resolveFenceposts(undefined, undefined, 10), { maxSurge: 3, maxUnavailable: 2 });
    assert.deepEqual(resolveFenceposts('50%', '0%', 3), { maxSurge: 2, maxUnavailable: 0 });
    assert.deepEqual(resolveFenceposts(1, 0, 5), { maxSurge: 1, maxUnavailable: 0 });
  });

  it('lets one pod be unavailable when both come to 0 (ResolveFenceposts)', () => {
    assert.deepEqual(resolveFenceposts(0, 0, 5), { maxSurge: 0, maxUnavailable: 1 });
    // 25 % of 3 rounds down to 0, 25 % up to 1.
    assert.deepEqual(resolveFenceposts('25%', '25%', 3), { maxSurge: 1, maxUnavailable: 0 });
  });

  it('grows the new ReplicaSet within desired + maxSurge', () => {
    assert.equal(newReplicaSetReplicas(5, 5, 0, 2), 2); // 5 old + 2 new = 7 = 5 + 2
    assert.equal(newReplicaSetReplicas(5, 7, 2, 2), 2); // at the ceiling: no more
    assert.equal(newReplicaSetReplicas(5, 6, 2, 2), 3);
    assert.equal(newReplicaSetReplicas(5, 5, 5, 2), 5);
    assert.equal(newReplicaSetReplicas(5, 6, 6, 2), 5); // above the desired count: down to it
  });

  it('scales old ReplicaSets down while desired − maxUnavailable stay available, unhealthy pods first', () => {
    // 5 old (all available), 2 new (none available yet): 5 − 1 = 4 must stay available.
    assert.deepEqual(
      scaleDownOldReplicaSets(5, 1, [{ name: 'old', replicas: 5, available: 5 }], { replicas: 2, available: 0 }),
      new Map([['old', 4]]),
    );
    // The 2 new ones became available: 7 available, 4 needed, 3 old ones may go.
    assert.deepEqual(
      scaleDownOldReplicaSets(5, 1, [{ name: 'old', replicas: 4, available: 4 }], { replicas: 3, available: 2 }),
      new Map([['old', 2]]),
    );
    // An old pod that is not available goes first: it costs no availability (4 stay available).
    assert.deepEqual(
      scaleDownOldReplicaSets(5, 1, [{ name: 'old', replicas: 5, available: 4 }], { replicas: 1, available: 0 }),
      new Map([['old', 4]]),
    );
    // With maxUnavailable 0 and a new pod not ready yet, not even that one: 6 − 5 − 1 = 0 may go.
    assert.deepEqual(
      scaleDownOldReplicaSets(5, 0, [{ name: 'old', replicas: 5, available: 4 }], { replicas: 1, available: 0 }),
      new Map(),
    );
    // Nothing may go while too few are available.
    assert.deepEqual(
      scaleDownOldReplicaSets(5, 0, [{ name: 'old', replicas: 5, available: 5 }], { replicas: 1, available: 0 }),
      new Map(),
    );
  });

  it('shares a change of replicas out in proportion during a rollout', () => {
    const sizes = proportionalSizes(
      [
        { name: 'old', replicas: 4 },
        { name: 'new', replicas: 2 },
      ],
      10,
      3,
    );
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, 13);
    assert.ok((sizes.get('old') ?? 0) > (sizes.get('new') ?? 0));
  });
});

/** A store with the two controllers, and a kubelet stand-in: pods get an IP at once, Ready when told. */
function cluster() {
  const store = new ObjectStore();
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
  const deployments = new DeploymentController(store);
  const replicaSets = new ReplicaSetController(store, { nodeName: 'node' });
  deployments.start();
  replicaSets.start();
  let ip = 0;
  // The kubelet's part: a deleted pod is gone once "stopped" (at once here).
  store.watch('pods', {}, ({ type, object }) => {
    if (type === 'MODIFIED' && object.metadata.deletionTimestamp) {
      queueMicrotask(() => {
        if (store.get('pods', 'ns', object.metadata.name))
          store.delete('pods', 'ns', object.metadata.name, { gracePeriodSeconds: 0 });
      });
    }
  });
  const pods = () => store.list('pods', { namespace: 'ns' }).items;
  const ready = (pod: KubeObject) =>
    (pod.status?.conditions as Array<{ type: string; status: string }> | undefined)?.some(
      (c) => c.type === 'Ready' && c.status === 'True',
    ) ?? false;
  const makeReady = (count = Infinity) => {
    let n = 0;
    for (const pod of pods()) {
      if (n >= count) break;
      if (ready(pod) || pod.metadata.deletionTimestamp) continue;
      store.mutate('pods', 'ns', pod.metadata.name, (object) => {
        object.status = {
          phase: 'Running',
          podIP: `10.0.0.${++ip}`,
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
        };
      });
      n += 1;
    }
  };
  const settle = async () => {
    for (let i = 0; i < 20; i++) await tick();
  };
  const stop = () => {
    deployments.stop();
    replicaSets.stop();
  };
  return { store, pods, ready, makeReady, settle, stop };
}

const deployment = (replicas: number, env = 'a', strategy?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    ...(strategy && { strategy }),
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'addr-server', env: [{ name: 'X', value: env }] }] },
    },
  },
});

const templateOf = (pod: KubeObject) => pod.metadata.labels?.[TEMPLATE_HASH];

describe('the Deployment and ReplicaSet controllers', () => {
  it('make a ReplicaSet named after the template hash, and pods carrying its labels and annotations', async () => {
    const lab = cluster();
    try {
      const object = deployment(3);
      (object.spec as { template: { metadata: Record<string, unknown> } }).template.metadata.annotations = {
        'prometheus.io/scrape': 'true',
      };
      lab.store.create('deployments', object);
      await lab.settle();
      const sets = lab.store.list('replicasets', { namespace: 'ns' }).items;
      assert.equal(sets.length, 1);
      const rs = sets[0] as KubeObject;
      assert.match(rs.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
      assert.equal(rs.metadata.annotations?.[REVISION], '1');
      assert.equal(lab.pods().length, 3);
      for (const pod of lab.pods()) {
        assert.equal(pod.metadata.labels?.app, 'web');
        assert.equal(templateOf(pod), rs.metadata.labels?.[TEMPLATE_HASH]);
        assert.equal(pod.metadata.annotations?.['prometheus.io/scrape'], 'true');
        assert.ok(pod.metadata.name.startsWith(`${rs.metadata.name}-`));
      }
    } finally {
      lab.stop();
    }
  });

  it('roll out a new template within maxSurge and maxUnavailable at every step, gated on readiness', async () => {
    const lab = cluster();
    try {
      lab.store.create('deployments', deployment(5));
      await lab.settle();
      lab.makeReady();
      await lab.settle();
      const first = templateOf(lab.pods()[0] as KubeObject);
      lab.store.mutate('deployments', 'ns', 'web', (object) => {
        (
          (object.spec as { template: { spec: { containers: Array<{ env: unknown[] }> } } }).template.spec
            .containers[0] as { env: unknown[] }
        ).env = [{ name: 'X', value: 'b' }];
      });
      // Default 25 %/25 % of 5: maxSurge 2, maxUnavailable 1.
      let steps = 0;
      for (; steps < 20; steps++) {
        await lab.settle();
        const live = lab.pods().filter((pod) => !pod.metadata.deletionTimestamp);
        const available = live.filter(lab.ready).length;
        assert.ok(live.length <= 5 + 2, `at most 7 pods at once, saw ${live.length}`);
        assert.ok(available >= 5 - 1, `at least 4 available at once, saw ${available}`);
        if (live.length === 5 && live.every((pod) => templateOf(pod) !== first) && available === 5) break;
        lab.makeReady(1); // one new pod turns ready at a time
      }
      assert.ok(steps < 20, 'the rollout completes');
      const sets = lab.store.list('replicasets', { namespace: 'ns' }).items;
      assert.equal(sets.length, 2, 'the old ReplicaSet stays, scaled to 0, for rollout undo');
      const old = sets.find((rs) => rs.metadata.labels?.[TEMPLATE_HASH] === first) as KubeObject;
      assert.equal((old.spec as { replicas: number }).replicas, 0);
      const fresh = sets.find((rs) => rs !== old) as KubeObject;
      assert.equal(fresh.metadata.annotations?.[REVISION], '2');
      const status = lab.store.get('deployments', 'ns', 'web')?.status as Record<string, unknown>;
      assert.equal(status.updatedReplicas, 5);
      assert.equal(status.availableReplicas, 5);
      assert.equal(status.replicas, 5);
      assert.equal(lab.store.get('deployments', 'ns', 'web')?.metadata.annotations?.[REVISION], '2');
    } finally {
      lab.stop();
    }
  });

  it('do not take an old pod down while no new one is ready (maxUnavailable 0)', async () => {
    const lab = cluster();
    try {
      lab.store.create(
        'deployments',
        deployment(3, 'a', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }),
      );
      await lab.settle();
      lab.makeReady();
      await lab.settle();
      lab.store.mutate('deployments', 'ns', 'web', (object) => {
        (
          (object.spec as { template: { spec: { containers: Array<{ env: unknown[] }> } } }).template.spec
            .containers[0] as { env: unknown[] }
        ).env = [{ name: 'X', value: 'b' }];
      });
      for (let i = 0; i < 5; i++) await lab.settle();
      const live = lab.pods().filter((pod) => !pod.metadata.deletionTimestamp);
      assert.equal(live.length, 4, 'one surge pod, no old one gone');
      assert.equal(live.filter(lab.ready).length, 3);
    } finally {
      lab.stop();
    }
  });

  it('Recreate: every old pod goes before a new one starts', async () => {
    const lab = cluster();
    try {
      lab.store.create('deployments', deployment(3, 'a', { type: 'Recreate' }));
      await lab.settle();
      lab.makeReady();
      await lab.settle();
      const first = templateOf(lab.pods()[0] as KubeObject);
      lab.store.mutate('deployments', 'ns', 'web', (object) => {
        (
          (object.spec as { template: { spec: { containers: Array<{ env: unknown[] }> } } }).template.spec
            .containers[0] as { env: unknown[] }
        ).env = [{ name: 'X', value: 'b' }];
      });
      await lab.settle();
      await lab.settle();
      const live = lab.pods();
      assert.equal(live.length, 3);
      assert.ok(
        live.every((pod) => templateOf(pod) !== first),
        'only new pods, once the old ones were gone',
      );
    } finally {
      lab.stop();
    }
  });

  it('a scale during nothing else resizes the one ReplicaSet; a deleted Deployment takes its pods along', async () => {
    const lab = cluster();
    try {
      lab.store.create('deployments', deployment(2));
      await lab.settle();
      lab.makeReady();
      lab.store.mutate('deployments', 'ns', 'web', (object) => ((object.spec as { replicas: number }).replicas = 4));
      await lab.settle();
      assert.equal(lab.store.list('replicasets', { namespace: 'ns' }).items.length, 1);
      assert.equal(lab.pods().length, 4);
      lab.store.delete('deployments', 'ns', 'web');
      await lab.settle();
      await lab.settle();
      assert.equal(lab.store.list('replicasets', { namespace: 'ns' }).items.length, 0);
      assert.equal(lab.pods().length, 0);
    } finally {
      lab.stop();
    }
  });
});
