// Starts a net/http/http2 server listening and resolves with the port it got (useful with port 0);
// rejects with the listen error (EADDRINUSE, EACCES, …) instead of emitting it.
import type { Server } from 'node:net';

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}
