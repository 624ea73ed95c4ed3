// The lab's Kubernetes API against a hostile or careless neighbour on the same machine: a patch that would
// write onto Object.prototype, JSON nested 100,000 deep, labels the API server refuses, log options out of
// range, a request that trips an unexpected exception, a client that sends its headers byte by byte. Each
// gets its answer; the process and its other clients go on.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeApiServer } from '../src/lab/api/api-server.js';
import type { PodLogRequest } from '../src/lab/api/pod-requests.js';
import { ObjectStore } from '../src/lab/api/store.js';
import { NS, seed } from './support/kube-fixtures.js';
import { raw } from './support/http.js';

const deploymentPath = `/apis/apps/v1/namespaces/${NS}/deployments/addr-server`;
const polluted = () =>
  ['as', 'polluted', 'x'].filter((key) => (Object.prototype as Record<string, unknown>)[key] !== undefined);
const cleanPrototype = () => {
  for (const key of ['as', 'polluted', 'x']) Reflect.deleteProperty(Object.prototype, key);
};

const podObject = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, labels: { app: 'addr-server' } },
  spec: { nodeName: 'lab', containers: [{ name: 'addr-server', image: 'addr-server' }] },
  status: { phase: 'Running' },
  ...extra,
});

describe('the API refuses what would reach a prototype (issue 14, item 1)', () => {
  const store = new ObjectStore();
  const api = new KubeApiServer({ store });
  let port = 0;
  before(async () => {
    seed(store);
    port = await api.listen(0);
  });
  after(() => api.close());

  const cases: Array<[string, string, string, string]> = [
    // The request of the issue, verbatim.
    [
      'PATCH',
      `${deploymentPath}/scale`,
      'application/json-patch+json',
      '[{"op":"add","path":"/__proto__/as","value":"x"}]',
    ],
    [
      'PATCH',
      deploymentPath,
      'application/json-patch+json',
      '[{"op":"add","path":"/constructor/prototype/x","value":"x"}]',
    ],
    [
      'PATCH',
      deploymentPath,
      'application/json-patch+json',
      '[{"op":"add","path":"/spec","value":{"__proto__":{"x":1}}}]',
    ],
    ['PATCH', `${deploymentPath}/scale`, 'application/merge-patch+json', '{"__proto__":{"polluted":"yes"}}'],
    [
      'PATCH',
      deploymentPath,
      'application/merge-patch+json',
      '{"metadata":{"labels":{"__proto__":{"polluted":"yes"}}}}',
    ],
    ['PATCH', deploymentPath, 'application/merge-patch+json', '{"constructor":{"prototype":{"polluted":"yes"}}}'],
    ['PATCH', deploymentPath, 'application/strategic-merge-patch+json', '{"spec":{"__proto__":{"polluted":"yes"}}}'],
    [
      'PATCH',
      deploymentPath,
      'application/strategic-merge-patch+json',
      '{"spec":{"template":{"spec":{"containers":[{"name":"addr-server","__proto__":{"polluted":"yes"}}]}}}}',
    ],
    ['PUT', deploymentPath, 'application/json', '{"metadata":{"name":"addr-server"},"__proto__":{"polluted":"yes"}}'],
    [
      'PUT',
      `${deploymentPath}/scale`,
      'application/json',
      '{"metadata":{"name":"addr-server"},"spec":{"replicas":2,"__proto__":{"x":1}}}',
    ],
    ['DELETE', `/api/v1/namespaces/${NS}/pods/nope`, 'application/json', '{"preconditions":{"__proto__":{"uid":"x"}}}'],
  ];
  for (const [method, path, type, body] of cases) {
    it(`${method} ${path.replace(deploymentPath, 'deployments/addr-server')} ${type}: ${body}`, async () => {
      const before = store.read('deployments', NS, 'addr-server').metadata.resourceVersion;
      try {
        const response = await raw(port, method, path, { 'content-type': type }, body);
        assert.deepEqual(polluted(), [], 'Object.prototype was written');
        assert.equal(response.status, 400, response.text);
        assert.equal(response.json().reason, 'BadRequest');
        assert.match(String(response.json().message), /is not accepted: it names a JavaScript object's prototype/);
        assert.equal(store.read('deployments', NS, 'addr-server').metadata.resourceVersion, before);
      } finally {
        cleanPrototype();
      }
    });
  }
});

describe('the API reads bounded input (issue 14, item 8)', () => {
  const store = new ObjectStore();
  const logRequests: PodLogRequest[] = [];
  const api = new KubeApiServer({
    store,
    podLogs: (request) => {
      logRequests.push(request);
      if (request.pod === 'broken') throw new TypeError("Cannot read properties of undefined (reading 'logs')");
      if (!request.follow) return 'first line\nsecond line\nthird line\n';
      return (async function* () {
        yield 'first line\n';
        yield 'second line\n';
      })();
    },
  });
  let port = 0;
  before(async () => {
    seed(store);
    store.create('pods', podObject('addr-server-a'));
    store.create('pods', podObject('broken'));
    port = await api.listen(0);
  });
  after(() => api.close());

  it('JSON nested 100,000 deep is 400, not a stack overflow, in a patch, a PUT and a delete', async () => {
    const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    for (const [method, path, type] of [
      ['PATCH', deploymentPath, 'application/merge-patch+json'],
      ['PATCH', deploymentPath, 'application/strategic-merge-patch+json'],
      ['PUT', deploymentPath, 'application/json'],
      ['DELETE', `/api/v1/namespaces/${NS}/pods/addr-server-a`, 'application/json'],
    ] as const) {
      const response = await raw(port, method, path, { 'content-type': type }, deep(100_000));
      assert.equal(response.status, 400, `${method} ${path}: ${response.text.slice(0, 200)}`);
      assert.match(String(response.json().message), /nested too deeply: more than 100 levels/);
    }
    const list = `[${'['.repeat(150_000)}${']'.repeat(150_000)}]`;
    const patch = await raw(port, 'PATCH', deploymentPath, { 'content-type': 'application/json-patch+json' }, list);
    assert.equal(patch.status, 400);
    assert.ok(store.get('pods', NS, 'addr-server-a'), 'the pod was not deleted');
    assert.equal((await raw(port, 'GET', '/version')).status, 200);
  });

  it('labels and annotations are validated as the API server validates them', async () => {
    const patch = (body: unknown) =>
      raw(port, 'PATCH', deploymentPath, { 'content-type': 'application/merge-patch+json' }, JSON.stringify(body));
    const cases: Array<[unknown, RegExp]> = [
      [
        { metadata: { labels: { 'bad key!': 'x' } } },
        /metadata\.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '\.', and must start and end with an alphanumeric character \(e\.g\. 'MyName', {2}or 'my\.name', {2}or '123-abc', regex used for validation is '\(\[A-Za-z0-9\]\[-A-Za-z0-9_\.\]\*\)\?\[A-Za-z0-9\]'\)/,
      ],
      [
        { metadata: { labels: { 'Example.COM/tier': 'x' } } },
        /metadata\.labels: Invalid value: "Example\.COM\/tier": prefix part a lowercase RFC 1123 subdomain/,
      ],
      [{ metadata: { labels: { '/tier': 'x' } } }, /prefix part must be non-empty/],
      [
        { metadata: { labels: { a: 'v'.repeat(64) } } },
        /metadata\.labels: Invalid value: "v{64}": must be no more than 63 bytes/,
      ],
      [
        { metadata: { labels: { a: 'bad value' } } },
        /a valid label must be an empty string or consist of alphanumeric characters/,
      ],
      [{ metadata: { labels: { [`${'k'.repeat(64)}`]: 'x' } } }, /name part must be no more than 63 bytes/],
      [
        { metadata: { annotations: { 'a/b/c': 'x' } } },
        /metadata\.annotations: Invalid value: "a\/b\/c": a valid label key/,
      ],
      [
        { metadata: { annotations: { big: 'x'.repeat(128 * 1024), bigger: 'x'.repeat(128 * 1024) } } },
        /metadata\.annotations: Too long: may not be more than 262144 bytes/,
      ],
      [
        { spec: { template: { metadata: { labels: { app: 'addr-server', 'no good': 'x' } } } } },
        /spec\.template\.labels: Invalid value: "no good"/,
      ],
    ];
    const before = store.read('deployments', NS, 'addr-server').metadata.resourceVersion;
    for (const [body, message] of cases) {
      const response = await patch(body);
      assert.equal(response.status, 422, `${JSON.stringify(body).slice(0, 100)}: ${response.text.slice(0, 300)}`);
      assert.equal(response.json().reason, 'Invalid');
      assert.match(String(response.json().message), message);
    }
    assert.equal(store.read('deployments', NS, 'addr-server').metadata.resourceVersion, before);
    const fine = await patch({
      metadata: {
        labels: { 'example.com/tier': 'Front_end-1.0', empty: '' },
        annotations: { 'Any.Case/Key': 'any value at all\n' },
      },
    });
    assert.equal(fine.status, 200, fine.text);
  });

  it('log options are checked as the API server checks them: sinceSeconds ≥ 1, limitBytes ≥ 1, tailLines ≥ 0', async () => {
    const log = (query: string) => raw(port, 'GET', `/api/v1/namespaces/${NS}/pods/addr-server-a/log?${query}`);
    for (const [query, message] of [
      [
        'sinceSeconds=-1',
        /PodLogOptions "addr-server-a" is invalid: sinceSeconds: Invalid value: -1: must be greater than 0/,
      ],
      ['sinceSeconds=0', /sinceSeconds: Invalid value: 0: must be greater than 0/],
      ['limitBytes=0', /limitBytes: Invalid value: 0: must be greater than 0/],
      ['tailLines=-2', /tailLines: Invalid value: -2: must be greater than or equal to 0/],
      [
        'sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z',
        /at most one of `sinceTime` or `sinceSeconds` may be specified/,
      ],
    ] as const) {
      const response = await log(query);
      assert.equal(response.status, 422, `${query}: ${response.text}`);
      assert.match(String(response.json().message), message);
    }
    assert.equal((await log('limitBytes=7')).text, 'first l');
    assert.equal((await log('tailLines=2&limitBytes=8')).text, 'second l');
    assert.equal((await log('tailLines=1')).text, 'third line\n');
    assert.equal((await log('follow=true&limitBytes=14')).text, 'first line\nsec');
    const asked = Date.now();
    await log('sinceSeconds=60');
    const since = logRequests.at(-1)?.since?.getTime() ?? 0;
    assert.ok(Math.abs(since - (asked - 60_000)) < 5_000, `since ${new Date(since).toISOString()}`);
    assert.equal((await log('sinceTime=2026-01-01T00:00:00Z')).status, 200);
    assert.equal(logRequests.at(-1)?.since?.toISOString(), '2026-01-01T00:00:00.000Z');
  });

  it('an unexpected exception is the 500 of its own request, and a watch that meets one ends with an ERROR event', async () => {
    const broken = await raw(port, 'GET', `/api/v1/namespaces/${NS}/pods/broken/log`);
    assert.equal(broken.status, 500);
    assert.deepEqual([broken.json().kind, broken.json().reason], ['Status', 'InternalError']);
    assert.match(String(broken.json().message), /internal error: Cannot read properties of undefined/);
    // A controller (in-process, unchecked) writes an object no encoder can write: a cycle. A watch from
    // the version before it replays its creation.
    const from = store.resourceVersion;
    const cyclic = podObject('cyclic') as Record<string, unknown> & { spec: Record<string, unknown> };
    cyclic.spec.self = cyclic.spec;
    store.create('pods', cyclic as never);
    const watch = raw(port, 'GET', `/api/v1/namespaces/${NS}/pods?watch=true&resourceVersion=${from}`);
    const events = (await watch).text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; object: { code?: number; reason?: string } });
    assert.deepEqual(
      events.map((event) => [event.type, event.object.code, event.object.reason]),
      [['ERROR', 500, 'InternalError']],
    );
    const list = await raw(port, 'GET', `/api/v1/namespaces/${NS}/pods`);
    assert.equal(list.status, 500);
    store.delete('pods', NS, 'cyclic', { gracePeriodSeconds: 0 });
    assert.equal((await raw(port, 'GET', `/api/v1/namespaces/${NS}/pods`)).status, 200);
  });
});

