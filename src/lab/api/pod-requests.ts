// The requests on a pod beyond reading it: `kubectl delete pod` (graceful: the pod turns Terminating and
// kubectl waits until its kubelet has deleted it) and `kubectl logs` (text a hook supplies, followed
// while the client stays when it asks `follow=true`, with the API server's options and their checks).
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { boolParam, intParam, parseBody } from './http-io.js';
import { isObject } from './json.js';
import type { KubeObject, ObjectStore } from './store.js';
import { ApiError, badRequest, fieldErrors, invalidObject, type FieldError } from './status.js';

export interface PodLogRequest {
  namespace: string;
  pod: string;
  container: string;
  follow: boolean;
  /** the last lines only: the server cuts a text answer itself; a stream must start this many lines back */
  tailLines?: number;
  /** output written before this time is left out (sinceSeconds, sinceTime) */
  since?: Date;
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

export function deletePod(
  store: ObjectStore,
  namespace: string,
  name: string,
  query: URLSearchParams,
  body: Buffer,
): KubeObject {
  const options = body.length ? parseBody(body) : {};
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
  return store.delete('pods', namespace, name, { gracePeriodSeconds: grace ?? undefined });
}

interface LogOptions {
  tailLines?: number;
  limitBytes?: number;
  since?: Date;
}

/** The query's log options, checked as ValidatePodLogOptions checks them (kubernetes pkg/apis/core/validation). */
function logOptions(query: URLSearchParams, pod: string, now: Date): LogOptions {
  const tailLines = intParam(query, 'tailLines');
  const limitBytes = intParam(query, 'limitBytes');
  const sinceSeconds = intParam(query, 'sinceSeconds');
  const sinceTimeText = query.get('sinceTime');
  let sinceTime: Date | undefined;
  if (sinceTimeText) {
    sinceTime = new Date(sinceTimeText);
    if (Number.isNaN(sinceTime.getTime()))
      throw badRequest(`sinceTime: invalid value "${sinceTimeText}": not an RFC 3339 time`);
  }
  const errors: FieldError[] = [];
  if (tailLines !== undefined && tailLines < 0)
    errors.push(fieldErrors.invalid('tailLines', tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1)
    errors.push(fieldErrors.invalid('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime !== undefined)
    errors.push(fieldErrors.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  else if (sinceSeconds !== undefined && sinceSeconds < 1)
    errors.push(fieldErrors.invalid('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  if (errors.length) throw invalidObject('PodLogOptions', '', pod, errors);
  const since = sinceSeconds !== undefined ? new Date(now.getTime() - sinceSeconds * 1000) : sinceTime;
  return { tailLines, limitBytes, since };
}

/** The last `lines` lines of a text (a last line without its newline counts). */
function tail(text: string, lines: number | undefined): string {
  if (lines === undefined) return text;
  const all = text.split(/(?<=\n)/);
  return lines === 0 ? '' : all.slice(-lines).join('');
}

export async function servePodLog(
  res: ServerResponse,
  store: ObjectStore,
  logs: PodLogs | undefined,
  namespace: string,
  name: string,
  query: URLSearchParams,
  now = new Date(),
): Promise<void> {
  const pod = store.read('pods', namespace, name);
  const names = ((pod.spec as { containers?: Array<{ name: string }> } | undefined)?.containers ?? []).map(
    (c) => c.name,
  );
  const container = query.get('container') || (names.length === 1 ? names[0] : undefined);
  if (!container)
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  const { tailLines, limitBytes, since } = logOptions(query, name, now);
  if (!logs) throw new ApiError(404, 'NotFound', `no logs are kept for pod ${name}`);
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const output = await logs({
    namespace,
    pod: name,
    container,
    follow: boolParam(query, 'follow'),
    tailLines,
    since,
    previous: boolParam(query, 'previous'),
    signal: abort.signal,
  });
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' });
  // limitBytes: the answer ends after that many bytes, mid-line if it falls there (PodLogOptions.limitBytes).
  let budget = limitBytes ?? Number.POSITIVE_INFINITY;
  const take = (chunk: string | Uint8Array) => {
    const bytes =
      typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const part = bytes.length > budget ? bytes.subarray(0, budget) : bytes;
    budget -= part.length;
    return part;
  };
  if (typeof output === 'string') {
    res.end(take(tail(output, tailLines)));
    return;
  }
  res.flushHeaders();
  for await (const chunk of output) {
    if (abort.signal.aborted) break;
    if (!res.write(take(chunk))) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    if (budget <= 0) break;
  }
  res.end();
}
