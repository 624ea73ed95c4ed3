// Reading requests and writing answers the way the API server does: bounded JSON bodies, Status errors,
// and content negotiation between plain JSON and the meta.k8s.io Table that `kubectl get` asks for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJson, type Json } from './json.js';
import { ApiError, badRequest, type Status } from './status.js';
import type { IncludeObject } from './tables.js';

/** The methods that change state: the ones a foreign Origin may not send, and the ones that carry a body. */
export const STATE_CHANGING: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'content-type': contentType,
    'cache-control': 'no-cache, private',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  sendJson(res, status.code, status);
}

/** The body, at most `limit` bytes (413 beyond: the connection closes rather than read the rest). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than ${limit} bytes`);
  if (Number(req.headers['content-length']) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A JSON body: a 400 ApiError when it is empty, not JSON, nested too deeply or names a prototype (json.ts). */
export const parseBody = (body: Buffer): Json => parseJson(body.toString('utf8'));

/** The media type without its parameters, lower-cased: `application/merge-patch+json`. */
export const mediaType = (header: string | undefined) => (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

export type Representation = { as: 'json' } | { as: 'table'; apiVersion: string; includeObject: IncludeObject };

/**
 * What the Accept header allows, in its order: plain JSON, or a meta.k8s.io Table (`application/json;
 * as=Table;v=v1;g=meta.k8s.io`). Undefined when it allows neither (protobuf only, say): 406.
 */
export function negotiate(accept: string | undefined, includeObject: string | null): Representation | undefined {
  if (!accept?.trim()) return { as: 'json' };
  for (const range of accept.split(',')) {
    const [type = '', ...rawParams] = range.split(';').map((part) => part.trim());
    const params = Object.fromEntries(rawParams.map((param) => param.split('=').map((s) => s.trim().toLowerCase())));
    if (!['application/json', 'application/*', '*/*'].includes(type.toLowerCase())) continue;
    if (params.as === undefined) return { as: 'json' };
    if (params.as === 'table' && params.g === 'meta.k8s.io' && (params.v === 'v1' || params.v === 'v1beta1')) {
      const include = includeObject === 'None' || includeObject === 'Object' ? includeObject : 'Metadata';
      return { as: 'table', apiVersion: `meta.k8s.io/${params.v}`, includeObject: include };
    }
  }
  return undefined;
}

export const tableContentType = (apiVersion: string) =>
  `application/json;as=Table;v=${apiVersion.split('/')[1]};g=meta.k8s.io`;

/** A whole number from a query parameter, or a 400 naming it. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d{1,12}$/.test(raw)) throw badRequest(`${name}: invalid value "${raw}": not a whole number`);
  return Number(raw);
}

export const boolParam = (query: URLSearchParams, name: string) => ['true', '1'].includes(query.get(name) ?? '');
