// The mesh as a process of its own, as a sidecar runs: it follows the Service's EndpointSlices through
// the Kubernetes API (slice-endpoints.ts) and reads its failure-accrual and request-timeout annotations
// from the Service (read once, at start), so
// that nothing else on its event loop (the lab's API, dashboard, Service proxies) delays a call, and a
// stall of theirs is not its own. It tells its events on stdout, one JSON object per line (the format and
// its parser are here, side by side).
import { get } from 'node:http';
import { accrualFromAnnotations, requestTimeoutFromAnnotations } from './linkerd-annotations.js';
import type { BalancerName } from './balancer.js';
import { Mesh, type MeshEvents, type MeshOptions } from './mesh.js';
import { SliceEndpoints } from './slice-endpoints.js';

export interface MeshProcessOptions {
  /** The Kubernetes API's base URL (the lab's: http://127.0.0.1:PORT). */
  api: string;
  namespace: string;
  service: string;
  /** Where the mesh listens (0: any free port). */
  port: number;
  host?: string;
  balancer?: BalancerName;
  /** The rest of the mesh's options; failure accrual comes from the Service unless given here. */
  mesh?: Omit<MeshOptions, 'balancer'>;
}

export interface RunningMesh {
  port: number;
  mesh: Mesh;
  endpoints: SliceEndpoints;
  /** Why the Service's failure-accrual annotations were refused, if they were (the mesh then runs without). */
  accrualWarning: string | undefined;
  /** Why its timeout.linkerd.io/request annotation was refused, if it was. */
  timeoutWarning: string | undefined;
  close(): Promise<void>;
}

/** Starts the mesh over the Service's endpoints, read from the API; resolves once it listens. */
export async function runMesh(options: MeshProcessOptions): Promise<RunningMesh> {
  const { api, namespace, service } = options;
  const annotations = await serviceAnnotations(api, namespace, service);
  const { policy, warning } = accrualFromAnnotations(annotations);
  const timeout = requestTimeoutFromAnnotations(annotations);
  const endpoints = new SliceEndpoints({ api, namespace, service });
  await endpoints.start();
  const mesh = new Mesh(endpoints, {
    accrual: policy,
    requestTimeoutMs: timeout.timeoutMs,
    ...options.mesh,
    balancer: options.balancer,
  });
  let port: number;
  try {
    port = await mesh.listen(options.port, options.host ?? '127.0.0.1');
  } catch (error) {
    endpoints.stop();
    await mesh.close();
    throw error;
  }
  return {
    port,
    mesh,
    endpoints,
    accrualWarning: warning,
    timeoutWarning: timeout.warning,
    close: async () => {
      endpoints.stop();
      await mesh.close();
    },
  };
}

/** The Service's annotations (GET /api/v1/namespaces/NS/services/NAME). */
export function serviceAnnotations(api: string, namespace: string, service: string): Promise<Record<string, string>> {
  const url = new URL(
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}`,
    api,
  );
  return new Promise((resolve, reject) => {
    const request = get(url, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) {
          reject(new Error(`Service ${namespace}/${service}: HTTP ${response.statusCode}`));
          return;
        }
        const object = JSON.parse(text) as { metadata?: { annotations?: Record<string, string> } };
        resolve(object.metadata?.annotations ?? {});
      });
    });
    request.on('error', (error) => reject(new Error(`the Kubernetes API at ${api}: ${error.message}`)));
    request.setTimeout(10_000, () => request.destroy(new Error('no answer within 10 s')));
  });
}

export type MeshEventLine = { [K in keyof MeshEvents]: { event: K } & MeshEvents[K][0] }[keyof MeshEvents];

export const MESH_EVENTS: ReadonlyArray<keyof MeshEvents> = [
  'endpoints',
  'request',
  'response',
  'tripped',
  'recovered',
  'connected',
  'disconnected',
  'stall',
  'failfast',
];

/** One event as a line: {"event":"tripped","ip":…}. */
export function formatMeshEvent<K extends keyof MeshEvents>(event: K, data: MeshEvents[K][0]): string {
  return JSON.stringify({ event, ...data });
}

/** A line the mesh process printed, back to its event; undefined for any other line. */
export function parseMeshEvent(line: string): MeshEventLine | undefined {
  if (!line.startsWith('{"event":')) return undefined;
  try {
    const parsed = JSON.parse(line) as { event?: unknown };
    return MESH_EVENTS.includes(parsed.event as keyof MeshEvents) ? (parsed as MeshEventLine) : undefined;
  } catch {
    return undefined;
  }
}

/** The mesh process's ready line's fields (written with log(): `level=info msg=listening mesh=HOST:PORT`). */
export const listeningFields = (host: string, port: number) => ({ mesh: `${host}:${port}` });

/** The port from the mesh process's ready line, or undefined for any other line. */
export function parseMeshListening(line: string): number | undefined {
  const match = /(?:^| )msg=listening mesh=[^ ]*:(\d+)(?: |$)/u.exec(line);
  return match ? Number(match[1]) : undefined;
}
