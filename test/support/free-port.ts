// A port that was free a moment ago on 127.0.0.1, for a test that must name a port before something
// listens on it (a server restarted on the same port, a client started before its API).
import { once } from 'node:events';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
