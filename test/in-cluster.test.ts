// What a client pod's manifest names in the cluster, rewritten where the lab serves it (src/lab/node/
// in-cluster.ts), in-process against a made-up lab: each rewrite gives the target or variable the client
// then runs with, and one line naming the field; a name the lab has no Service for keeps the client out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serviceOfName } from '../src/lab/data-plane/dns-server.js';
import { serviceOfHost, targetIndex, translateCall, type InCluster } from '../src/lab/node/in-cluster.js';

const PORTS: Record<string, number> = { 'addr-server:30051': 41001, 'addr-server:80': 41002, 'addr-edge:30051': 41003 };
const HEADLESS = new Set(['addr-server-headless']);

function lab(sidecars: string[] = []): InCluster {
  return {
    namespace: 'grpc-lb',
    domain: 'cluster.local',
    service: (name) =>
      HEADLESS.has(name) || Object.keys(PORTS).some((key) => key.startsWith(`${name}:`))
        ? { headless: HEADLESS.has(name) }
        : undefined,
    port: (name, port) => {
      const at = PORTS[`${name}:${port}`];
      return at === undefined ? undefined : { address: { host: '127.0.0.1', port: at }, by: `the listener of ${name}` };
    },
    dns: { host: '127.0.0.1', port: 5353 },
    kubeconfig: '/tmp/lab.kubeconfig',
    sidecar: async (service) => {
      sidecars.push(service);
      return { address: { host: '127.0.0.1', port: 42000 }, by: `a sidecar over ${service}` };
    },
  };
}

const grpc = (args: string[], env: Record<string, string> = {}, annotations: Record<string, string> = {}) =>
  translateCall({ image: 'addr-client-grpc', args, env, annotations }, lab());