describe('the API bounds how long a client may take to send a request, not how long a watch lasts', () => {
  const store = new ObjectStore();
  const api = new KubeApiServer({ store, headersTimeoutMs: 300, requestTimeoutMs: 600, bookmarkIntervalMs: 200 });
  let port = 0;
  const sockets: Socket[] = [];
  before(async () => {
    seed(store);
    port = await api.listen(0);
  });
  after(async () => {
    sockets.forEach((socket) => socket.destroy());
    await api.close();
  });

  /** Opens a connection, writes `text`, and resolves with what the server answered when it closed it. */
  const slowClient = (text: string, trickle?: string) =>
    new Promise<string>((resolve, reject) => {
      let answer = '';
      const socket = connect(port, '127.0.0.1', () => socket.write(text));
      sockets.push(socket);
      // The client keeps sending a byte now and then, as a slowloris does, and never finishes.
      const drip = trickle ? setInterval(() => socket.writable && socket.write(trickle), 100) : undefined;
      const bound = setTimeout(() => reject(new Error(`still open after 10 s; got ${JSON.stringify(answer)}`)), 10_000);
      socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
      socket.on('close', () => {
        clearInterval(drip);
        clearTimeout(bound);
        resolve(answer);
      });
      socket.on('error', () => {});
    });

  it('headers that never finish are answered 408 and the connection closed', async () => {
    const answer = await slowClient(`GET /version HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`, 'x');
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).code, 408);
  });

  it('a body that never finishes is answered 408 and the connection closed', async () => {
    const answer = await slowClient(
      `PATCH ${deploymentPath}/scale HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/merge-patch+json\r\ncontent-length: 100000\r\n\r\n{`,
      ' ',
    );
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.equal(store.read('deployments', NS, 'addr-server').spec?.replicas, 1);
  });

  it('a watch outlives both timeouts, with its bookmarks, until its own timeoutSeconds', async () => {
    const watch = await raw(
      port,
      'GET',
      `/api/v1/namespaces/${NS}/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion=${store.resourceVersion}`,
      {},
      undefined,
      8000,
    );
    const bookmarks = watch.text
      .trim()
      .split('\n')
      .filter((line) => JSON.parse(line).type === 'BOOKMARK');
    // 2 s of 200 ms bookmarks; a watch cut at the 600 ms request timeout would have 3 at most.
    assert.ok(bookmarks.length >= 6, `${bookmarks.length} bookmarks`);
    assert.equal(watch.status, 200);
  });
});
