// The lab's Kubernetes API server: the part of the API that kubectl and @kubernetes/client-node use here
// (discovery, list/get/watch as JSON or Table, scale, delete pod, logs), on loopback, over the store.
// Requests that change state must come from the API's own origin or a trusted one (origins.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../../common/listen.js';
import { DeploymentWrites } from './deployment-writes.js';
import { apiGroup, coreVersions, groupList, resourceList, version } from './discovery.js';
import {
  boolParam,
  intParam,
  mediaType,
  negotiate,
  readBody,
  parseJson,
  sendJson,
  sendStatus,
  tableContentType,
  type Representation,
} from './http-io.js';
import { OriginPolicy } from './origins.js';
import { PATCH_TYPES, type PatchType } from './patch.js';
import { deletePod, servePodLog, type PodLogs } from './pod-requests.js';
import { apiVersionOf } from './resources.js';
import { route, type Route } from './routes.js';
import type { ObjectStore } from './store.js';
import { ApiError, badRequest, statusOf } from './status.js';
import { toTable } from './tables.js';
import { serveWatch } from './watch-stream.js';

export interface KubeApiOptions {
  store: ObjectStore;
  /** origins besides the API's own (http://127.0.0.1:PORT, http://localhost:PORT) that may change state, with CORS */
  allowedOrigins?: string[];
  /** what `kubectl logs` shows */
  podLogs?: PodLogs;
  /** the most replicas a Deployment may be scaled to (default 100) */
  maxReplicas?: number;
  /** default 1 MiB */
  maxBodyBytes?: number;
  /** how often a watch that allows bookmarks gets one (default 10 s) */
  bookmarkIntervalMs?: number;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const notServed = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
const methodNotAllowed = () =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

type ResourceRoute = Extract<Route, { to: 'resource' }>;

export class KubeApiServer {
  private readonly server: Server;
  private readonly watches = new Set<() => void>();
  private readonly writes: DeploymentWrites;
  private readonly origins: OriginPolicy;
  private boundPort = 0;