describe('a client pod, rewritten where the lab serves what it names', () => {
  it('a Service name in any of its forms goes to where the lab serves that Service port, with one line', async () => {
    for (const target of [
      'addr-server:30051',
      'addr-server.grpc-lb:30051',
      'addr-server.grpc-lb.svc:30051',
      'addr-server.grpc-lb.svc.cluster.local:30051',
      'dns:///addr-server:30051',
    ]) {
      const call = await grpc([target, '--output', 'jsonl', '--rate', '50']);
      assert.ok('args' in call, target);
      assert.deepEqual(call.args, ['127.0.0.1:41001', '--output', 'jsonl', '--rate', '50'], target);
      assert.equal(call.lines.length, 1);
      assert.match(
        call.lines[0] ?? '',
        new RegExp(
          `^args\\[0\\] ${target.replaceAll('.', '\\.')} → 127\\.0\\.0\\.1:41001: .*the listener of addr-server`,
        ),
      );
    }
  });

  it('finds the target after flags, and a client-http URL keeps its path', async () => {
    const call = await grpc(['--lb', 'round_robin', 'addr-server:30051']);
    assert.ok('args' in call);
    assert.deepEqual(call.args, ['--lb', 'round_robin', '127.0.0.1:41001']);
    const http = await translateCall(
      { image: 'addr-client-http', args: ['http://addr-server/addr'], env: {}, annotations: {} },
      lab(),
    );
    assert.ok('args' in http);
    assert.deepEqual(http.args, ['http://127.0.0.1:41002/addr']);
  });

  it('a headless Service goes to the lab cluster DNS by its full name, asked by grpc-js itself', async () => {
    const call = await grpc(['dns:///addr-server-headless:30051', '--lb', 'round_robin']);
    assert.ok('args' in call);
    assert.equal(call.args[0], 'dns://127.0.0.1:5353/addr-server-headless.grpc-lb.svc.cluster.local:30051');
    assert.equal(call.env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER, 'true');
    assert.match(call.lines[0] ?? '', /GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true/);
  });

  it("k8s:/// gets the lab's kubeconfig in place of a service-account token", async () => {
    const call = await grpc(['k8s:///addr-server:grpc']);
    assert.ok('args' in call);
    assert.equal(call.args[0], 'k8s:///addr-server:grpc');
    assert.equal(call.env.KUBECONFIG, '/tmp/lab.kubeconfig');
    assert.match(call.lines[0] ?? '', /^env KUBECONFIG=\/tmp\/lab\.kubeconfig: .*service-account token/);
  });

  it("the xDS bootstrap's server_uri names a Service as a target does", async () => {
    const bootstrap = JSON.stringify({ xds_servers: [{ server_uri: 'addr-edge:30051' }], node: { id: 'x' } });
    const call = await grpc(['xds:///addr-server'], { GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap });
    assert.ok('args' in call);
    assert.equal(call.args[0], 'xds:///addr-server');
    const rewritten = JSON.parse(call.env.GRPC_XDS_BOOTSTRAP_CONFIG ?? '{}') as typeof JSON;
    assert.deepEqual(rewritten, { xds_servers: [{ server_uri: '127.0.0.1:41003' }], node: { id: 'x' } });
    assert.match(
      call.lines[0] ?? '',
      /^env GRPC_XDS_BOOTSTRAP_CONFIG: xds_servers\[0\]\.server_uri addr-edge:30051 → 127\.0\.0\.1:41003/,
    );
  });

  it('a meshed pod gets a sidecar over the Service its target names, and calls it', async () => {
    const sidecars: string[] = [];
    const call = await translateCall(
      {
        image: 'addr-client-grpc',
        args: ['addr-server:30051'],
        env: {},
        annotations: { 'linkerd.io/inject': 'enabled' },
      },
      lab(sidecars),
    );
    assert.ok('args' in call);
    assert.deepEqual(sidecars, ['addr-server']);
    assert.equal(call.args[0], '127.0.0.1:42000');
    assert.match(call.lines[0] ?? '', /^linkerd\.io\/inject: enabled → a sidecar over addr-server/);
    const off = await grpc(['addr-server:30051'], {}, { 'linkerd.io/inject': 'disabled' });
    assert.ok('args' in off);
    assert.equal(off.args[0], '127.0.0.1:41001');
  });

  it('leaves addresses and other schemes alone, and keeps out a client whose Service the lab lacks', async () => {
    for (const target of [
      '127.0.0.1:30051',
      'localhost:30051',
      'ipv4:10.0.0.1:30051',
      'dns://8.8.8.8/example.com:443',
    ]) {
      const call = await grpc([target]);
      assert.ok('args' in call, target);
      assert.deepEqual([call.args[0], call.lines], [target, []]);
    }
    const missing = await grpc(['addr-nothing:30051']);
    assert.ok('unavailable' in missing);
    assert.match(missing.unavailable, /no Service addr-nothing in namespace grpc-lb/);
    const port = await grpc(['addr-server:9']);
    assert.ok('unavailable' in port);
    assert.match(port.unavailable, /the Service addr-server has no port 9/);
  });

  it('reads names as the cluster writes them', () => {
    assert.equal(serviceOfHost('addr-server', 'grpc-lb', 'cluster.local'), 'addr-server');
    assert.equal(serviceOfHost('addr-server.other', 'grpc-lb', 'cluster.local'), undefined);
    assert.equal(serviceOfHost('addr-server.grpc-lb.svc.example.org', 'grpc-lb', 'cluster.local'), undefined);
    assert.deepEqual(serviceOfName('a.grpc-lb.svc.cluster.local', 'cluster.local'), {
      service: 'a',
      namespace: 'grpc-lb',
    });
    assert.equal(serviceOfName('a.b.grpc-lb.svc.cluster.local', 'cluster.local'), undefined);
    assert.equal(targetIndex(['--rate', '50', '--keepalive', 'x']), 3);
    assert.equal(targetIndex(['--rate=50', 'x']), 1);
  });
});
