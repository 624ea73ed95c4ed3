// The lab's Kubernetes API over plain HTTP, in-process: a Status for every error, no way in for a foreign
// web page, 1000 random requests answered; @kubernetes/client-node's informer across cut watches and a
// 410; the object store's watches. (Through the real kubectl: test/e2e/kubectl.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { KubeApiServer } from '../src/lab/api/api-server.js';
import { writeKubeconfig } from '../src/lab/api/kubeconfig.js';
import { ObjectStore } from '../src/lab/api/store.js';
import { NS, seed, TinyCluster } from './support/kube-fixtures.js';
import { raw } from './support/http.js';
import { waitUntil } from './support/wait.js';

describe('the Kubernetes API over HTTP', () => {
  const store = new ObjectStore();
  const cluster = new TinyCluster(store);
  const dashboard = 'http://127.0.0.1:1';
  const api = new KubeApiServer({ store, maxReplicas: 20, allowedOrigins: [dashboard] });
  let port = 0;
  const podNames = () => store.list('pods', { namespace: NS }).items.map((pod) => pod.metadata.name);
  const replicas = () => Number(store.read('deployments', NS, 'addr-server').spec?.replicas);

  before(async () => {
    seed(store);
    cluster.start();
    port = await api.listen(0);
    await waitUntil(
      'the first pod is ready',
      () => store.read('deployments', NS, 'addr-server').status?.readyReplicas === 1,
    );
  });
  after(async () => {
    cluster.stop();
    await api.close();
  });

  it('unknown resources, bad bodies, unsupported verbs and media types get a Status, and change nothing', async () => {
    const scalePath = `/apis/apps/v1/namespaces/${NS}/deployments/addr-server/scale`;
    const cases: Array<[string, string, Record<string, string>, string | undefined, number, string]> = [
      ['GET', '/api/v1/namespaces/grpc-lb/foos', {}, undefined, 404, 'NotFound'],
      ['GET', '/apis/batch/v1', {}, undefined, 404, 'NotFound'],
      ['PATCH', scalePath, { 'content-type': 'application/merge-patch+json' }, '{"spec":', 400, 'BadRequest'],
      ['PATCH', scalePath, { 'content-type': 'text/plain' }, '{"spec":{"replicas":3}}', 415, 'UnsupportedMediaType'],
      [
        'PATCH',
        scalePath,
        { 'content-type': 'application/strategic-merge-patch+json' },
        '{"spec":{"$patch":"replace"}}',
        422,
        'Invalid',
      ],
      [
        'PATCH',
        scalePath,
        { 'content-type': 'application/json-patch+json' },
        '[{"op":"replace","path":"/nope/x","value":1}]',
        422,
        'Invalid',
      ],
      [
        'PUT',
        scalePath,
        { 'content-type': 'application/json' },
        '{"metadata":{"name":"addr-server","resourceVersion":"1"},"spec":{"replicas":3}}',
        409,
        'Conflict',
      ],
      ['POST', `/api/v1/namespaces/${NS}/pods`, { 'content-type': 'application/json' }, '{}', 405, 'MethodNotAllowed'],
      [
        'PATCH',
        scalePath,
        { 'content-type': 'application/merge-patch+json' },
        'x'.repeat(2 << 20),
        413,
        'RequestEntityTooLarge',
      ],
      [
        'GET',
        `/api/v1/namespaces/${NS}/pods`,
        { accept: 'application/vnd.kubernetes.protobuf' },
        undefined,
        406,
        'NotAcceptable',
      ],
      [
        'GET',
        `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent('app in (')}`,
        {},
        undefined,
        400,
        'BadRequest',
      ],
      [
        'GET',
        `/api/v1/namespaces/${NS}/services?fieldSelector=status.phase%3DRunning`,
        {},
        undefined,
        400,
        'BadRequest',
      ],
    ];
    for (const [method, path, headers, body, code, reason] of cases) {
      const response = await raw(port, method, path, headers, body);
      assert.equal(response.status, code, `${method} ${path}: ${response.text}`);
      assert.deepEqual(
        { ...response.json(), message: undefined },
        {
          apiVersion: 'v1',
          kind: 'Status',
          metadata: {},
          status: 'Failure',
          message: undefined,
          reason,
          code,
          ...(response.json().details ? { details: response.json().details } : {}),
        },
      );
    }
    assert.equal(replicas(), 1);
  });

  it('a foreign Origin cannot change state and a foreign Host is refused; the trusted dashboard origin may scale, with CORS', async () => {
    const scalePath = `/apis/apps/v1/namespaces/${NS}/deployments/addr-server/scale`;
    const patch = '{"spec":{"replicas":3}}';
    const type = { 'content-type': 'application/merge-patch+json' };
    const fromPage = await raw(port, 'PATCH', scalePath, { ...type, origin: 'http://evil.example' }, patch);
    assert.equal(fromPage.status, 403);
    assert.equal(fromPage.json().reason, 'Forbidden');
    const deleteFromPage = await raw(port, 'DELETE', `/api/v1/namespaces/${NS}/pods/${podNames()[0]}`, {
      origin: 'null',
    });
    assert.equal(deleteFromPage.status, 403);
    const rebound = await raw(port, 'GET', `/api/v1/namespaces/${NS}/pods`, { host: `evil.example:${port}` });
    assert.equal(rebound.status, 403);
    const reboundPatch = await raw(port, 'PATCH', scalePath, { ...type, host: `evil.example:${port}` }, patch);
    assert.equal(reboundPatch.status, 403);
    assert.equal(replicas(), 1, 'no foreign request changed the replicas');
    assert.equal(podNames().length, 1, 'no foreign request deleted the pod');
    const readFromPage = await raw(port, 'GET', '/version', { origin: 'http://evil.example' });
    assert.equal(readFromPage.status, 200, 'reading is not changing state');
    assert.equal(readFromPage.contentType, 'application/json');
    const preflight = await raw(port, 'OPTIONS', scalePath, {
      origin: dashboard,
      'access-control-request-method': 'PATCH',
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], dashboard);
    assert.match(String(preflight.headers['access-control-allow-methods']), /PATCH/);
    const foreignPreflight = await raw(port, 'OPTIONS', scalePath, {
      origin: 'http://evil.example',
      'access-control-request-method': 'PATCH',
    });
    assert.equal(foreignPreflight.status, 403);
    assert.equal(foreignPreflight.headers['access-control-allow-origin'], undefined);
    assert.equal(
      readFromPage.headers['access-control-allow-origin'],
      undefined,
      'a foreign page may not read the answers',
    );
    const fromDashboard = await raw(port, 'PATCH', scalePath, { ...type, origin: dashboard }, patch);
    assert.equal(fromDashboard.status, 200);
    assert.equal(fromDashboard.headers['access-control-allow-origin'], dashboard);
    const fromItself = await raw(
      port,
      'PATCH',
      scalePath,
      { ...type, origin: `http://localhost:${port}` },
      '{"spec":{"replicas":2}}',
    );
    assert.equal(fromItself.status, 200);
    assert.equal(replicas(), 2);
  });

  it('1000 random requests get answers (a Status for every error) and leave the API serving', async () => {
    let seed32 = 20260;
    const random = () => (seed32 = (seed32 * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const segments = [
      'api',
      'apis',
      'v1',
      'v2',
      'apps',
      'discovery.k8s.io',
      'namespaces',
      NS,
      'default',
      'pods',
      'services',
      'deployments',
      'endpointslices',
      'scale',
      'log',
      'status',
      'addr-server',
      'watch',
      '..',
      '%zz',
      '%2F',
      'x'.repeat(300),
      '',
    ];
    const queries = [
      '',
      '?watch=1&timeoutSeconds=1',
      '?watch=true&resourceVersion=abc',
      '?labelSelector=a%20in%20(',
      '?fieldSelector=spec.x%3D1',
      '?limit=-1',
      '?includeObject=Object',
      '?follow=true&tailLines=-2',
      '?gracePeriodSeconds=x',
      '?dryRun=All',
    ];
    const contentTypes = [
      'application/json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/json-patch+json',
      'application/apply-patch+yaml',
      'text/plain',
      '',
    ];
    const accepts = [
      'application/json',
      'application/json;as=Table;v=v1;g=meta.k8s.io',
      'application/json;as=Table;v=v9;g=x',
      'application/vnd.kubernetes.protobuf',
      '*/*',
      '',
      'garbage;;;=',
    ];
    const bodies = () =>
      pick([
        undefined,
        '',
        '{}',
        '[]',
        'null',
        '{"spec":{"replicas":3}}',
        '{"spec":{"replicas":-7}}',
        '[{"op":"remove","path":"/spec"}]',
        '{"metadata":{"name":"other"}}',
        '{"propagationPolicy":"Foreground"}',
        Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256))).toString('latin1'),
      ]);
    let sent = 0;
    let statuses = 0;
    const worker = async () => {
      while (sent < 1000) {
        sent++;
        if (random() < 0.05) {
          // Bytes that are not HTTP at all: the server answers 400 or closes, and goes on.
          await new Promise<void>((resolve) => {
            const socket = connect(port, '127.0.0.1', () =>
              socket.end(
                `${pick(['GET', 'PATCH', '\x00\x01'])} /${'a'.repeat(Math.floor(random() * 100))} HTTP/9.9\r\n\r\n`,
              ),
            );
            socket
              .on('data', () => {})
              .on('close', () => resolve())
              .on('error', () => resolve());
            socket.setTimeout(3000, () => socket.destroy());
          });
          continue;
        }
        const method = pick(['GET', 'GET', 'PATCH', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'BREW']);
        const path = `/${Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(segments)).join('/')}${pick(queries)}`;
        const headers: Record<string, string> = { 'content-type': pick(contentTypes), accept: pick(accepts) };
        if (random() < 0.1) headers.origin = pick(['http://evil.example', `http://127.0.0.1:${port}`, 'null']);
        if (random() < 0.1) headers.host = pick([`localhost:${port}`, `evil.example:${port}`, '127.0.0.1', '']);
        if (random() < 0.2)
          headers[`x-${Math.floor(random() * 1e6)}`] = String.fromCharCode(
            ...Array.from({ length: 20 }, () => 32 + Math.floor(random() * 95)),
          );
        const response = await raw(
          port,
          method,
          path,
          headers,
          method === 'GET' || method === 'HEAD' ? undefined : bodies(),
          1500,
        );
        if (response.status >= 400 && method !== 'HEAD') {
          const status = response.json();
          assert.equal(status.kind, 'Status', `${method} ${path}: ${response.text}`);
          assert.equal(status.code, response.status, `${method} ${path}: ${response.text}`);
          statuses++;
        }
        assert.ok(response.status < 500, `${method} ${path}: ${response.status} ${response.text}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.ok(statuses > 500, `only ${statuses} errors among 1000 random requests`);
    const version = await raw(port, 'GET', '/version');
    assert.equal(version.json().minor, '33');
    assert.equal((await raw(port, 'GET', `/api/v1/namespaces/${NS}/pods`)).status, 200);
  });
});

describe('the Kubernetes API, through @kubernetes/client-node', () => {
  it("an informer on the Service's EndpointSlices (by label) follows the slice as the Deployment scales, across cut watches and a 410", async () => {
    const store = new ObjectStore();
    seed(store);
    const cluster = new TinyCluster(store);
    cluster.start();
    const api = new KubeApiServer({ store });
    await api.listen(0);
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(await writeKubeconfig(api.url, `${mkdtempSync(`${tmpdir()}/grpc-lb-kubeconfig-`)}/config`));
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const selector = 'kubernetes.io/service-name=addr-server';
    let lists = 0;
    const informer = k8s.makeInformer(
      kc,
      `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`,
      () => {
        lists++;
        return discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: selector });
      },
      selector,
    );
    const seen: string[][] = [];
    const record = (slice: { endpoints?: Array<{ addresses: string[] }> }) =>
      seen.push((slice.endpoints ?? []).flatMap((e) => e.addresses));
    informer.on('add', record);
    informer.on('update', record);
    try {
      await informer.start();
      await waitUntil('the informer has the slice with the first pod', () => seen.at(-1)?.length === 1);
      // Scaled the way client-node's own typed API does it (a JSON patch on the scale subresource).
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      const scale = await apps.patchNamespacedDeploymentScale({
        name: 'addr-server',
        namespace: NS,
        body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      });
      assert.equal(scale.spec?.replicas, 3);
      await waitUntil('the informer sees 3 endpoints', () => seen.at(-1)?.length === 3);
      assert.deepEqual(
        informer.list(NS).map((slice) => slice.metadata?.name),
        ['addr-server-7x2kq'],
      );
      assert.equal(lists, 1);
      // A cut watch is resumed from the last resourceVersion…
      assert.equal(api.endWatches(), 1);
      store.mutate('deployments', NS, 'addr-server', (d) => (d.spec = { ...d.spec, replicas: 2 }));
      await waitUntil('the informer sees 2 endpoints', () => seen.at(-1)?.length === 2);
      assert.equal(lists, 1, 'resumed without listing again');
      // …and one that resumes after the history was compacted gets 410 Gone and lists again.
      await waitUntil('the informer watches again', () => api.endWatches() === 1);
      store.mutate('services', NS, 'addr-server', (service) => (service.metadata.labels = { changed: 'yes' }));
      store.compact();
      store.mutate('deployments', NS, 'addr-server', (d) => (d.spec = { ...d.spec, replicas: 4 }));
      await waitUntil('the informer sees 4 endpoints', () => seen.at(-1)?.length === 4);
      assert.equal(lists, 2, 'listed again after 410');
    } finally {
      informer.off('add', record);
      informer.off('update', record);
      await informer.stop().catch(() => {});
      cluster.stop();
      await api.close();
    }
  });
});

describe('the object store and its watches', () => {
  const events = (store: ObjectStore, options: Parameters<ObjectStore['watch']>[1]) => {
    const seen: string[] = [];
    const watcher = store.watch('pods', options, (event) => seen.push(`${event.type} ${event.object.metadata.name}`));
    return { seen, stop: () => watcher.stop() };
  };
  const pod = (name: string, labels: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: {},
    status: {},
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('replays the changes after a resourceVersion, follows a selector in and out, and bumps generation on spec changes only', async () => {
    const store = new ObjectStore();
    seed(store);
    const start = store.resourceVersion;
    store.create('pods', pod('a', { app: 'x' }));
    store.create('pods', pod('b', { app: 'y' }));
    const replay = events(store, { namespace: NS, resourceVersion: start, labelSelector: 'app in (x)' });
    store.mutate('pods', NS, 'b', (p) => (p.metadata.labels = { app: 'x' }));
    store.mutate('pods', NS, 'a', (p) => (p.metadata.labels = { app: 'z' }));
    store.delete('pods', NS, 'b');
    await settle();
    assert.deepEqual(replay.seen, ['ADDED a', 'ADDED b', 'DELETED a', 'DELETED b']);
    replay.stop();
    const before = store.read('deployments', NS, 'addr-server').metadata.generation;
    store.mutate('deployments', NS, 'addr-server', (d) => (d.status = { replicas: 1 }));
    assert.equal(store.read('deployments', NS, 'addr-server').metadata.generation, before);
    store.mutate('deployments', NS, 'addr-server', (d) => (d.spec = { ...d.spec, replicas: 4 }));
    assert.equal(store.read('deployments', NS, 'addr-server').metadata.generation, (before ?? 0) + 1);
    assert.throws(
      () =>
        store.update('deployments', {
          ...store.read('deployments', NS, 'addr-server'),
          metadata: { name: 'addr-server', namespace: NS, resourceVersion: '1' },
        }),
      { code: 409 },
    );
  });

  it('a watch from a resourceVersion older than the history is 410 Gone; over HTTP, an ERROR event as the API server sends it', async () => {
    const store = new ObjectStore({ historySize: 5 });
    seed(store);
    for (let i = 0; i < 10; i++) store.create('pods', pod(`p${i}`, { app: 'x' }));
    assert.throws(() => store.watch('pods', { resourceVersion: '2' }, () => {}), { code: 410, reason: 'Expired' });
    const api = new KubeApiServer({ store, bookmarkIntervalMs: 100 });
    const port = await api.listen(0);
    try {
      const gone = await raw(port, 'GET', `/api/v1/namespaces/${NS}/pods?watch=1&resourceVersion=2`);
      assert.equal(gone.status, 200);
      const error = JSON.parse(gone.text.trim()) as { type: string; object: { code: number; reason: string } };
      assert.deepEqual([error.type, error.object.code, error.object.reason], ['ERROR', 410, 'Expired']);
      const rv = store.resourceVersion;
      setTimeout(() => store.delete('pods', NS, 'p9'), 50);
      const table = await raw(
        port,
        'GET',
        `/api/v1/namespaces/${NS}/pods?watch=true&resourceVersion=${Number(rv) - 1}&allowWatchBookmarks=true&timeoutSeconds=1`,
        {
          accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
        },
      );
      const lines = table.text
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line) as {
              type: string;
              object: {
                kind: string;
                columnDefinitions?: unknown[];
                rows?: Array<{ cells: unknown[] }>;
                metadata: { resourceVersion: string };
              };
            },
        );
      assert.deepEqual(
        lines
          .slice(0, 2)
          .map((line) => [
            line.type,
            line.object.kind,
            line.object.rows?.[0]?.cells[0],
            Boolean(line.object.columnDefinitions),
          ]),
        [
          ['ADDED', 'Table', 'p9', true],
          ['DELETED', 'Table', 'p9', false],
        ],
      );
      assert.ok(
        lines.some((line) => line.type === 'BOOKMARK' && Number(line.object.metadata.resourceVersion) >= Number(rv)),
        'a bookmark within the second',
      );
    } finally {
      await api.close();
    }
  });
});