  constructor(private readonly options: KubeApiOptions) {
    this.writes = new DeploymentWrites(options.store, options.maxReplicas ?? 100);
    this.origins = new OriginPolicy(options.allowedOrigins);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        const status =
          error instanceof ApiError
            ? error.status
            : statusOf(500, 'InternalError', `internal error: ${(error as Error)?.message ?? String(error)}`);
        if (status.code === 413) res.setHeader('connection', 'close');
        if (!res.destroyed) sendStatus(res, status);
      });
    });
    // A request Node cannot parse still gets a Status, and the server goes on.
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable || error.code === 'ECONNRESET') return socket.destroy();
      const body = JSON.stringify(
        statusOf(400, 'BadRequest', `malformed HTTP request: ${error.code ?? error.message}`),
      );
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
  }

  /** Listens on host:port (port 0: any free port) and resolves with the port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.boundPort = await listen(this.server, port, host);
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** Ends every open watch, as an API server restart or a load balancer's idle timeout does; returns how many. */
  endWatches(): number {
    const open = [...this.watches];
    for (const end of open) end();
    return open.length;
  }

  /** Ends every watch and stops listening. */
  close(): Promise<void> {
    this.endWatches();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.origins.admit(req, res, this.boundPort)) return;
    // Split by hand: new URL() reads a path like //x as a host name.
    const [pathname = '/', search = ''] = (req.url ?? '/').split(/\?(.*)/s);
    const target = route(pathname);
    const method = req.method ?? 'GET';
    if (target.to === 'resource') return this.resource(req, res, target, new URLSearchParams(search));
    if (method !== 'GET' && method !== 'HEAD') throw target.to === 'none' ? notServed() : methodNotAllowed();
    switch (target.to) {
      case 'version':
        return sendJson(res, 200, version());
      case 'health':
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      case 'core-versions':
        return sendJson(res, 200, coreVersions(`127.0.0.1:${this.boundPort}`));
      case 'groups':
        return sendJson(res, 200, groupList());
      case 'group':
        return sendJson(res, 200, apiGroup(target.group));
      case 'resources': {
        const list = resourceList(target.group, target.version);
        if (!list) throw notServed();
        return sendJson(res, 200, list);
      }
      default:
        throw notServed();
    }
  }

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    target: ResourceRoute,
    query: URLSearchParams,
  ): Promise<void> {
    const { store } = this.options;
    const { type, namespace, name, subresource } = target;
    const method = req.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') {
      if (subresource === 'log')
        return servePodLog(res, store, this.options.podLogs, namespace as string, name as string, query);
      if (subresource === 'scale') return sendJson(res, 200, this.writes.getScale(namespace as string, name as string));
      const representation = negotiate(req.headers.accept, query.get('includeObject'));
      if (!representation)
        throw new ApiError(406, 'NotAcceptable', 'only application/json and meta.k8s.io/v1 Table are served');
      const selectors = {
        namespace,
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
      };
      if (name === undefined && (target.watchPrefix || boolParam(query, 'watch'))) {
        if (method === 'HEAD') throw methodNotAllowed();
        const sendInitialEvents = query.get('sendInitialEvents');
        return serveWatch(
          res,
          store,
          {
            ...selectors,
            resource: type.name,
            representation,
            resourceVersion: query.get('resourceVersion') ?? undefined,
            timeoutSeconds: intParam(query, 'timeoutSeconds'),
            allowWatchBookmarks: boolParam(query, 'allowWatchBookmarks'),
            sendInitialEvents: sendInitialEvents === null ? undefined : sendInitialEvents === 'true',
          },
          {
            bookmarkIntervalMs: this.options.bookmarkIntervalMs ?? 10_000,
            maxBufferedBytes: 4 << 20,
            maxSeconds: 1800,
          },
          this.watches,
        );
      }
      if (name !== undefined) {
        const object = store.read(type.name, namespace, name);
        return this.reply(res, representation, type.name, [object], object.metadata.resourceVersion ?? '', object);
      }
      const { items, resourceVersion } = store.list(type.name, selectors);
      const list = { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion }, items };
      return this.reply(res, representation, type.name, items, resourceVersion, list);
    }
    if (!STATE_CHANGING.has(method)) throw methodNotAllowed();
    return this.write(req, res, target, query);
  }

  private async write(
    req: IncomingMessage,
    res: ServerResponse,
    target: ResourceRoute,
    query: URLSearchParams,
  ): Promise<void> {
    const { store } = this.options;
    const { type, namespace, name, subresource } = target;
    const method = req.method ?? '';
    const body = await readBody(req, this.options.maxBodyBytes ?? 1 << 20);
    if (method === 'DELETE' && type.name === 'pods' && name !== undefined && subresource === undefined) {
      return sendJson(res, 200, deletePod(store, namespace as string, name, query, body));
    }
    if (type.name !== 'deployments' || name === undefined || (subresource !== undefined && subresource !== 'scale'))
      throw methodNotAllowed();
    if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
    if (query.has('dryRun')) throw badRequest('dryRun is not supported by this API');
    // A PUT without a Content-Type is JSON, as the API server reads it (kubectl's scale client sends none).
    let patchType: PatchType | undefined;
    const contentType = mediaType(req.headers['content-type']);
    if (method === 'PATCH') {
      if (!(PATCH_TYPES as readonly string[]).includes(contentType)) {
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
        );
      }
      patchType = contentType as PatchType;
    } else if (contentType !== 'application/json' && contentType !== '') {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        'the body of the request was in an unknown format - accepted media types include: application/json',
      );
    }
    const input = parseJson(body);
    const result =
      subresource === 'scale'
        ? this.writes.writeScale(namespace as string, name, input, patchType)
        : this.writes.writeDeployment(namespace as string, name, input, patchType);
    return sendJson(res, 200, result);
  }

  private reply(
    res: ServerResponse,
    representation: Representation,
    resource: ResourceRoute['type']['name'],
    objects: Parameters<typeof toTable>[1],
    resourceVersion: string,
    json: unknown,
  ): void {
    if (representation.as === 'json') return sendJson(res, 200, json);
    const table = toTable(resource, objects, resourceVersion, {
      apiVersion: representation.apiVersion,
      includeObject: representation.includeObject,
    });
    sendJson(res, 200, table, tableContentType(representation.apiVersion));
  }
}
