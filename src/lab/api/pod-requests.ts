// The requests on a pod beyond reading it: `kubectl delete pod` (graceful: the pod turns Terminating and
// kubectl waits until its kubelet has deleted it) and `kubectl logs` (text a hook supplies, followed
// while the client stays when it asks `follow=true`).
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { boolParam, intParam, parseJson } from './http-io.js';
import type { KubeObject, ObjectStore } from './store.js';
import { ApiError, badRequest } from './status.js';

export interface PodLogRequest {
  namespace: string;
  pod: string;
  container: string;
  follow: boolean;
  tailLines?: number;
  previous: boolean;
  /** aborted when the client goes away */
  signal: AbortSignal;
}

/**
 * Supplies a container's output: the text so far, or chunks as they come (for follow). Throw an ApiError
 * to answer with its Status (say, 400 when the container has not started yet).
 */
export type PodLogs = (
  request: PodLogRequest,
) => string | AsyncIterable<string | Uint8Array> | Promise<string | AsyncIterable<string | Uint8Array>>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function deletePod(
  store: ObjectStore,
  namespace: string,
  name: string,
  query: URLSearchParams,
  body: Buffer,
): KubeObject {
  const options = body.length ? parseJson(body) : {};
  if (!isObject(options)) throw badRequest('DeleteOptions must be an object');
  if (options.dryRun !== undefined || query.has('dryRun')) throw badRequest('dryRun is not supported by this API');
  const grace = options.gracePeriodSeconds ?? intParam(query, 'gracePeriodSeconds');
  if (grace !== undefined && grace !== null && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) {
    throw badRequest(
      `gracePeriodSeconds: invalid value ${JSON.stringify(grace)}: a whole number of seconds, 0 or more`,
    );
  }
  const current = store.read('pods', namespace, name);
  const preconditions = isObject(options.preconditions) ? options.preconditions : {};
  for (const field of ['uid', 'resourceVersion'] as const) {
    const asked = preconditions[field];
    if (asked !== undefined && asked !== null && asked !== current.metadata[field]) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: ${field} in precondition: ${String(asked)}, ${field} in object meta: ${String(current.metadata[field])}`,
      );
    }
  }
  return store.delete('pods', namespace, name, { gracePeriodSeconds: (grace ?? undefined) as number | undefined });
}

export async function servePodLog(
  res: ServerResponse,
  store: ObjectStore,
  logs: PodLogs | undefined,
  namespace: string,
  name: string,
  query: URLSearchParams,
): Promise<void> {
  const pod = store.read('pods', namespace, name);
  const names = ((pod.spec as { containers?: Array<{ name: string }> } | undefined)?.containers ?? []).map(
    (c) => c.name,
  );
  const container = query.get('container') || (names.length === 1 ? names[0] : undefined);
  if (!container)
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  const tailLines = intParam(query, 'tailLines');
  if (tailLines !== undefined && tailLines < 0) throw badRequest('tailLines: must be 0 or more');
  if (!logs) throw new ApiError(404, 'NotFound', `no logs are kept for pod ${name}`);
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const output = await logs({
    namespace,
    pod: name,
    container,
    follow: boolParam(query, 'follow'),
    tailLines,
    previous: boolParam(query, 'previous'),
    signal: abort.signal,
  });
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' });
  if (typeof output === 'string') {
    const lines = output.split(/(?<=\n)/);
    res.end(tailLines === undefined ? output : lines.slice(lines.length - tailLines).join(''));
    return;
  }
  res.flushHeaders();
  for await (const chunk of output) {
    if (abort.signal.aborted) break;
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  res.end();
}
