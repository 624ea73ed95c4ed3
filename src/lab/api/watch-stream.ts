// A watch over HTTP as the API server streams it: headers at once, then one JSON event per line
// (`{"type":"ADDED","object":{…}}`), Table-wrapped when the client asked for Tables (`kubectl get -w`),
// until timeoutSeconds, the client's close, or the server's stop. A resourceVersion older than the
// store's history gets the real server's answer: an ERROR event carrying a 410 Expired Status. An event
// that cannot be written (an object no printer can print) ends the watch with an ERROR event carrying a
// 500, as the API server ends a watch on an internal error; the client lists and watches again.
import type { ServerResponse } from 'node:http';
import type { Representation } from './http-io.js';
import { errorText } from '../../common/cli.js';
import { endpointsSeen } from '../../common/trace.js';
import { sendStatus, tableContentType } from './http-io.js';
import type { ResourceName } from './resources.js';
import type { ObjectStore, WatchEvent, WatchOptions } from './store.js';
import { ApiError, statusOf } from './status.js';
import { toTable } from './tables.js';

export interface WatchRequest extends WatchOptions {
  resource: ResourceName;
  representation: Representation;
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  /** the watch-list protocol: ADDED for every object, then a BOOKMARK marking the end of them */
  sendInitialEvents?: boolean;
}

export interface WatchLimits {
  bookmarkIntervalMs: number;
  /** a client that reads slower than this much is dropped, as the API server drops slow watchers */
  maxBufferedBytes: number;
  /** the longest a watch lasts (the API server's minRequestTimeout) */
  maxSeconds: number;
}

/** Streams the watch until its timeout, the client's close, or a call of the `end` it adds to `stopAll`. */
export function serveWatch(
  res: ServerResponse,
  store: ObjectStore,
  request: WatchRequest,
  limits: WatchLimits,
  stopAll: Set<() => void>,
): void {
  const { representation } = request;
  let first = true;
  const line = (event: WatchEvent) => {
    if (representation.as !== 'table' || event.type === 'BOOKMARK') return JSON.stringify(event);
    const table = toTable(request.resource, [event.object], event.object.metadata.resourceVersion ?? '', {
      apiVersion: representation.apiVersion,
      includeObject: representation.includeObject,
      withColumns: first,
    });
    first = false;
    return JSON.stringify({ type: event.type, object: table });
  };
  let resourceVersion = request.resourceVersion;
  if (request.sendInitialEvents === false && !resourceVersion) resourceVersion = store.resourceVersion;
  const writeHead = () => {
    res.writeHead(200, {
      'content-type': representation.as === 'table' ? tableContentType(representation.apiVersion) : 'application/json',
      'cache-control': 'no-cache, private',
    });
    res.flushHeaders();
  };
  let end = () => {};
  const write = (event: WatchEvent) => {
    if (res.writableEnded) return;
    try {
      res.write(`${line(event)}\n`);
    } catch (error) {
      const status = statusOf(500, 'InternalError', `internal error: ${errorText(error)}`);
      res.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      end();
      return;
    }
    if (res.writableLength > limits.maxBufferedBytes) end();
    if (request.resource === 'endpointslices') sliceSent(event);
  };
  let watcher;
  try {
    watcher = store.watch(
      request.resource,
      { ...request, resourceVersion: request.sendInitialEvents ? undefined : resourceVersion },
      write,
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code !== 410) return sendStatus(res, error.status);
    writeHead();
    res.end(`${JSON.stringify({ type: 'ERROR', object: error.status })}\n`);
    return;
  }
  writeHead();
  if (request.sendInitialEvents) watcher.bookmark({ 'k8s.io/initial-events-end': 'true' });
  const seconds = Math.min(
    request.timeoutSeconds && request.timeoutSeconds > 0 ? request.timeoutSeconds : limits.maxSeconds,
    limits.maxSeconds,
  );
  const timeout = setTimeout(() => end(), seconds * 1000);
  const bookmarks = request.allowWatchBookmarks
    ? setInterval(() => watcher.bookmark(), limits.bookmarkIntervalMs)
    : undefined;
  const stopped = watcher;
  end = () => {
    clearTimeout(timeout);
    clearInterval(bookmarks);
    stopped.stop();
    stopAll.delete(end);
    if (!res.writableEnded) res.end();
  };
  stopAll.add(end);
  res.on('close', end);
}

/** An EndpointSlice event sent to a watcher: what it now tells of the Service's ready pods (common/trace.ts). */
function sliceSent(event: WatchEvent): void {
  const service = event.object.metadata.labels?.['kubernetes.io/service-name'];
  if (!service || event.type === 'BOOKMARK') return;
  const endpoints = (event.object.endpoints ?? []) as Array<{ addresses?: string[]; conditions?: { ready?: boolean } }>;
  const ready =
    event.type === 'DELETED'
      ? []
      : endpoints.filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses ?? []);
  endpointsSeen(`watch:${service}`, ready);
}
