// client-http's requests: GET the URL, the body is the pod's IP. A new TCP connection per request by
// default (as the original client), so that an L4 balancer spreads them; with keep-alive, reused ones.
import { Agent as HttpAgent, get as httpGet, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, get as httpsGet } from 'node:https';
import type { Ask, Outcome } from './outcome.js';

export interface RequestOptions {
  keepalive: boolean;
  /** Keep-alive with one request at a time keeps one connection; overlapping requests need one each. */
  overlapping: boolean;
  deadlineMs: number;
}

export class AddrRequests {
  readonly #secure: boolean;
  /** false: a fresh agent per request, which sends "Connection: close". */
  readonly #agent: HttpAgent | false;

  constructor(
    private readonly url: URL,
    private readonly options: RequestOptions,
  ) {
    this.#secure = url.protocol === 'https:';
    const Agent = this.#secure ? HttpsAgent : HttpAgent;
    this.#agent = options.keepalive
      ? new Agent({ keepAlive: true, maxSockets: options.overlapping ? Infinity : 1 })
      : false;
  }

  readonly ask: Ask = (stop) =>
    new Promise<Outcome>((resolve) => {
      const { deadlineMs } = this.options;
      const deadline = AbortSignal.timeout(deadlineMs);
      const request = (this.#secure ? httpsGet : httpGet)(
        this.url,
        { agent: this.#agent, signal: AbortSignal.any([stop, deadline]) },
        (response: IncomingMessage) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('error', (error) => resolve(this.#failure(error, deadline)));
          response.on('end', () => {
            if (response.statusCode === 200) resolve({ pod: body.trim() });
            else {
              const code = `HTTP ${response.statusCode}`;
              resolve({ code, error: `${code} ${response.statusMessage ?? ''}`.trim() });
            }
          });
        },
      );
      request.on('error', (error) => resolve(this.#failure(error, deadline)));
    });

  close(): void {
    if (this.#agent) this.#agent.destroy();
  }

  /** The error's kind as its code (ECONNREFUSED, ECONNRESET, …; TIMEOUT past the deadline), and a message
   *  a user can act on: OpenSSL's own words ("…:error:0A00010B:SSL routines:ssl3_get_record:wrong version
   *  number") tell less than what they mean here. */
  #failure(error: Error & { code?: string }, deadline: AbortSignal): Outcome {
    if (deadline.aborted) return { code: 'TIMEOUT', error: `no reply within ${this.options.deadlineMs} ms` };
    const code = error.code ?? error.name;
    if (this.#secure && (error.code === 'EPROTO' || error.code?.startsWith('ERR_SSL_'))) {
      return {
        code,
        error: `TLS handshake with ${this.url.host} failed: it does not speak HTTPS there (try http://)`,
      };
    }
    return { code, error: error.message };
  }
}
