// One HTTP request as a hostile or unusual client sends it: any method, any headers (a foreign Host or
// Origin), any body, and the answer read for a bounded time (a watch never ends by itself).
import { request } from 'node:http';

export interface RawResponse {
  status: number;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

/** One HTTP request, any method, headers and body; the body read for at most `readMs` (watches go on). */
export function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
  readMs = 3000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A body goes with its length, as kubectl sends it (Node would frame a DELETE's body with neither).
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const allHeaders = { ...length, ...headers };
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: allHeaders, setHost: !('host' in headers) },
      (res) => {
        let text = '';
        const done = () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        };
        const timer = setTimeout(() => {
          res.destroy();
          done();
        }, readMs);
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', done);
        res.on('error', done);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
