// Cluster DNS for a headless Service, as CoreDNS answers it: the Service's name resolves to the ready
// pods' IPs, one A record each (no ClusterIP in between), following every endpoint change at once.
// A client that resolves the name itself (grpc-js's `dns://HOST:PORT/name:port` target) reaches each
// pod directly; when it asks again is up to the client. Other names in the cluster domain are NXDOMAIN.
import { createSocket, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';
import { endpointsSeen } from '../../common/trace.js';
import type { Endpoints } from './endpoints.js';

const NXDOMAIN = 3;
/** CoreDNS's kubernetes plugin answers with a 5 s TTL by default; grpc-js ignores TTLs anyway. */
const TTL_SECONDS = 5;

export class DnsServer {
  /** Queries answered, by record type: how often clients asked again. */
  readonly queries = new Map<string, number>();
  readonly #socket: Socket;

  /** `name`: the headless Service's name, addr-server-headless.grpc-lb.svc.cluster.local */
  constructor(
    readonly name: string,
    endpoints: Endpoints,
  ) {
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
      const known = question.name.toLowerCase() === this.name;
      if (known) this.queries.set(question.type, (this.queries.get(question.type) ?? 0) + 1);
      const answers: packet.Answer[] =
        known && question.type === 'A'
          ? endpoints
              .list()
              .map((endpoint) => ({ type: 'A', name: question.name, ttl: TTL_SECONDS, data: endpoint.ip }))
          : []; // AAAA and TXT (grpc-js asks for its service config there): the name exists, no such records
      const reply = packet.encode({
        type: 'response',
        id: query.id,
        flags: packet.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & packet.RECURSION_DESIRED) | (known ? 0 : NXDOMAIN),
        questions: [question],
        answers,
      });
      this.#socket.send(reply, peer.port, peer.address);
      if (known && question.type === 'A')
        endpointsSeen(
          `dns:${this.name}`,
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

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
