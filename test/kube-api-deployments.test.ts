// Deployments that can change, in-process: every spec change the API server accepts is accepted — through
// PUT and the three patch types — defaulted and validated as the API server does it, with the generation
// bumped for a changed spec or annotations, the status left to the controller. (The kubectl commands that
// start a rollout: test/e2e/kubectl-deployments.test.ts.)
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { KubeApiServer } from '../src/lab/api/api-server.js';
import { ObjectStore, type KubeObject } from '../src/lab/api/store.js';
import { NS, seed } from './support/kube-fixtures.js';
import { raw } from './support/http.js';

const path = `/apis/apps/v1/namespaces/${NS}/deployments/addr-server`;
type Template = {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Array<Record<string, unknown>> };
};
const templateOf = (deployment: KubeObject) => (deployment.spec as { template: Template }).template;

describe('Deployment writes, in-process', () => {
  let store: ObjectStore;
  let api: KubeApiServer;
  let port = 0;
  const read = () => store.read('deployments', NS, 'addr-server');
  const send = (method: string, type: string, body: unknown, at = path) =>
    raw(port, method, at, { 'content-type': type }, typeof body === 'string' ? body : JSON.stringify(body));
  const merge = (body: unknown) => send('PATCH', 'application/merge-patch+json', body);

  beforeEach(async () => {
    await api?.close();
    store = new ObjectStore();
    seed(store);
    store.mutate('deployments', NS, 'addr-server', (d) => (d.status = { observedGeneration: 1, replicas: 1 }));
    api = new KubeApiServer({ store, maxReplicas: 20 });
    port = await api.listen(0);
  });
  after(() => api.close());

  it('the store gives a Deployment the defaults the API server gives it (SetDefaults_Deployment)', () => {
    const { spec } = read() as { spec: Record<string, unknown> };
    assert.deepEqual(
      [spec.replicas, spec.strategy, spec.revisionHistoryLimit, spec.progressDeadlineSeconds],
      [1, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }, 10, 600],
    );
    const pod = templateOf(read()).spec as Record<string, unknown>;
    assert.deepEqual(
      [pod.restartPolicy, pod.terminationGracePeriodSeconds, pod.dnsPolicy, pod.schedulerName, pod.securityContext],
      ['Always', 30, 'ClusterFirst', 'default-scheduler', {}],
    );
    const [container] = templateOf(read()).spec.containers;
    assert.deepEqual(
      [
        container?.imagePullPolicy,
        container?.resources,
        (container?.ports as Array<{ protocol: string }>)[0]?.protocol,
      ],
      ['Always', {}, 'TCP'],
    );
  });

  it('a changed template, strategy or replica count is accepted; the generation counts spec and annotation changes', async () => {
    const generation = () => read().metadata.generation;
    const start = generation() ?? 0;
    const image = await send('PATCH', 'application/strategic-merge-patch+json', {
      spec: { template: { spec: { containers: [{ name: 'addr-server', image: 'addr-server:v2' }] } } },
    });
    assert.equal(image.status, 200, image.text);
    assert.equal(templateOf(read()).spec.containers[0]?.image, 'addr-server:v2');
    assert.equal(generation(), start + 1);
    const strategy = await merge({
      spec: { strategy: { rollingUpdate: { maxSurge: 2, maxUnavailable: '0%' } }, minReadySeconds: 5 },
    });
    assert.equal(strategy.status, 200, strategy.text);
    assert.equal(generation(), start + 2);
    assert.equal((await merge({ metadata: { annotations: { 'kubernetes.io/change-cause': 'v2' } } })).status, 200);
    assert.equal(generation(), start + 3, 'annotations are copied to the ReplicaSet: they bump the generation');
    assert.equal((await merge({ metadata: { labels: { app: 'addr-server', tier: 'x' } } })).status, 200);
    assert.equal(generation(), start + 3, 'labels do not');
    const version = read().metadata.resourceVersion;
    assert.equal((await merge({ spec: { replicas: 1 } })).status, 200);
    assert.equal(read().metadata.resourceVersion, version, 'a patch that changes nothing writes nothing');
    const json = await send('PATCH', 'application/json-patch+json', [
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/spec/template/spec/containers/0/env', value: [{ name: 'A', value: '1' }] },
    ]);
    assert.equal(json.status, 200, json.text);
    assert.deepEqual(templateOf(read()).spec.containers[0]?.env, [{ name: 'A', value: '1' }]);
    assert.equal(read().spec?.replicas, 3);
    assert.deepEqual(read().status, { observedGeneration: 1, replicas: 1 }, "the status is the controller's");
  });

  it('PUT replaces the spec, keeps the status and the system metadata, and needs the name', async () => {
    const object = structuredClone(read()) as KubeObject & { spec: Record<string, unknown> };
    object.spec.paused = true;
    object.spec.strategy = { type: 'Recreate' };
    object.status = { replicas: 99 };
    object.metadata.uid = undefined;
    const put = await send('PUT', 'application/json', object);
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(
      [read().spec?.paused, read().spec?.strategy, read().status?.replicas],
      [true, { type: 'Recreate' }, 1],
    );
    const stale = await send('PUT', 'application/json', {
      ...object,
      metadata: { ...object.metadata, resourceVersion: '1' },
    });
    assert.deepEqual([stale.status, stale.json().reason], [409, 'Conflict']);
    const nameless = await send('PUT', 'application/json', {
      ...object,
      metadata: { ...object.metadata, name: undefined },
    });
    assert.equal(nameless.status, 400);
    assert.match(
      String(nameless.json().message),
      /the name of the object \(\) does not match the name on the URL \(addr-server\)/,
    );
    const otherKind = await send('PUT', 'application/json', {
      ...object,
      kind: 'StatefulSet',
      metadata: { name: 'addr-server' },
    });
    assert.equal(otherKind.status, 400);
    const uid = await send('PUT', 'application/json', { ...object, metadata: { name: 'addr-server', uid: 'forged' } });
    assert.equal(uid.status, 422);
    assert.match(String(uid.json().message), /metadata\.uid: Invalid value: "forged": field is immutable/);
  });

  it('what the API server refuses is refused, with its words, and nothing is written', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ spec: { replicas: -1 } }, /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/],
      [{ spec: { replicas: 21 } }, /spec\.replicas: Invalid value: 21: must be less than or equal to 20/],
      [{ spec: { replicas: 1.5 } }, /spec\.replicas: Invalid value: 1\.5: must be an integer/],
      [
        { spec: { selector: { matchLabels: { app: 'x' } } } },
        /spec\.selector: Invalid value: \{"matchLabels":\{"app":"x"\}\}: field is immutable/,
      ],
      [
        { spec: { template: { metadata: { labels: { app: 'other' } } } } },
        /spec\.template\.metadata\.labels: Invalid value: \{"app":"other"\}: `selector` does not match template `labels`/,
      ],
      [
        { spec: { strategy: { type: 'BlueGreen' } } },
        /spec\.strategy: Unsupported value: .*: supported values: "Recreate", "RollingUpdate"/,
      ],
      [
        { spec: { strategy: { type: 'Recreate' } } },
        /spec\.strategy\.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'/,
      ],
      [
        { spec: { strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } } },
        /spec\.strategy\.rollingUpdate\.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0/,
      ],
      [
        { spec: { strategy: { rollingUpdate: { maxSurge: '1.5%' } } } },
        /maxSurge: Invalid value: "1\.5%": a valid percent string must be a numeric string followed by an ending '%'/,
      ],
      [
        { spec: { strategy: { rollingUpdate: { maxSurge: -1 } } } },
        /maxSurge: Invalid value: -1: must be greater than or equal to 0/,
      ],
      [
        { spec: { strategy: { rollingUpdate: { maxUnavailable: '101%' } } } },
        /maxUnavailable: Invalid value: "101%": must not be greater than 100%/,
      ],
      [
        { spec: { minReadySeconds: 700 } },
        /spec\.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds/,
      ],
      [
        { spec: { revisionHistoryLimit: -1 } },
        /spec\.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0/,
      ],
      [{ spec: { paused: 'yes' } }, /spec\.paused: Invalid value: "yes": must be a boolean/],
      [{ spec: { template: { spec: { containers: [] } } } }, /spec\.template\.spec\.containers: Required value/],
      [
        { spec: { template: { spec: { containers: [{ name: 'Bad_Name', image: 'x' }] } } } },
        /spec\.template\.spec\.containers\[0\]\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label/,
      ],
      [
        { spec: { template: { spec: { containers: [{ name: 'x' }] } } } },
        /spec\.template\.spec\.containers\[0\]\.image: Required value/,
      ],
      [
        {
          spec: { template: { spec: { containers: [{ name: 'x', image: 'x', ports: [{ containerPort: 70000 }] }] } } },
        },
        /containers\[0\]\.ports\[0\]\.containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive/,
      ],
      [
        { spec: { template: { spec: { containers: [{ name: 'x', image: 'x', env: [{ name: 'A=B' }] }] } } } },
        /env\[0\]\.name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='/,
      ],
      [
        {
          spec: {
            template: { spec: { containers: [{ name: 'x', image: 'x', readinessProbe: { periodSeconds: 2 } }] } },
          },
        },
        /readinessProbe: Required value: must specify a handler type/,
      ],
      [
        { spec: { template: { spec: { restartPolicy: 'Never' } } } },
        /spec\.template\.spec\.restartPolicy: Unsupported value: "Never": supported values: "Always"/,
      ],
      [
        { spec: { template: { spec: { activeDeadlineSeconds: 5 } } } },
        /activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported/,
      ],
      [
        { metadata: { name: 'other' } },
        /the name of the object \(other\) does not match the name on the URL \(addr-server\)/,
      ],
    ];
    const version = read().metadata.resourceVersion;
    for (const [patch, message] of cases) {
      const response = await merge(patch);
      assert.ok([400, 422].includes(response.status), `${JSON.stringify(patch)}: ${response.status} ${response.text}`);
      assert.match(String(response.json().message), message, JSON.stringify(patch));
    }
    assert.equal(read().metadata.resourceVersion, version);
  });

  it('two findings are reported together, as errors.NewInvalid joins them', async () => {
    const response = await merge({ spec: { replicas: -1, revisionHistoryLimit: -2 } });
    assert.equal(response.status, 422);
    assert.equal(
      response.json().message,
      'Deployment.apps "addr-server" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0]',
    );
    assert.deepEqual(
      (response.json().details as { causes: Array<{ field: string }> }).causes.map((cause) => cause.field),
      ['spec.replicas', 'spec.revisionHistoryLimit'],
    );
  });

  it('the scale subresource changes spec.replicas only, through PUT and each patch type', async () => {
    const scalePath = `${path}/scale`;
    for (const [method, type, body, replicas] of [
      ['PATCH', 'application/merge-patch+json', { spec: { replicas: 4 } }, 4],
      ['PATCH', 'application/strategic-merge-patch+json', { spec: { replicas: 5 } }, 5],
      ['PATCH', 'application/json-patch+json', [{ op: 'replace', path: '/spec/replicas', value: 6 }], 6],
      ['PUT', 'application/json', { metadata: { name: 'addr-server' }, spec: { replicas: 7 } }, 7],
    ] as const) {
      const response = await send(method, type, body, scalePath);
      assert.equal(response.status, 200, response.text);
      assert.deepEqual([response.json().kind, read().spec?.replicas], ['Scale', replicas]);
    }
    const negative = await send('PATCH', 'application/merge-patch+json', { spec: { replicas: -3 } }, scalePath);
    assert.equal(
      negative.json().message,
      'Scale.autoscaling "addr-server" is invalid: spec.replicas: Invalid value: -3: must be greater than or equal to 0',
    );
  });
});
