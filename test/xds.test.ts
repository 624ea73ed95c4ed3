// Proxyless gRPC against the lab's xDS control plane: client-grpc with xds:///addr-server gets the
// Listener, route, Cluster and endpoints over ADS, balances over the pods itself, and follows an
// endpoint added later (an EDS push) and one taken away, and stops on SIGTERM; without a bootstrap it
// is a usage error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Endpoints } from '../src/lab/data-plane/endpoints.js';
import { XdsServer } from '../src/lab/data-plane/xds-server.js';
import { exitWithin, replies, run, start, startServer, type ServerProcess } from './support/processes.js';

describe('xds:/// against the lab control plane', () => {
  const servers: ServerProcess[] = [];
  const endpoints = new Endpoints();
  const xds = new XdsServer('addr-server', endpoints);
  let bootstrap = '';
  before(async () => {
    for (const ip of ['10.2.0.1', '10.2.0.2', '10.2.0.3']) servers.push(await startServer(ip));
    bootstrap = xds.bootstrap(await xds.listen(0), 'test');
  });
  after(async () => {
    await xds.close();
    await Promise.all(servers.map((s) => s.stop()));
  });
  const endpoint = (i: number) => ({
    ip: `10.2.0.${i + 1}`,
    address: '127.0.0.1',
    httpPort: servers[i]?.httpPort ?? 0,
    grpcPort: servers[i]?.grpcPort ?? 0,
  });

  it('balances each call over the endpoints it was told, and follows changes', async () => {
    endpoints.add(endpoint(0));
    endpoints.add(endpoint(1));
    const client = start('client-grpc', ['xds:///addr-server', '--interval', '20'], {
      GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap,
    });
    try {
      await client.waitFor(/^#\d+: 10\.2\.0\.2$/, 15_000);
      await client.waitFor(/^#\d+: 10\.2\.0\.1$/, 5_000);
      assert.equal(replies(client.lines).filter(([, ip]) => ip === '10.2.0.3').length, 0);
      endpoints.add(endpoint(2)); // pushed: a new version of the ClusterLoadAssignment
      await client.waitFor(/^#\d+: 10\.2\.0\.3$/, 5_000);
      endpoints.remove('10.2.0.1');
      const before = client.lines.length;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const later = replies(client.lines.slice(before + 5)); // calls in flight at the change may still land
      assert.ok(later.length > 10);
      assert.deepEqual([...new Set(later.map(([, ip]) => ip))].sort(), ['10.2.0.2', '10.2.0.3']);
      assert.ok((xds.pushes.get('type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment') ?? 0) >= 3);
      client.child.kill('SIGTERM'); // stops cleanly, though the xDS client holds its stream open
      assert.equal(await exitWithin(client, 5000), 0);
    } finally {
      await client.stop('SIGKILL');
    }
  });

  it('without a bootstrap, an xds: target is a usage error', async () => {
    const { code, output } = await run('client-grpc', ['xds:///addr-server', '--count', '1'], 10_000, {
      GRPC_XDS_BOOTSTRAP: '',
      GRPC_XDS_BOOTSTRAP_CONFIG: '',
    });
    assert.equal(code, 2);
    assert.match(output, /needs GRPC_XDS_BOOTSTRAP/);
  });
});
