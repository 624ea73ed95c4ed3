// The lab's Service (the L4 proxy kube-proxy's rules make): half-close passes through as it does through
// the kernel's NAT, every connection's two sockets go together, and its front door caps connections and
// closes idle ones. A real out/server pod behind it.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Endpoints } from '../../src/lab/data-plane/endpoints.js';
import { ServiceProxy } from '../../src/lab/data-plane/service-proxy.js';
import { startServer, type ServerProcess } from './support/processes.js';
import { waitUntil } from '../support/wait.js';

/** Descriptors this process holds now. */
const descriptors = () => readdirSync('/proc/self/fd').length;

/** `GET /addr HTTP/1.0`, the sending side shut at once (as nc and HTTP/1.0 clients do): what came back. */
function halfClosedGet(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.setTimeout(5000, () => socket.destroy());
    socket.end('GET /addr HTTP/1.0\r\nHost: addr-server\r\n\r\n');
  });
}

describe('the Service proxy', () => {
  let pod: ServerProcess;
  const endpoints = new Endpoints();
  before(async () => {
    pod = await startServer('10.1.0.8');
    endpoints.add({ ip: '10.1.0.8', address: '127.0.0.1', httpPort: pod.httpPort, grpcPort: pod.grpcPort });
  });
  after(() => pod.stop('SIGKILL'));

  it('answers a client that half-closes, as the pod itself does, and leaves no descriptor behind', async () => {
    const service = new ServiceProxy(endpoints, (endpoint) => endpoint.httpPort);
    const port = await service.listen(0);
    try {
      const direct = await Promise.all(Array.from({ length: 20 }, () => halfClosedGet(pod.httpPort)));
      assert.equal(direct.filter((a) => /^HTTP\/1\.[01] 200 .*\r\n\r\n10\.1\.0\.8$/su.test(a)).length, 20);
      const before = descriptors();
      const through = await Promise.all(Array.from({ length: 20 }, () => halfClosedGet(port)));
      assert.equal(
        through.filter((a) => /^HTTP\/1\.[01] 200 .*\r\n\r\n10\.1\.0\.8$/su.test(a)).length,
        20,
        `answered through the Service: ${JSON.stringify(through.slice(0, 2))}`,
      );
      await waitUntil(`descriptors back to ${before} (now ${descriptors()})`, () => descriptors() <= before, 5000);
      assert.equal(service.sockets, 0);
      assert.deepEqual([...service.open], [], 'no connection counted open');
      assert.deepEqual([...service.connections], [['10.1.0.8', 20]]);
    } finally {
      await service.close();
    }
  });

  it('refuses connections beyond its cap, and closes one idle past its timeout, both sockets with it', async () => {
    const service = new ServiceProxy(endpoints, (endpoint) => endpoint.grpcPort, {
      maxConnections: 5,
      idleTimeoutMs: 500,
    });
    const port = await service.listen(0);
    const sockets: Socket[] = [];
    try {
      const closed: boolean[] = [];
      for (let i = 0; i < 7; i++) {
        const socket = connect(port, '127.0.0.1');
        const index = i;
        closed[index] = false;
        socket.on('close', () => (closed[index] = true));
        socket.on('error', () => undefined);
        sockets.push(socket);
      }
      await waitUntil('two connections refused', () => closed.filter(Boolean).length >= 2, 2000);
      assert.equal(service.sockets, 10, 'five connections, two sockets each');
      // Nothing is sent on them (the pod would close a gRPC connection with no preface after 10 s).
      await waitUntil('the idle connections closed', () => closed.every(Boolean), 3000);
      await waitUntil('no socket left', () => service.sockets === 0, 2000);
    } finally {
      sockets.forEach((s) => s.destroy());
      await service.close();
    }
  });
});
