// out/xds-control-plane as a cluster runs it: against a Kubernetes API (the lab's, holding EndpointSlices
// the test writes: test/support/slice-api.ts), with real out/server pods each on its own loopback address
// and a real out/client-grpc on xds:///addr-server whose bootstrap names the control plane.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseAdsListening, parseListening } from '../../src/common/output.js';
import { healthCheck } from '../support/grpc.js';
import { waitUntil } from '../support/wait.js';
import { freePort, replies, run, settlesOn, start, type Running } from './support/processes.js';
import { SliceApi, type SliceEndpoint } from '../support/slice-api.js';

const pod = (n: number) => `127.247.0.${n}`;

/** Starts out/server as a pod: its own loopback address, the gRPC port every pod shares. */
async function startPod(ip: string, grpcPort: number): Promise<Running> {
  const proc = start('server', ['--host', ip, '--http-port', '0', '--grpc-port', String(grpcPort)], {
    POD_IP: ip,
    POD_NAME: `pod-${ip}`,
  });
  const line = await proc.waitFor(/msg=listening /);
  if (!parseListening(line.input ?? '')) throw new Error(`server: a listening line that does not parse: ${line.input}`);
  return proc;
}

/** Starts the control plane on any free port; resolves with it and the port from its listening line. */
async function startControlPlane(kubeconfig: string, args: string[] = []): Promise<{ proc: Running; port: number }> {
  const proc = start('xds-control-plane', ['--host', '127.0.0.1', '--ads-port', '0', ...args], {
    KUBECONFIG: kubeconfig,
  });
  const line = await proc.waitFor(/msg=listening /, 20_000);
  const ads = parseAdsListening(line.input ?? '');
  if (!ads) throw new Error(`xds-control-plane: a listening line that does not parse: ${line.input}`);
  return { proc, port: ads.port };
}

