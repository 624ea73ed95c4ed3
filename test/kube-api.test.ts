// The lab's Kubernetes API, through the real kubectl and @kubernetes/client-node: the post's commands
// verbatim, Status errors for everything else, and no way in for a foreign web page.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { KubeApiServer } from '../src/lab/api/api-server.js';
import { writeKubeconfig } from '../src/lab/api/kubeconfig.js';
import { ObjectStore, type WatchEvent } from '../src/lab/api/store.js';
import { NS, seed, TinyCluster } from './support/kube-fixtures.js';
import { kubectlFor, raw, waitUntil, type Kubectl } from './support/kubectl.js';

const logText = (pod: string) => `listening on 8080 (HTTP) and 30051 (gRPC) as ${pod}\nGET /addr\n`;

describe('the Kubernetes API, through the real kubectl', () => {
  const store = new ObjectStore();
  const cluster = new TinyCluster(store);
  const dashboard = 'http://127.0.0.1:1';
  const api = new KubeApiServer({
    store,
    maxReplicas: 20,
    allowedOrigins: [dashboard],
    podLogs: ({ pod, follow }) =>
      follow
        ? (async function* () {
            for (const line of logText(pod).split(/(?<=\n)/)) {
              await new Promise((resolve) => setTimeout(resolve, 20));
              yield line;
            }
          })()
        : logText(pod),
  });
  let port = 0;
  let kubeconfig = '';
  let kubectl: Kubectl;
  const podNames = () => store.list('pods', { namespace: NS }).items.map((pod) => pod.metadata.name);
  const replicas = () => Number(store.read('deployments', NS, 'addr-server').spec?.replicas);
  const columns = (line: string) => line.trim().split(/\s{2,}/);

  before(async () => {
    seed(store);
    cluster.start();
    port = await api.listen(0);
    kubeconfig = await writeKubeconfig(api.url, `${mkdtempSync(`${tmpdir()}/grpc-lb-kubeconfig-`)}/config`);
    kubectl = kubectlFor(kubeconfig);
    await waitUntil(
      'the first pod is ready',
      () => store.read('deployments', NS, 'addr-server').status?.readyReplicas === 1,
    );
  });
  after(async () => {
    cluster.stop();
    await api.close();
  });

  it('kubectl scale --replicas=5, then rollout status returns once the rollout is complete', async () => {
    const scale = await kubectl(['scale', '-n', NS, '--replicas=5', 'deployment/addr-server']);
    assert.equal(scale.stderr, '');
    assert.equal(scale.stdout, 'deployment.apps/addr-server scaled\n');
    assert.equal(replicas(), 5);
    const rollout = await kubectl(['rollout', 'status', '-n', NS, 'deployment/addr-server']);
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.match(rollout.stdout, /deployment "addr-server" successfully rolled out\n$/);
    assert.equal(
      store.read('deployments', NS, 'addr-server').status?.availableReplicas,
      5,
      'rollout status returned before the pods were available',
    );
  });

  it('kubectl scale --current-replicas checks the Scale first, then writes it whole (PUT)', async () => {
    const stale = await kubectl(['scale', '-n', NS, '--current-replicas=4', '--replicas=5', 'deployment/addr-server']);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /Expected replicas to be 4, was 5/);
    const current = await kubectl([
      'scale',
      '-n',
      NS,
      '--current-replicas=5',
      '--replicas=5',
      'deployment/addr-server',
    ]);
    assert.equal(current.code, 0, current.stderr);
    assert.equal(current.stdout, 'deployment.apps/addr-server scaled\n');
  });

  it('kubectl get pods -o wide: the real columns, 5 Running pods with their IPs', async () => {
    const { code, stdout } = await kubectl(['get', 'pods', '-n', NS, '-o', 'wide']);
    assert.equal(code, 0);
    const [header = '', ...rows] = stdout.trim().split('\n');
    assert.deepEqual(columns(header), [
      'NAME',
      'READY',
      'STATUS',
      'RESTARTS',
      'AGE',
      'IP',
      'NODE',
      'NOMINATED NODE',
      'READINESS GATES',
    ]);
    assert.equal(rows.length, 5, stdout);
    const ips = rows.map((row) => {
      const [name, ready, status, restarts, , ip, node] = columns(row);
      assert.ok(podNames().includes(name as string), row);
      assert.deepEqual([ready, status, restarts, node], ['1/1', 'Running', '0', 'lab'], row);
      assert.match(ip as string, /^127\.244\.0\.\d+$/);
      return ip;
    });
    assert.equal(new Set(ips).size, 5, 'each pod has its own IP');
    const narrow = await kubectl(['get', 'pods', '-n', NS]);
    assert.deepEqual(columns(narrow.stdout.split('\n')[0] as string), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  });

  it('kubectl get deploy,svc,endpointslices: one table per kind', async () => {
    const { code, stdout } = await kubectl(['get', 'deploy,svc,endpointslices', '-n', NS]);
    assert.equal(code, 0);
    const [deployments, services, slices] = stdout
      .trim()
      .split('\n\n')
      .map((table) => table.split('\n').map(columns));
    assert.deepEqual(deployments, [
      ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
      ['deployment.apps/addr-server', '5/5', '5', '5', deployments?.[1]?.[4]],
    ]);
    assert.deepEqual(services?.[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    assert.deepEqual(services?.[1]?.slice(0, 5), [
      'service/addr-server',
      'NodePort',
      '10.96.0.10',
      '<none>',
      '80:30080/TCP,30051:30051/TCP',
    ]);
    assert.deepEqual(slices?.[0], ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
    assert.equal(slices?.[1]?.[2], '8080,30051');
    assert.match(slices?.[1]?.[3] ?? '', /^127\.244\.0\.\d+,127\.244\.0\.\d+,127\.244\.0\.\d+ \+ 2 more\.\.\.$/);
  });

  it('kubectl get pods -w prints a row as pods change', async () => {
    const watch = kubectl.spawn(['get', 'pods', '-n', NS, '-w']);
    try {
      await waitUntil('the watch lists the 5 pods', () => watch.output().trim().split('\n').length >= 6);
      const scale = await kubectl(['scale', '-n', NS, '--replicas=2', 'deployment/addr-server']);
      assert.equal(scale.code, 0);
      await waitUntil(
        '3 pods are shown Terminating',
        () =>
          new Set(
            watch
              .output()
              .split('\n')
              .filter((l) => / Terminating /.test(l))
              .map((l) => columns(l)[0]),
          ).size === 3,
      );
      assert.equal(
        watch
          .output()
          .split('\n')
          .filter((line) => line.startsWith('NAME ')).length,
        1,
        'one header',
      );
    } finally {
      watch.child.kill();
    }
    await waitUntil('2 pods are left', () => podNames().length === 2);
  });

  it('kubectl delete pod returns once the pod has terminated and is gone', async () => {
    const name = podNames()[0] as string;
    const seen: WatchEvent[] = [];
    const watcher = store.watch(
      'pods',
      { namespace: NS, fieldSelector: `metadata.name=${name}`, resourceVersion: store.resourceVersion },
      (event) => seen.push(event),
    );
    const { code, stdout } = await kubectl(['delete', 'pod', '-n', NS, name]);
    watcher.stop();
    assert.equal(code, 0);
    assert.equal(stdout, `pod "${name}" deleted\n`);
    assert.equal(store.get('pods', NS, name), undefined, 'kubectl returned while the pod was still there');
    assert.deepEqual(
      seen.map((event) => [event.type, Boolean(event.object.metadata.deletionTimestamp)]),
      [
        ['MODIFIED', true],
        ['DELETED', true],
      ],
    );
  });

  it('kubectl logs prints what the pod wrote, and follows it with -f', async () => {
    const name = podNames()[0] as string;
    const logs = await kubectl(['logs', '-n', NS, name]);
    assert.equal(logs.stdout, logText(name));
    const tail = await kubectl(['logs', '-n', NS, name, '--tail=1']);
    assert.equal(tail.stdout, 'GET /addr\n');
    const follow = await kubectl(['logs', '-f', '-n', NS, name]);
    assert.equal(follow.code, 0);
    assert.equal(follow.stdout, logText(name));
    const missing = await kubectl(['logs', '-n', NS, 'no-such-pod']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /pods "no-such-pod" not found/);
  });

  it('unknown resources, bad patches and unsupported verbs get Status errors', async () => {
    const unknown = await kubectl(['get', 'foos', '-n', NS]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /the server doesn't have a resource type "foos"/);
    const negative = await kubectl([
      'patch',
      'deployment',
      'addr-server',
      '-n',
      NS,
      '--type',
      'merge',
      '-p',
      '{"spec":{"replicas":-1}}',
    ]);
    assert.equal(negative.code, 1);
    assert.match(negative.stderr, /The Deployment "addr-server" is invalid: spec\.replicas: Invalid value: -1/);
    const selector = await kubectl([
      'patch',
      'deployment',
      'addr-server',
      '-n',
      NS,
      '--type',
      'merge',
      '-p',
      '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}',
    ]);
    assert.equal(selector.code, 1);
    assert.match(
      selector.stderr,
      /The Deployment "addr-server" is invalid: [^]*\* spec\.selector: Invalid value: \{"matchLabels":\{"app":"other"\}\}: field is immutable/,
    );
    const tooMany = await kubectl(['scale', '-n', NS, '--replicas=21', 'deployment/addr-server']);
    assert.equal(tooMany.code, 1);
    assert.match(tooMany.stderr, /must be less than or equal to 20/);
    const deleteService = await kubectl(['delete', 'service', '-n', NS, 'addr-server']);
    assert.match(deleteService.stderr, /MethodNotAllowed/);
    assert.ok(store.get('services', NS, 'addr-server'));
    assert.equal(replicas(), 2);

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
    assert.equal(replicas(), 2);
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
    assert.equal(replicas(), 2);
    assert.equal(podNames().length, 2);
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
    const pods = await kubectl(['get', 'pods', '-n', NS]);
    assert.equal(pods.code, 0);
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
