// The cluster DNS, as CoreDNS's kubernetes plugin answers for headless Services: SERVICE.NAMESPACE.svc.
// DOMAIN resolves to the IPs of the Service's ready pods, one A record each (no ClusterIP in between),
// following every endpoint change at once. Which names it knows is the cluster's to say (`lookup`): the
// lab answers every headless Service of its namespace. A client that resolves the name itself (grpc-js's
// `dns://HOST:PORT/name:port` target) reaches each pod directly; when it asks again is up to the client.
// Other names are NXDOMAIN — the lab's ClusterIPs are labels, not addresses, so a ClusterIP Service's name
// would resolve to nothing a process could reach: the lab points its processes at kube-proxy instead.
import { createSocket, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';
import { endpointsSeen } from '../../common/trace.js';
import type { Endpoints } from './endpoints.js';

const NXDOMAIN = 3;
/** CoreDNS's kubernetes plugin answers with a 5 s TTL by default; grpc-js ignores TTLs anyway. */
const TTL_SECONDS = 5;

/** The endpoints a name (lowercase, no trailing dot) resolves to, or undefined for a name it does not know. */
export type DnsLookup = (name: string) => Endpoints | undefined;

export class DnsServer {
  /** Queries answered, by record type: how often clients asked again. */
  readonly queries = new Map<string, number>();
  readonly #socket: Socket;

  constructor(lookup: DnsLookup) {
    this.#socket = createSocket('udp4');
    this.#socket.on('message', (message, peer) => {
      let query: packet.DecodedPacket;
      try {
        query = packet.decode(message);
      } catch {
        return; // not DNS: dropped, as a resolver does
      }
      const question = query.questions?.[0];
      if (!question) return;
      const name = question.name.toLowerCase().replace(/\.$/, '');
      const endpoints = lookup(name);
      if (endpoints) this.queries.set(question.type, (this.queries.get(question.type) ?? 0) + 1);
      const answers: packet.Answer[] =
        endpoints && question.type === 'A'
          ? endpoints
              .list()
              .map((endpoint) => ({ type: 'A', name: question.name, ttl: TTL_SECONDS, data: endpoint.ip }))
          : []; // AAAA and TXT (grpc-js asks for its service config there): the name exists, no such records
      const reply = packet.encode({
        type: 'response',
        id: query.id,
        flags:
          packet.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & packet.RECURSION_DESIRED) | (endpoints ? 0 : NXDOMAIN),
        questions: [question],
        answers,
      });
      this.#socket.send(reply, peer.port, peer.address);
      if (endpoints && question.type === 'A')
        endpointsSeen(
          `dns:${name}`,
          endpoints.list().map((endpoint) => endpoint.ip),
        );
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind(port, host, () => {
        this.#socket.off('error', reject);
        resolve(this.#socket.address().port);
      });
    });
  }

  /** Where it listens (after listen). */
  get port(): number {
    return this.#socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** SERVICE.NAMESPACE.svc.DOMAIN → { service, namespace }, or undefined for a name of another form. */
export function serviceOfName(name: string, domain: string): { service: string; namespace: string } | undefined {
  const suffix = `.svc.${domain}`;
  if (!name.endsWith(suffix)) return undefined;
  const [service, namespace, ...rest] = name.slice(0, -suffix.length).split('.');
  return service && namespace && rest.length === 0 ? { service, namespace } : undefined;
}
