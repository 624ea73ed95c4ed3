// The lab's stand-in for the Kubernetes API server, on loopback: `out/lab scale N` talks to it the way
// kubectl talks to a cluster. GET /status describes the pods; POST /scale?replicas=N scales.
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Cluster } from '../cluster.js';

export const MAX_REPLICAS = 20;
/** Where `lab up` listens for `lab scale` unless told otherwise. */
export const DEFAULT_API_PORT = 30000;

export interface Status {
  replicas: number;
  pods: Array<{
    name: string;
    ip: string;
    phase: string;
    ready: boolean;
    pid: number | undefined;
    /** where the pod listens on loopback (its "pod IP" ports) */
    httpPort: number | undefined;
    grpcPort: number | undefined;
  }>;
  ports: { http: number; grpc: number; mesh: number };
}

export function status(cluster: Cluster): Status {
  return {
    replicas: cluster.deployment.replicas,
    pods: cluster.deployment.allPods.map((pod) => ({
      name: pod.name,
      ip: pod.ip,
      phase: pod.phase,
      ready: pod.ready,
      pid: pod.pid,
      httpPort: pod.endpoint?.httpPort,
      grpcPort: pod.endpoint?.grpcPort,
    })),
    ports: cluster.ports,
  };
}

/**
 * A request from a web page the user happens to open (any site can POST to 127.0.0.1) or through a
 * name rebound to 127.0.0.1 carries a foreign Origin or Host: it must not change anything here.
 */
export function isForeign(headers: IncomingHttpHeaders, port: number): boolean {
  const own = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!own.includes(headers.host ?? '')) return true;
  const origin = headers.origin;
  return origin !== undefined && !own.some((host) => origin === `http://${host}`);
}

export function serveApi(cluster: Cluster, onScale: (replicas: number) => void): Server {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const reply = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const port = (server.address() as { port: number }).port;
    if (req.method !== 'GET' && req.method !== 'HEAD' && isForeign(req.headers, port)) {
      return reply(403, { error: 'refused: this request comes from another origin or names another host' });
    }
    if (url.pathname === '/status' && req.method === 'GET') return reply(200, status(cluster));
    if (url.pathname === '/scale' && req.method === 'POST') {
      const replicas = Number(url.searchParams.get('replicas'));
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
        return reply(400, { error: `replicas must be a whole number from 0 to ${MAX_REPLICAS}` });
      }
      onScale(replicas);
      return reply(200, { replicas });
    }
    return reply(404, { error: 'not found' });
  });
  return server;
}

/** The client side, for `out/lab scale N`. */
export function callApi(port: number, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        } catch {
          reject(new Error(`unexpected answer from 127.0.0.1:${port}: ${text.slice(0, 80)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}
