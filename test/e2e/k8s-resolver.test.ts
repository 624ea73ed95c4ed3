// The k8s:/// resolver: out/client-grpc run as a user runs it (KUBECONFIG), against the lab's Kubernetes API
// holding EndpointSlices the test writes (test/support/slice-api.ts), and real out/server pods, each on its
// own loopback address.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { SliceApi, slowWatchKubeconfig, type SliceEndpoint } from '../support/slice-api.js';
import { waitUntil } from '../support/wait.js';
import { podNetwork } from './support/pod-network.js';
import { freePort, replies, run, settlesOn, start, type Running } from './support/processes.js';

const pod = podNetwork('k8s-resolver').ip;

/** Starts out/server as a pod: its own loopback address, the gRPC port every pod shares. */
async function startPod(ip: string, grpcPort: number): Promise<Running> {
  const proc = start('server', ['--host', ip, '--http-port', '0', '--grpc-port', String(grpcPort)], {
    POD_IP: ip,
    POD_NAME: `pod-${ip}`,
  });
  await proc.waitFor(/msg=listening/);
  return proc;
}

const ipsSoFar = (client: Running) => new Set(replies(client.lines).map(([, ip]) => ip));

describe('k8s:/// resolver against a Kubernetes API', () => {
  let api: SliceApi;
  let port: number;
  const pods: Running[] = [];
  let client: Running;
  const slice = (name: string, endpoints: SliceEndpoint[]) =>
    api.apply(name, 'addr-server', { name: 'grpc', port }, endpoints);

  before(async () => {
    api = new SliceApi(await freePort());
    await api.listen();
    port = await freePort();
    for (let n = 1; n <= 5; n += 1) pods.push(await startPod(pod(n), port));
    slice('addr-server-a', [{ ip: pod(1), ready: true }, { ip: pod(2) }, { ip: pod(3), ready: false }]);
    client = start('client-grpc', ['k8s:///addr-server.grpc-lb:grpc', '--interval', '20'], {
      KUBECONFIG: await api.kubeconfig,
    });
  });

  after(async () => {
    await client?.stop();
    await Promise.all(pods.map((p) => p.stop()));
    await api?.close();
  });

  it('reaches every ready pod (by the port name) and calls no pod that is not ready', async () => {
    await settlesOn(client, [pod(1), pod(2)], 'one slice, pod 3 not ready');
    assert.ok(!ipsSoFar(client).has(pod(3)), 'the not-ready pod got a call');
  });

  it('merges a second slice with the first instead of replacing it', async () => {
    slice('addr-server-b', [{ ip: pod(4), ready: true }]);
    await settlesOn(client, [pod(1), pod(2), pod(4)], 'slice b added');
  });

  it('calls a pod once its endpoint turns ready', async () => {
    assert.ok(!ipsSoFar(client).has(pod(3)), 'the not-ready pod got a call');
    slice('addr-server-a', [{ ip: pod(1), ready: true }, { ip: pod(2) }, { ip: pod(3), ready: true }]);
    await settlesOn(client, [pod(1), pod(2), pod(3), pod(4)], 'pod 3 ready');
  });

  it('a deleted slice takes its pods away (DELETED is not ADDED)', async () => {
    api.remove('addr-server-b');
    await settlesOn(client, [pod(1), pod(2), pod(3)], 'slice b deleted');
  });

  it('picks up a change made while the API had ended its watch', async () => {
    await waitUntil('the client watches', () => api.api.endWatches() === 1);
    slice('addr-server-b', [{ ip: pod(4), ready: true }]);
    await settlesOn(client, [pod(1), pod(2), pod(3), pod(4)], 'slice b back after a cut watch');
  });

  it('lists again after 410 Gone, and so sees a change made while its watch was away and history compacted', async () => {
    // All at once, before the client's new watch can arrive: it then resumes from a version the API forgot.
    await waitUntil('the client watches', () => api.api.endWatches() === 1);
    slice('addr-server-a', [{ ip: pod(1), ready: false }, { ip: pod(2) }, { ip: pod(3), ready: true }]);
    api.store.compact();
    await settlesOn(client, [pod(2), pod(3), pod(4)], 'pod 1 not ready, known only from a new list');
  });

  it('a slice that empties takes its pods away; with no pod left calls fail with UNAVAILABLE and go on', async () => {
    slice('addr-server-a', []);
    await settlesOn(client, [pod(4)], 'slice a empty');
    const before = client.lines.length;
    slice('addr-server-b', [{ ip: pod(4), ready: false }]);
    await waitUntil(
      '3 errors that say why',
      () =>
        client.lines
          .slice(before)
          .filter((line) => /^Error: UNAVAILABLE: .*Service addr-server\.grpc-lb has no ready endpoints/.test(line))
          .length >= 3,
    );
  });

  it('with no pod ready, the serving ones that are terminating stand in (as kube-proxy does)', async () => {
    slice('addr-server-b', [
      { ip: pod(4), ready: false, serving: true, terminating: true },
      { ip: pod(5), ready: false, serving: false, terminating: true },
    ]);
    await settlesOn(client, [pod(4)], 'pod 4 terminating but serving');
    slice('addr-server-a', [{ ip: pod(1), ready: true }]);
    await settlesOn(client, [pod(1)], 'a ready pod again: the terminating one is dropped');
  });

  it('when the API is unreachable it keeps calling the pods it knows, then follows the API again', async () => {
    slice('addr-server-a', [{ ip: pod(1) }, { ip: pod(2) }]);
    await settlesOn(client, [pod(1), pod(2)], 'before the API goes');
    await api.close();
    const before = client.lines.length;
    await settlesOn(client, [pod(1), pod(2)], 'while the API is gone');
    assert.deepEqual(
      client.lines.slice(before).filter((line) => line.startsWith('Error')),
      [],
      'calls failed while the pods were up',
    );
    slice('addr-server-b', [{ ip: pod(5) }]);
    await api.listen();
    await settlesOn(client, [pod(1), pod(2), pod(5)], 'after the API is back');
    assert.equal(await client.stop(), 0);
  });
});

