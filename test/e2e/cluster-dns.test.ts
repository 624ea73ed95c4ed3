// client-grpc through the lab's cluster DNS for a headless Service: with round_robin it reaches every pod
// the name resolves to. Two real out/server pods at loopback addresses of their own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DnsServer } from '../../src/lab/data-plane/dns-server.js';
import { Endpoints } from '../../src/lab/data-plane/endpoints.js';
import { podNetwork } from './support/pod-network.js';
import { freePort, podsIn, run, start, type Running } from './support/processes.js';

const NAME = 'addr-server-headless.grpc-lb.svc.cluster.local';
const network = podNetwork('cluster-dns');
const endpoint = (ip: string, grpcPort: number) => ({ ip, address: ip, httpPort: 8080, grpcPort });

describe('client-grpc over the cluster DNS', () => {
  const pods: Running[] = [];
  const endpoints = new Endpoints();
  const server = new DnsServer((name) => (name === NAME ? endpoints : undefined));
  let port = 0;
  let grpcPort = 0;
  before(async () => {
    // Two pods at loopback addresses of their own on the same port, as the manifest's pods are:
    // A records carry no port.
    grpcPort = await freePort();
    for (const ip of [network.ip(8), network.ip(9)]) {
      const pod = start('server', ['--host', ip, '--http-port', '0', '--grpc-port', String(grpcPort)], { POD_IP: ip });
      pods.push(pod);
      await pod.waitFor(/msg=listening/);
      endpoints.add(endpoint(ip, grpcPort));
    }
    port = await server.listen(0);
  });
  after(async () => {
    await server.close();
    await Promise.all(pods.map((pod) => pod.stop()));
  });

  it('with round_robin and the alternative resolver, reaches every pod the name resolves to', async () => {
    const target = `dns://127.0.0.1:${port}/${NAME}:${grpcPort}`;
    const { code, lines } = await run(
      'client-grpc',
      [target, '--lb', 'round_robin', '--count', '8', '--interval', '20'],
      20_000,
      {
        GRPC_NODE_USE_ALTERNATIVE_RESOLVER: 'true',
      },
    );
    assert.equal(code, 0, lines.join('\n'));
    assert.deepEqual([...podsIn(lines)].sort(), [network.ip(8), network.ip(9)]);
  });
});
