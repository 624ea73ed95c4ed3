// What counts as a failure of an endpoint, as linkerd2-proxy classifies responses for failure accrual
// (linkerd/app/core/src/classify.rs):
//   - a gRPC request (content-type application/grpc…, l.222-228) is judged by its grpc-status, from the
//     response headers (a trailers-only response) or else the trailers (l.132-135, 171-185). Failures:
//     UNKNOWN, DEADLINE_EXCEEDED, PERMISSION_DENIED, INTERNAL, UNAVAILABLE, DATA_LOSS
//     (linkerd/proxy/client-policy/src/grpc.rs:80-99); a number beyond the known codes reads as UNKNOWN
//     (tonic's Code::from_i32); a stream that ends without any grpc-status is a success (l.178). The
//     HTTP status of a gRPC response does not count.
//   - any other request: a 5xx status (linkerd/proxy/client-policy/src/http.rs:113-119).
//   - an error — the stream reset, the connection lost, a route timeout — is a failure (l.239-244).
//   - a response the caller dropped before its headers is never classified (the future is dropped
//     without a result: linkerd/http/classify/src/channel.rs:143-165); dropped after its headers, a gRPC
//     stream counts as ended without trailers, a success (channel.rs:220-227).
import { status } from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http2';

export type ResponseClass = 'success' | 'failure';

const GRPC_FAILURES = new Set<number>([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.PERMISSION_DENIED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);
/** tonic's Code::from_i32 knows 0–16; anything else is UNKNOWN. */
const LAST_GRPC_CODE = status.UNAUTHENTICATED;

export function isGrpc(headers: IncomingHttpHeaders): boolean {
  return headers['content-type']?.startsWith('application/grpc') ?? false;
}

/** The grpc-status in these headers as Linkerd reads it (`parse::<u16>()`), or undefined when absent or unreadable. */
export function grpcCode(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['grpc-status'];
  if (typeof value !== 'string' || !/^\+?[0-9]+$/u.test(value)) return undefined;
  const code = Number(value.replace('+', ''));
  if (code > 0xffff) return undefined;
  return code > LAST_GRPC_CODE ? status.UNKNOWN : code;
}

/** The class as soon as the response headers tell it, or undefined when it is decided at the end of the stream. */
export function classifyHeaders(grpc: boolean, headers: IncomingHttpHeaders): ResponseClass | undefined {
  if (!grpc) return Number(headers[':status']) >= 500 && Number(headers[':status']) <= 599 ? 'failure' : 'success';
  const code = grpcCode(headers);
  if (code === undefined) return undefined;
  return GRPC_FAILURES.has(code) ? 'failure' : 'success';
}

/** The class of a gRPC stream at its end, from its trailers (none, or no grpc-status: a success). */
export function classifyTrailers(trailers: IncomingHttpHeaders | undefined): ResponseClass {
  const code = trailers === undefined ? undefined : grpcCode(trailers);
  return code !== undefined && GRPC_FAILURES.has(code) ? 'failure' : 'success';
}
