// Who may talk to the lab's API. kubectl and client libraries send no Origin; a browser always does on a
// cross-origin write. So: a Host that is not the API's own is refused (DNS rebinding: a page whose name
// now resolves to 127.0.0.1), a state-changing request from a foreign Origin is refused (a page the
// user happens to open), and the origins named explicitly (the lab's dashboard) get CORS answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATE_CHANGING } from './http-io.js';
import { ApiError } from './status.js';

export class OriginPolicy {
  private readonly trusted: Set<string>;

  constructor(trustedOrigins: readonly string[] = []) {
    this.trusted = new Set(trustedOrigins.map((origin) => origin.toLowerCase()));
  }

  /**
   * Throws a 403 ApiError for a request the API must not serve; for a trusted origin, sets the CORS headers
   * and returns true when the request was a preflight (OPTIONS) that is now answered.
   */
  admit(req: IncomingMessage, res: ServerResponse, port: number): boolean {
    const own = [`127.0.0.1:${port}`, `localhost:${port}`];
    const host = req.headers.host?.toLowerCase() ?? '';
    if (!own.includes(host))
      throw new ApiError(403, 'Forbidden', `host ${JSON.stringify(host)} is not this API's (${own.join(' or ')})`);
    const origin = req.headers.origin?.toLowerCase();
    if (origin === undefined || own.some((h) => origin === `http://${h}`)) return false;
    const method = req.method ?? '';
    if (!this.trusted.has(origin)) {
      if (STATE_CHANGING.has(method) || method === 'OPTIONS')
        throw new ApiError(403, 'Forbidden', `requests from origin ${origin} may not change the lab's state`);
      return false;
    }
    res.setHeader('access-control-allow-origin', req.headers.origin as string);
    res.setHeader('vary', 'Origin');
    if (method !== 'OPTIONS') return false;
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, PUT, PATCH, DELETE',
      'access-control-allow-headers': 'accept, content-type',
      'access-control-max-age': '600',
    });
    res.end();
    return true;
  }
}
