// The lab's Kubernetes API server: the part of the API that kubectl and @kubernetes/client-node use here
// (discovery, list/get/watch as JSON or Table, Deployment create, writes, scale and delete, delete pod,
// logs), on loopback, over the store. Requests that change state must come from the API's own origin or a
// trusted one (origins.ts). Whatever goes wrong in one request is that request's answer: a Status, 500 for the
// unexpected, never the end of the process that also runs the lab's pods, Services and mesh.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorText } from '../../common/cli.js';
import { listen } from '../../common/listen.js';
import { DeploymentWrites } from './deployment-writes.js';
import { apiGroup, coreVersions, groupList, resourceList, version } from './discovery.js';
import {
  boolParam,
  intParam,
  mediaType,
  negotiate,
  parseBody,
  readBody,
  sendJson,
  sendStatus,
  STATE_CHANGING,
  tableContentType,
  type Representation,
} from './http-io.js';
import { OriginPolicy } from './origins.js';
import { PATCH_TYPES, type PatchType } from './patch.js';
import { deletePod, servePodLog, type PodLogs } from './pod-requests.js';
import { apiVersionOf } from './resources.js';
import { route, type CollectionRoute, type ObjectRoute } from './routes.js';
import type { KubeObject, ObjectStore } from './store.js';
import { ApiError, badRequest, statusOf, type Status } from './status.js';
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
  /** how long a client has to send its request headers (default 10 s) */
  headersTimeoutMs?: number;
  /** how long a client has to send its whole request, headers and body (default 30 s); a watch's answer may last longer */
  requestTimeoutMs?: number;
}

const notServed = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
const methodNotAllowed = () =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

/** A request that could not be read in time, or not parsed: Node's code, and the answer it gets. */
function clientErrorAnswer(error: NodeJS.ErrnoException): { code: number; text: string; status: Status } {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return {
      code: 408,
      text: 'Request Timeout',
      status: statusOf(408, 'Timeout', 'the request was not received in time'),
    };
  const message = `malformed HTTP request: ${error.code ?? error.message}`;
  return { code: 400, text: 'Bad Request', status: statusOf(400, 'BadRequest', message) };
}

export class KubeApiServer {
  private readonly server: Server;
  private readonly watches = new Set<() => void>();
  private readonly writes: DeploymentWrites;
  private readonly origins: OriginPolicy;
  private boundPort = 0;

