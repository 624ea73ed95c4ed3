// addr-server answers who it is over HTTP and gRPC, with health and reflection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getAddr, healthCheck, listServices } from './support/grpc.js';
import { startServer, type ServerProcess } from './support/processes.js';

describe('addr-server', () => {
  let server: ServerProcess;
  let base: string;
  before(async () => {
    server = await startServer('10.1.0.8');
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  after(() => server.stop());

  it('answers GET /addr with its pod IP as text', async () => {
    const response = await fetch(`${base}/addr`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await response.text(), '10.1.0.8');
  });

  it('answers GET /health with OK', async () => {
    const response = await fetch(`${base}/health`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'OK');
  });

  it('answers unknown paths with 404 and other methods with 405, without stack traces', async () => {
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    const post = await fetch(`${base}/addr`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const broken = await fetch(`${base}/addr`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{oops' });
    const text = await broken.text();
    assert.equal(broken.status, 405);
    assert.doesNotMatch(text, /at .*\(.*:\d+:\d+\)/);
  });

  it('answers GetAddr with its pod IP and name', async () => {
    assert.deepEqual(await getAddr(server.grpcPort), { addr: '10.1.0.8', pod: 'pod-10.1.0.8' });
  });

  it('reports SERVING on the standard gRPC health service', async () => {
    assert.equal(await healthCheck(server.grpcPort), 'SERVING');
    assert.equal(await healthCheck(server.grpcPort, 'addr.Addr'), 'SERVING');
  });

  it('lists its services through server reflection', async () => {
    const services = await listServices(server.grpcPort);
    assert.ok(services.includes('addr.Addr'), `reflection listed ${services.join(', ')}`);
    assert.ok(services.includes('grpc.health.v1.Health'), `reflection listed ${services.join(', ')}`);
  });
});
