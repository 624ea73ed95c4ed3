// client-http URL: GET the URL in a loop and print which pod answered.
// A new TCP connection per request by default (as the original), so an L4 balancer spreads them.
import { Agent as HttpAgent, get as httpGet, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, get as httpsGet } from 'node:https';
import { command, usageError } from '../common/cli.js';
import { askInALoop, loopOptions, type Ask } from './loop.js';

const TIMEOUT_MS = 5000;

const parser = command(
  'client-http',
  '$0 URL [options]\n\nGETs URL (e.g. http://127.0.0.1:30080/addr) in a loop and prints "#N: <ip>" for each reply.\n' +
    'Each request opens a new connection unless --keepalive is given.',
)
  .positional('URL', { type: 'string', describe: 'the /addr endpoint to ask' })
  .options({
    ...loopOptions,
    keepalive: { type: 'boolean', default: false, describe: 'reuse one connection (HTTP/1.1 keep-alive) instead' },
  })
  .demandCommand(1, 1, 'URL is missing', 'give exactly one URL');
const args = parser.parseSync();

const raw = String(args._[0]);
let url: URL;
try {
  url = new URL(raw);
} catch {
  usageError(parser, 'client-http', `not a URL: ${raw} (try http://127.0.0.1:30080/addr)`);
}
if (url.protocol !== 'http:' && url.protocol !== 'https:') {
  usageError(parser, 'client-http', `URL must start with http:// or https://, got ${url.protocol}`);
}

const secure = url.protocol === 'https:';
// agent false: a fresh agent per request, which sends "Connection: close".
const agent = args.keepalive ? new (secure ? HttpsAgent : HttpAgent)({ keepAlive: true, maxSockets: 1 }) : false;

const ask: Ask = (stop) =>
  new Promise((resolve, reject) => {
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    const request = (secure ? httpsGet : httpGet)(
      url,
      { agent, signal: AbortSignal.any([stop, timeout]) },
      (response: IncomingMessage) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('error', reject);
        response.on('end', () => {
          if (response.statusCode === 200) resolve(body.trim());
          else reject(new Error(`HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trim()));
        });
      },
    );
    request.on('error', (error) =>
      reject(timeout.aborted ? new Error(`no reply within ${TIMEOUT_MS / 1000} s`) : readable(error)),
    );
  });

/** OpenSSL's own words ("…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number") tell a
 *  user less than what they mean here. */
function readable(error: Error & { code?: string }): Error {
  if (secure && (error.code === 'EPROTO' || error.code?.startsWith('ERR_SSL_'))) {
    return new Error(`TLS handshake with ${url.host} failed: it does not speak HTTPS there (try http://)`);
  }
  return error;
}

await askInALoop(ask, { intervalMs: args.interval, count: args.count, stdinLifeline: args['exit-on-stdin-close'] });
if (agent) agent.destroy();