  constructor(private readonly options: KubeApiOptions) {
    this.writes = new DeploymentWrites(options.store, options.maxReplicas ?? 100);
    this.origins = new OriginPolicy(options.allowedOrigins);
    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    const requestTimeout = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout);
    this.server = createServer(
      {
        // Node checks these timeouts on a sweep every connectionsCheckingInterval (30 s by default), so a slow
        // client could hold a connection for the timeout plus a sweep. A sweep every tenth of the headers
        // timeout holds the bound. They cover receiving a request only: once it is read, a watch's answer
        // streams for as long as the watch lasts.
        headersTimeout,
        requestTimeout,
        connectionsCheckingInterval: Math.max(50, Math.floor(headersTimeout / 10)),
      },
      (req, res) => {
        this.handle(req, res).catch((error: unknown) => this.fail(res, error));
      },
    );
    // A request Node cannot parse, or that did not arrive in time, still gets a Status, and the server goes on.
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable || error.code === 'ECONNRESET') return socket.destroy();
      const { code, text, status } = clientErrorAnswer(error);
      const body = JSON.stringify(status);
      socket.end(
        `HTTP/1.1 ${code} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
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

  /** The answer to a request that failed: its Status, or 500 for an error nobody meant to send. */
  private fail(res: ServerResponse, error: unknown): void {
    try {
      if (res.headersSent) {
        // Too late for a Status: cut the answer short, so that the client sees it incomplete.
        res.destroy();
        return;
      }
      const status =
        error instanceof ApiError
          ? error.status
          : statusOf(500, 'InternalError', `internal error: ${errorText(error)}`);
      if (status.code === 413) res.setHeader('connection', 'close');
      sendStatus(res, status);
    } catch {
      res.destroy();
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.origins.admit(req, res, this.boundPort)) return;
    // Split by hand: new URL() reads a path like //x as a host name.
    const [pathname = '/', search = ''] = (req.url ?? '/').split(/\?(.*)/s);
    const target = route(pathname);
    const method = req.method ?? 'GET';
    const query = new URLSearchParams(search);
    if (target.to === 'collection') return this.collection(req, res, target, query);
    if (target.to === 'namespaced-object' || target.to === 'cluster-object')
      return this.object(req, res, target, query);
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
      case 'none':
        throw notServed();
    }
  }

  private representation(req: IncomingMessage, query: URLSearchParams): Representation {
    const representation = negotiate(req.headers.accept, query.get('includeObject'));
    if (!representation)
      throw new ApiError(406, 'NotAcceptable', 'only application/json and meta.k8s.io/v1 Table are served');
    return representation;
  }

  /** GET a list, or a watch (`?watch=true`, `/watch/…`), of one namespace or all. */
  private async collection(
    req: IncomingMessage,
    res: ServerResponse,
    target: CollectionRoute,
    query: URLSearchParams,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const { store } = this.options;
    const { type, namespace } = target;
    if (method === 'POST' && type.name === 'deployments' && namespace !== undefined && !target.watchPrefix) {
      const body = await readBody(req, this.options.maxBodyBytes ?? 1 << 20);
      if (query.has('dryRun')) throw badRequest('dryRun is not supported by this API');
      return sendJson(res, 201, this.writes.createDeployment(namespace, parseBody(body)));
    }
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    const representation = this.representation(req, query);
    const fieldSelector = query.get('fieldSelector') ?? undefined;
    if (target.watchPrefix || boolParam(query, 'watch')) {
      if (method === 'HEAD') throw methodNotAllowed();
      return this.watch(res, target, query, representation, fieldSelector);
    }
    const selectors = { namespace, labelSelector: query.get('labelSelector') ?? undefined, fieldSelector };
    const { items, resourceVersion } = store.list(type.name, selectors);
    const list = { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion }, items };
    return this.reply(res, representation, type.name, items, resourceVersion, list);
  }

  private watch(
    res: ServerResponse,
    target: CollectionRoute | ObjectRoute,
    query: URLSearchParams,
    representation: Representation,
    fieldSelector: string | undefined,
  ): void {
    const sendInitialEvents = query.get('sendInitialEvents');
    return serveWatch(
      res,
      this.options.store,
      {
        namespace: target.to === 'cluster-object' ? undefined : target.namespace,
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector,
        resource: target.type.name,
        representation,
        resourceVersion: query.get('resourceVersion') ?? undefined,
        timeoutSeconds: intParam(query, 'timeoutSeconds'),
        allowWatchBookmarks: boolParam(query, 'allowWatchBookmarks'),
        sendInitialEvents: sendInitialEvents === null ? undefined : sendInitialEvents === 'true',
      },
      { bookmarkIntervalMs: this.options.bookmarkIntervalMs ?? 10_000, maxBufferedBytes: 4 << 20, maxSeconds: 1800 },
      this.watches,
    );
  }

  /** One object: GET it (or its scale, or its log), or write it. */
  private async object(
    req: IncomingMessage,
    res: ServerResponse,
    target: ObjectRoute,
    query: URLSearchParams,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    if (STATE_CHANGING.has(method)) return this.write(req, res, target, query);
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    const { store, podLogs } = this.options;
    const { type, name, subresource } = target;
    if (target.to === 'namespaced-object') {
      if (subresource === 'log') return servePodLog(res, store, podLogs, target.namespace, name, query);
      if (subresource === 'scale') return sendJson(res, 200, this.writes.getScale(target.namespace, name));
    }
    const representation = this.representation(req, query);
    if (target.watchPrefix) {
      // The old /watch/…/NAME form: a watch of the one object.
      if (method === 'HEAD') throw methodNotAllowed();
      const byName = `metadata.name=${name}`;
      const fieldSelector = query.get('fieldSelector') ? `${query.get('fieldSelector')},${byName}` : byName;
      return this.watch(res, target, query, representation, fieldSelector);
    }
    const object = store.read(type.name, target.to === 'namespaced-object' ? target.namespace : undefined, name);
    return this.reply(res, representation, type.name, [object], object.metadata.resourceVersion ?? '', object);
  }

  /** The writes this API serves: delete a pod; update, patch or delete a Deployment, or its scale. Others are 405. */
  private async write(
    req: IncomingMessage,
    res: ServerResponse,
    target: ObjectRoute,
    query: URLSearchParams,
  ): Promise<void> {
    const method = req.method ?? '';
    if (target.to !== 'namespaced-object') throw methodNotAllowed();
    const { type, namespace, name, subresource } = target;
    const podDelete = method === 'DELETE' && type.name === 'pods' && subresource === undefined;
    const deploymentDelete = method === 'DELETE' && type.name === 'deployments' && subresource === undefined;
    const deploymentWrite =
      (method === 'PUT' || method === 'PATCH') &&
      type.name === 'deployments' &&
      (subresource === undefined || subresource === 'scale');
    if (!podDelete && !deploymentDelete && !deploymentWrite) throw methodNotAllowed();
    const body = await readBody(req, this.options.maxBodyBytes ?? 1 << 20);
    if (podDelete) return sendJson(res, 200, deletePod(this.options.store, namespace, name, query, body));
    if (deploymentDelete) return sendJson(res, 200, this.writes.deleteDeployment(namespace, name, query, body));
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
    const input = parseBody(body);
    const result =
      subresource === 'scale'
        ? this.writes.writeScale(namespace, name, input, patchType)
        : this.writes.writeDeployment(namespace, name, input, patchType);
    return sendJson(res, 200, result);
  }

  private reply(
    res: ServerResponse,
    representation: Representation,
    resource: ObjectRoute['type']['name'],
    objects: KubeObject[],
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