describe('k8s:/// resolver: errors', () => {
  let api: SliceApi;
  let kubeconfig: string;
  let port: number;
  let serverPod: Running;
  const listening = async () => {
    if (api.api.port === 0) await api.listen();
  };

  before(async () => {
    api = new SliceApi(await freePort());
    kubeconfig = await api.kubeconfig;
    port = await freePort();
    serverPod = await startPod(pod(11), port);
    api.apply('addr-server-x', 'addr-server', { name: 'grpc', port }, [{ ip: pod(11) }]);
  });

  after(async () => {
    await serverPod?.stop();
    await api?.close();
  });

  it('an API not there yet: Error: UNAVAILABLE on each call, carries on, then reaches the pods', async () => {
    const client = start('client-grpc', [`k8s:///addr-server:${port}`, '--interval', '50'], { KUBECONFIG: kubeconfig });
    try {
      await waitUntil(
        '3 errors',
        () =>
          client.lines.filter((line) => /^Error: UNAVAILABLE: Kubernetes API: .*ECONNREFUSED/.test(line)).length >= 3,
      );
      await listening();
      await settlesOn(client, [pod(11)], 'once the API answers');
    } finally {
      assert.equal(await client.stop(), 0);
    }
  });

  it("takes the namespace from the kubeconfig and a port number as the pods' port: --count replies, exit 0", async () => {
    await listening();
    const { code, lines } = await run(
      'client-grpc',
      [`k8s:///addr-server:${port}`, '--interval', '10', '--count', '5'],
      20_000,
      { KUBECONFIG: kubeconfig },
    );
    assert.equal(code, 0, lines.join('\n'));
    assert.deepEqual(
      replies(lines).map(([, ip]) => ip),
      Array(5).fill(pod(11)),
    );
  });

  it('--count 1 exits as soon as the reply is in, while its watch is still being opened', async () => {
    await listening();
    const slow = await slowWatchKubeconfig(api, 500);
    try {
      const { code, lines } = await run('client-grpc', [`k8s:///addr-server:${port}`, '--count', '1'], 10_000, {
        KUBECONFIG: slow.kubeconfig,
      });
      assert.equal(code, 0, `no exit within 10 s (a watch left open holds the process 30 s):\n${lines.join('\n')}`);
      assert.deepEqual(
        replies(lines).map(([, ip]) => ip),
        [pod(11)],
      );
    } finally {
      slow.close();
    }
  });

  const unresolvable: Array<[string, RegExp]> = [
    ['k8s:///no-such-service.grpc-lb:grpc', /no EndpointSlice for Service no-such-service\.grpc-lb \(no such Service/],
    ['k8s:///addr-server.default:grpc', /no EndpointSlice for Service addr-server\.default/],
    [
      'k8s:///addr-server:http',
      /Service addr-server\.grpc-lb has no port named "http" \(its endpoints serve grpc=\d+\)/,
    ],
    ['k8s:///addr-server:9', /Service addr-server\.grpc-lb has no endpoint port 9 \(its endpoints serve grpc=\d+\)/],
  ];
  for (const [target, message] of unresolvable) {
    it(`${target}: says why on each call and carries on`, async () => {
      await listening();
      const client = start('client-grpc', [target, '--interval', '20'], { KUBECONFIG: kubeconfig });
      try {
        await waitUntil(
          `3 lines matching ${message}`,
          () =>
            client.lines.filter((line) => line.startsWith('Error: UNAVAILABLE: ') && message.test(line)).length >= 3,
        );
        assert.equal(replies(client.lines).length, 0);
      } finally {
        assert.equal(await client.stop(), 0);
      }
    });
  }

  it('no kubeconfig and no service account: says so', async () => {
    const home = mkdtempSync(`${tmpdir()}/grpc-lb-home-`);
    const client = start('client-grpc', ['k8s:///addr-server:grpc', '--interval', '20'], {
      KUBECONFIG: '',
      HOME: home,
    });
    try {
      await client.waitFor(/^Error: UNAVAILABLE: Kubernetes API: no kubeconfig: set KUBECONFIG/);
    } finally {
      assert.equal(await client.stop(), 0);
    }
  });
});

describe('k8s:/// targets client-grpc refuses', () => {
  it('the program: one line, exit 2, before loading the Kubernetes client', async () => {
    const { code, lines } = await run('client-grpc', ['k8s:///addr-server']);
    assert.equal(code, 2, lines.join('\n'));
    assert.deepEqual(
      lines.filter((line) => line !== ''),
      [
        'client-grpc: bad TARGET: "addr-server" has no port: use k8s:///SERVICE[.NAMESPACE]:PORT (PORT: a number or the name of a Service port) (see client-grpc --help)',
      ],
    );
  });
});
