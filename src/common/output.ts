// What the kit's programs print for other programs to read, each format beside its parser, so that the
// lab, the tests and the benchmarks read them one way:
//   - the server's `listening` line (logfmt), which says where it listens, and the xDS control plane's;
//   - the clients' reply lines, the post's `#N: <ip>` and `Error: <message>`;
//   - the clients' machine-readable call records (`--output jsonl`): one JSON object per call.

/** Where a server listens, from its `listening` line. */
export interface Listening {
  podIp: string;
  pod: string;
  http: { host: string; port: number };
  grpc: { host: string; port: number };
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** The fields of the server's `listening` log line (log() writes them as logfmt). */
export function listeningFields(listening: Listening): Record<string, string> {
  return {
    pod_ip: listening.podIp,
    pod: listening.pod,
    http: hostPort(listening.http.host, listening.http.port),
    grpc: hostPort(listening.grpc.host, listening.grpc.port),
  };
}

const splitHostPort = (text: string): { host: string; port: number } | undefined => {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text);
  return match ? { host: match[1] as string, port: Number(match[2]) } : undefined;
};

/** Reads logfmt `key=value` pairs (values bare or JSON-quoted). */
export function parseLogfmt(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of line.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const [, key, raw = ''] = match;
    fields[key as string] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  }
  return fields;
}

/** The server's `listening` line, or undefined for any other line. */
export function parseListening(line: string): Listening | undefined {
  const fields = parseLogfmt(line);
  if (fields.msg !== 'listening' || fields.http === undefined || fields.grpc === undefined) return undefined;
  const http = splitHostPort(fields.http);
  const grpc = splitHostPort(fields.grpc);
  if (!http || !grpc) return undefined;
  return { podIp: fields.pod_ip ?? '', pod: fields.pod ?? '', http, grpc };
}

/** The fields of the xDS control plane's `listening` line that say where it serves ADS. */
export const adsListeningFields = (host: string, port: number): Record<string, string> => ({
  ads: hostPort(host, port),
});

/** Where the xDS control plane serves ADS, from its `listening` line; undefined for any other line. */
export function parseAdsListening(line: string): { host: string; port: number } | undefined {
  const fields = parseLogfmt(line);
  return fields.msg === 'listening' && fields.ads !== undefined ? splitHostPort(fields.ads) : undefined;
}

/** A client's line: a reply from a pod, or a failed call. */
export type ReplyLine = { n: number; ip: string } | { error: string };

export const formatReply = (n: number, ip: string): string => `#${n}: ${ip}`;
export const formatFailure = (message: string): string => `Error: ${message}`;

export function parseReplyLine(line: string): ReplyLine | undefined {
  const reply = /^#(\d+): (\S+)$/.exec(line);
  if (reply) return { n: Number(reply[1]), ip: reply[2] as string };
  if (line.startsWith('Error: ')) return { error: line.slice('Error: '.length) };
  return undefined;
}

/**
 * One call, as a client reports it with `--output jsonl`: when it started (ms since the Unix epoch, with
 * a fraction), how long it took (ms), who answered (the pod IP; '' when nobody did) and how it ended
 * (the gRPC status's name, or the HTTP status for client-http: 'OK' for a 200).
 */
export interface CallRecord {
  /** the call's number, from 1, in the order calls were started */
  n: number;
  /** start, ms since the Unix epoch */
  t: number;
  /** latency, ms */
  ms: number;
  /** the pod IP that answered; '' for a failed call */
  pod: string;
  /** 'OK', or the status name: 'UNAVAILABLE', 'DEADLINE_EXCEEDED', …; 'HTTP 503' for client-http */
  code: string;
  /** the error's message, for a failed call */
  error?: string;
}

export const formatCall = (call: CallRecord): string => JSON.stringify(call);

/** A `--output jsonl` line, or undefined for a line that is not one (checked field by field). */
export function parseCall(line: string): CallRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const call = value as Partial<CallRecord>;
  if (
    typeof call.n !== 'number' ||
    typeof call.t !== 'number' ||
    typeof call.ms !== 'number' ||
    typeof call.pod !== 'string' ||
    typeof call.code !== 'string'
  ) {
    return undefined;
  }
  return {
    n: call.n,
    t: call.t,
    ms: call.ms,
    pod: call.pod,
    code: call.code,
    ...(typeof call.error === 'string' && { error: call.error }),
  };
}

/** `lab up`'s ready line: where everything it started listens, for programs that drive it. */
export interface LabReady {
  api: number;
  http: number;
  grpc: number;
  mesh: number;
  dashboard: number;
  kubeconfig: string;
}

/** The fields of the ready line (log() writes them as logfmt after msg=ready). */
export function labReadyFields(ready: LabReady): Record<string, string> {
  return {
    api: String(ready.api),
    http: String(ready.http),
    grpc: String(ready.grpc),
    mesh: String(ready.mesh),
    dashboard: String(ready.dashboard),
    kubeconfig: ready.kubeconfig,
  };
}

export function parseLabReady(line: string): LabReady | undefined {
  const fields = parseLogfmt(line);
  if (fields.msg !== 'ready') return undefined;
  const port = (key: string) => (/^\d+$/.test(fields[key] ?? '') ? Number(fields[key]) : undefined);
  const [api, http, grpc, mesh, dashboard] = ['api', 'http', 'grpc', 'mesh', 'dashboard'].map(port);
  if (api === undefined || http === undefined || grpc === undefined || mesh === undefined || dashboard === undefined) {
    return undefined;
  }
  return { api, http, grpc, mesh, dashboard, kubeconfig: fields.kubeconfig ?? '' };
}
