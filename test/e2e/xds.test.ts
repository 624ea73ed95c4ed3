// Proxyless gRPC against the lab's xDS control plane: client-grpc with xds:///addr-server gets the
// Listener, route, Cluster and endpoints over ADS, balances over the pods itself, and follows an
// endpoint added later (an EDS push) and one taken away (another), and stops on SIGTERM; without a bootstrap it
// is a usage error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Endpoints } from '../../src/lab/data-plane/endpoints.js';
import { XdsServer } from '../../src/lab/data-plane/xds-server.js';
import { waitUntil } from '../support/wait.js';
import { exitWithin, replies, run, settlesOn, start, startServer, type ServerProcess } from './support/processes.js';

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

  it('balances each call over the endpoints it was told, and follows changes pushed to it', async () => {
    const CLA = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
    const pushed = () => xds.pushes.get(CLA) ?? 0;
    endpoints.add(endpoint(0));
    endpoints.add(endpoint(1));
    const client = start('client-grpc', ['xds:///addr-server', '--interval', '20'], {
      GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap,
    });
    try {
      await settlesOn(client, ['10.2.0.1', '10.2.0.2'], 'the first two endpoints', 15_000);
      const first = pushed();
      assert.ok(first >= 1, 'the endpoints came as an EDS push');
      endpoints.add(endpoint(2)); // pushed: a new version of the ClusterLoadAssignment
      assert.equal(pushed(), first + 1);
      await settlesOn(client, ['10.2.0.1', '10.2.0.2', '10.2.0.3'], 'an endpoint added');
      endpoints.remove('10.2.0.1');
      assert.equal(pushed(), first + 2);
      // Calls in flight when the push lands may still end on 10.2.0.1: wait until the client's latest
      // replies come from the two left, then none of the next 10 may come from it.
      await settlesOn(client, ['10.2.0.2', '10.2.0.3'], 'an endpoint removed');
      const seen = replies(client.lines).length;
      await waitUntil('10 more replies', () => replies(client.lines).length >= seen + 10);
      const later = replies(client.lines).slice(seen);
      assert.deepEqual([...new Set(later.map(([, ip]) => ip))].sort(), ['10.2.0.2', '10.2.0.3']);
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
