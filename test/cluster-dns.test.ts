// The lab's cluster DNS for a headless Service, in-process: A records for the ready pods, following the
// endpoints; NXDOMAIN for other names. (client-grpc through it: test/e2e/cluster-dns.test.ts.)
import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import { after, before, describe, it } from 'node:test';
import { Endpoints } from '../src/lab/data-plane/endpoints.js';
import { DnsServer } from '../src/lab/data-plane/dns-server.js';

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