const bootstrap = (port: number) =>
  JSON.stringify({
    xds_servers: [
      { server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: { id: 'test', locality: {} }, // grpc-js-xds refuses a node without a locality
  });

const warnings = (proc: Running) => proc.lines.filter((line) => line.startsWith('level=warn'));

describe('xds-control-plane against a Kubernetes API, with client-grpc on xds:///', () => {
  let api: SliceApi;
  let grpcPort: number;
  const pods: Running[] = [];
  let controlPlane: { proc: Running; port: number };
  let client: Running;
  const slice = (name: string, endpoints: SliceEndpoint[]) =>
    api.apply(name, 'addr-server', { name: 'grpc', port: grpcPort }, endpoints);

  before(async () => {
    api = new SliceApi(await freePort());
    await api.listen();
    grpcPort = await freePort();
    for (let n = 1; n <= 4; n += 1) pods.push(await startPod(pod(n), grpcPort));
    slice('addr-server-a', [{ ip: pod(1) }, { ip: pod(2) }, { ip: pod(3), ready: false }]);
    // Another Service's slice in the same namespace: not the control plane's business.
    api.apply('other-a', 'other', { name: 'grpc', port: grpcPort }, [{ ip: pod(4) }]);
    controlPlane = await startControlPlane(await api.kubeconfig);
    client = start('client-grpc', ['xds:///addr-server', '--interval', '20'], {
      GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap(controlPlane.port),
    });
  });

  after(async () => {
    await client?.stop();
    await controlPlane?.proc.stop();
    await Promise.all(pods.map((p) => p.stop()));
    await api?.close();
  });

  it("says it is ready once it has listed the slices, and the client balances over the Service's ready pods", async () => {
    await waitUntil('the control plane is SERVING', async () => (await healthCheck(controlPlane.port)) === 'SERVING');
    await settlesOn(client, [pod(1), pod(2)], 'one slice, pod 3 not ready');
    assert.ok(!replies(client.lines).some(([, ip]) => ip === pod(4)), "another Service's pod got a call");
  });

  it('follows a change: a pod turning ready, a second slice, a pod leaving', async () => {
    slice('addr-server-a', [{ ip: pod(1) }, { ip: pod(2) }, { ip: pod(3) }]);
    await settlesOn(client, [pod(1), pod(2), pod(3)], 'pod 3 ready');
    slice('addr-server-b', [{ ip: pod(4) }]);
    await settlesOn(client, [pod(1), pod(2), pod(3), pod(4)], 'slice b added');
    slice('addr-server-a', [{ ip: pod(1), ready: false }, { ip: pod(2) }, { ip: pod(3) }]);
    api.remove('addr-server-b');
    await settlesOn(client, [pod(2), pod(3)], 'pod 1 not ready, slice b deleted');
    assert.match(controlPlane.proc.lines.join('\n'), /msg=endpoints service=grpc-lb\/addr-server version=\d+ ready=2 /);
  });

  it('keeps serving the pods it knows while the API is gone, says so, and follows the API once it is back', async () => {
    await api.close();
    await waitUntil('a warning that the API failed', () =>
      warnings(controlPlane.proc).some((line) => /kubernetes API failed.*retry_ms=\d+/.test(line)),
    );
    const before = client.lines.length;
    await settlesOn(client, [pod(2), pod(3)], 'while the API is gone');
    assert.deepEqual(
      client.lines.slice(before).filter((line) => line.startsWith('Error')),
      [],
      'calls failed while the pods were up',
    );
    slice('addr-server-a', [{ ip: pod(1) }, { ip: pod(2) }]);
    await api.listen();
    await settlesOn(client, [pod(1), pod(2)], 'after the API is back', 60_000);
  });

  it('stops cleanly on SIGTERM', async () => {
    assert.equal(await controlPlane.proc.stop('SIGTERM'), 0);
    assert.match(controlPlane.proc.lines.at(-1) ?? '', /msg=stopped/);
  });
});

describe('xds-control-plane: start-up and command line', () => {
  it('with no API yet: it listens, says SERVING only once the API has answered, and serves the pods then', async () => {
    const api = new SliceApi(await freePort());
    const grpcPort = await freePort();
    const server = await startPod(pod(11), grpcPort);
    const { proc, port } = await startControlPlane(await api.kubeconfig, ['--endpoint-port', String(grpcPort)]);
    let client: Running | undefined;
    try {
      await waitUntil('a warning that the API failed', () =>
        warnings(proc).some((line) => /kubernetes API failed.*ECONNREFUSED/.test(line)),
      );
      assert.equal(await healthCheck(port), 'NOT_SERVING');
      api.apply('addr-server-x', 'addr-server', { name: 'grpc', port: grpcPort }, [{ ip: pod(11) }]);
      await api.listen();
      await waitUntil('SERVING', async () => (await healthCheck(port)) === 'SERVING', 60_000);
      client = start('client-grpc', ['xds:///addr-server', '--interval', '20'], {
        GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap(port),
      });
      await settlesOn(client, [pod(11)], 'once the API answers');
    } finally {
      await client?.stop();
      assert.equal(await proc.stop('SIGTERM'), 0);
      await server.stop();
      await api.close();
    }
  });

  it('--help describes it; a bad option or name is one line and exit 2; no kubeconfig is exit 1', async () => {
    const help = await run('xds-control-plane', ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.output, /^xds-control-plane \[options\]/);
    assert.match(help.output, /--ads-port/);
    for (const [args, env, message] of [
      [['--bogus'], {}, /Unknown argument: bogus/],
      [['--service', 'Addr_Server'], {}, /is not a Service name/],
      [[], { ADDR_XDS_ADS_PORT: 'many' }, /ADDR_XDS_ADS_PORT must be a port number/],
    ] as const) {
      const { code, lines } = await run('xds-control-plane', [...args], 10_000, { ...env });
      assert.equal(code, 2, args.join(' '));
      assert.equal(lines.filter(Boolean).length, 1, lines.join('\n'));
      assert.match(lines[0] ?? '', message);
      assert.match(lines[0] ?? '', /see xds-control-plane --help/);
    }
    const missing = await run('xds-control-plane', [], 10_000, { KUBECONFIG: '/nonexistent/kubeconfig' });
    assert.equal(missing.code, 1);
    assert.match(missing.output, /^xds-control-plane: kubeconfig: .*ENOENT/);
  });
});
