// The lab's cluster DNS for a headless Service: A records for the ready pods, following the endpoints;
// NXDOMAIN for other names; and client-grpc through it with round_robin reaching every pod.
import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import { after, before, describe, it } from 'node:test';
import { Endpoints } from '../src/lab/data-plane/endpoints.js';
import { DnsServer } from '../src/lab/data-plane/dns-server.js';
import { freePort, replies, run, start, type Running } from './support/processes.js';

const NAME = 'addr-server-headless.grpc-lb.svc.cluster.local';
const endpoint = (ip: string, grpcPort = 30051) => ({ ip, address: ip, httpPort: 8080, grpcPort });

describe('cluster DNS for a headless Service', () => {
  const endpoints = new Endpoints();
  const server = new DnsServer((name) => (name === NAME ? endpoints : undefined));
  const resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
  before(async () => resolver.setServers([`127.0.0.1:${await server.listen(0)}`]));
  after(() => server.close());

  it('answers the ready pods, and follows the endpoints', async () => {
    endpoints.add(endpoint('10.1.0.8'));
    assert.deepEqual(await resolver.resolve4(NAME), ['10.1.0.8']);
    endpoints.add(endpoint('10.1.0.9'));
    assert.deepEqual((await resolver.resolve4(NAME)).sort(), ['10.1.0.8', '10.1.0.9']);
    endpoints.remove('10.1.0.8');
    assert.deepEqual(await resolver.resolve4(NAME), ['10.1.0.9']);
    assert.equal(server.queries.get('A'), 3);
  });

  it('has no AAAA or TXT records for it, and no other names', async () => {
    await assert.rejects(resolver.resolve6(NAME), { code: 'ENODATA' });
    await assert.rejects(resolver.resolveTxt(NAME), { code: 'ENODATA' });
    await assert.rejects(resolver.resolve4('other.grpc-lb.svc.cluster.local'), { code: 'ENOTFOUND' });
  });
});

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
    for (const ip of ['127.249.40.8', '127.249.40.9']) {
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
    assert.deepEqual([...new Set(replies(lines).map(([, ip]) => ip))].sort(), ['127.249.40.8', '127.249.40.9']);
  });
});
