// The mesh: an L7 proxy beside the in-mesh client, a model of Linkerd's outbound proxy. It takes the
// client's HTTP/2 connection (mesh-listener.ts) and sends each request — each gRPC call — to an endpoint
// picked per request among those ready (balancer.ts), following endpoint changes at once, on one
// connection per pod (upstream-pool.ts); each call is a ProxiedCall (proxied-call.ts).
//   - Ready: the endpoint's connection is up and its failure-accrual breaker lets a request through.
//     Failure accrual is off unless the Service asks for it (linkerd-annotations.ts).
//   - None ready: requests wait, in order, in the balancer's queue (10,000 at most: linkerd/app/src/
//     env.rs:300) and go as soon as one is. If none is for 3 s (env.rs:301, the fail-fast timeout), the
//     waiting requests fail with DEADLINE_EXCEEDED (HTTP 504), "service in fail-fast", and until an
//     endpoint is ready again new ones are shed at once with UNAVAILABLE (503), "service unavailable"
//     (linkerd/proxy/balance/queue/src/worker.rs:300-366; linkerd/app/outbound/src/http/server.rs:125-
//     134; linkerd/stack/src/failfast.rs:47-49 and loadshed.rs:17 for the words).
//   - The caller's grpc-timeout is the pod's business: Linkerd does not read it. A call ends at a
//     deadline in the mesh only with a route timeout (`requestTimeoutMs`, Linkerd's
//     timeout.linkerd.io/request), and then counts as the endpoint's failure.
// What happens is told as typed events (MeshEvents); the words are the lab's commands' to choose.
import { status } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Endpoint } from './endpoints.js';
import type { EndpointSource } from './endpoint-source.js';
import { balancer as makeBalancer, type Balancer, type BalancerName } from './balancer.js';
import { FailureAccrual, type AccrualPolicy, type AccrualSources, type Change } from './failure-accrual.js';
import { LoopStalls } from './loop-stall.js';
import { MESH_LISTENER_LIMITS, MeshListener, type MeshListenerLimits } from './mesh-listener.js';
import { ProxiedCall, type CallHost, type CallOutcome } from './proxied-call.js';
import { LINKERD_UPSTREAM, UpstreamPool, type Keepalive, type LostCause } from './upstream-pool.js';

export interface MeshOptions {
  balancer?: BalancerName;
  /** Failure accrual as the Service's annotations ask (accrualFromAnnotations); absent: none, Linkerd's default. */
  accrual?: AccrualPolicy;
  /** Time and chance for failure accrual, for tests. */
  accrualSources?: AccrualSources;
  /** PINGs to each pod: every intervalMs when nothing was read, timeoutMs to answer; false: none. Linkerd: 10 s, 3 s. */
  keepalive?: Keepalive | false;
  /** A connection to a pod must be up within this. Linkerd: 1 s. */
  connectTimeoutMs?: number;
  /** How long requests wait for a ready endpoint before they fail fast. Linkerd: 3 s. */
  failfastMs?: number;
  /** Requests that may wait for a ready endpoint; more are shed. Linkerd: 10,000. */
  queueCapacity?: number;
  /** The route's request timeout (timeout.linkerd.io/request); absent: none, Linkerd's default. */
  requestTimeoutMs?: number;
  /** The mesh port's front door. */
  listener?: Partial<MeshListenerLimits>;
}

export const LINKERD_FAILFAST_MS = 3000;
export const LINKERD_QUEUE_CAPACITY = 10_000;

/** Milliseconds since the epoch, to the microsecond: comparable across the lab's processes. */
const timestamp = () => performance.timeOrigin + performance.now();

export interface MeshEvents {
  /** The set of endpoints the mesh balances over changed. */
  endpoints: [{ ips: string[]; at: number }];
  /** A call was sent to the pod `ip`. */
  request: [{ id: number; ip: string }];
  /**
   * A call sent to `ip` is over: its class for failure accrual ('cancelled': the caller left before any
   * answer; 'refused': the pod refused the stream unprocessed, and the call is sent again).
   */
  response: [{ id: number; ip: string; outcome: CallOutcome | 'refused'; ms: number }];
  /** Failure accrual took `ip` out of the balancer for `forMs` (a run of failures, or a failed probe). */
  tripped: [{ ip: string; cause: 'failures' | 'probe'; forMs: number; failures: number; unanswered: number }];
  /** `ip` answered its probe: back in the balancer. */
  recovered: [{ ip: string }];
  /** The connection to `ip` is up. */
  connected: [{ ip: string }];
  /** The connection to `ip` went; `unanswered`: calls sent it since its last response. */
  disconnected: [{ ip: string; cause: LostCause; detail: string; unanswered: number }];
  /** A PING to `ip` went unanswered while this process's loop was stalled; the mesh waits on instead. */
  stall: [{ ip: string; stalledMs: number }];
  /** Requests waited `failfastMs` with no endpoint ready ('entered'), or one is ready again ('exited'). */
  failfast: [{ state: 'entered' | 'exited'; at: number }];
}

export class Mesh extends EventEmitter<MeshEvents> implements CallHost {
  readonly #endpoints: EndpointSource;
  readonly #balancer: Balancer;
  readonly #accrual: FailureAccrual | undefined;
  readonly #stalls: LoopStalls;
  readonly #pool: UpstreamPool;
  readonly #listener: MeshListener;
  readonly #failfastMs: number;
  readonly #queueCapacity: number;
  readonly #requestTimeoutMs: number | undefined;
  /** Calls waiting for a ready endpoint, oldest first (from #head on). */
  #queue: ProxiedCall[] = [];
  #head = 0;
  #failfastTimer: NodeJS.Timeout | undefined;
  #failfast = false;
  #probationTimer: NodeJS.Timeout | undefined;
  /** The ready endpoints, worked out again only when something changed. */
  #ready: Endpoint[] | undefined;
  /** Per pod IP, the calls sent since its last response: what a silent pod swallowed. */
  readonly #unanswered = new Map<string, number>();
  #nextId = 1;
  #closing = false;
  readonly #onChange = (ready: Endpoint[]) => this.#endpointsChanged(ready);

  constructor(endpoints: EndpointSource, options: MeshOptions = {}) {
    super();
    this.#endpoints = endpoints;
    this.#balancer = makeBalancer(options.balancer ?? 'round-robin');
    this.#accrual = options.accrual ? new FailureAccrual(options.accrual, options.accrualSources) : undefined;
    this.#failfastMs = options.failfastMs ?? LINKERD_FAILFAST_MS;
    this.#queueCapacity = options.queueCapacity ?? LINKERD_QUEUE_CAPACITY;
    this.#requestTimeoutMs = options.requestTimeoutMs;
    const keepalive = options.keepalive === false ? undefined : (options.keepalive ?? LINKERD_UPSTREAM.keepalive);
    // The loop meter ticks often enough to judge a PING's wait to a tenth of its timeout (100 ms for Linkerd's 3 s).
    this.#stalls = new LoopStalls(Math.max(1, Math.min(100, (keepalive?.timeoutMs ?? 1000) / 10)));
    this.#pool = new UpstreamPool(
      {
        ...LINKERD_UPSTREAM,
        connectTimeoutMs: options.connectTimeoutMs ?? LINKERD_UPSTREAM.connectTimeoutMs,
        keepalive,
      },
      this.#stalls,
    );
    this.#pool.on('connected', ({ ip }) => {
      this.emit('connected', { ip });
      this.#readyChanged();
    });
    this.#pool.on('lost', ({ ip }, cause, detail) => {
      this.emit('disconnected', { ip, cause, detail, unanswered: this.#unanswered.get(ip) ?? 0 });
      this.#readyChanged();
    });
    this.#pool.on('stall', ({ ip }, stalledMs) => this.emit('stall', { ip, stalledMs }));
    this.#listener = new MeshListener({ ...MESH_LISTENER_LIMITS, ...options.listener }, (stream, headers) =>
      this.#arrived(stream, headers),
    );
    endpoints.on('change', this.#onChange);
    this.#pool.sync(endpoints.list());
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return this.#listener.listen(port, host);
  }

  /** Connections open now on the mesh's port. */
  get connections(): number {
    return this.#listener.connections;
  }

  /** Calls waiting now for a ready endpoint. */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#endpoints.off('change', this.#onChange);
    clearTimeout(this.#failfastTimer);
    clearTimeout(this.#probationTimer);
    this.#stalls.stop();
    this.#pool.close();
    await this.#listener.close();
  }

  #arrived(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const call = new ProxiedCall(this, stream, headers);
    call.id = this.#nextId++;
    if (this.#requestTimeoutMs !== undefined) call.limit(this.#requestTimeoutMs);
    this.#dispatch(call);
  }

  #dispatch(call: ProxiedCall): void {
    if (this.#failfast) {
      this.#shed(call);
      return;
    }
    const endpoint = this.#queue.length === this.#head ? this.#pick() : undefined;
    if (endpoint) this.#send(call, endpoint);
    else this.#wait(call);
  }

  #pick(): Endpoint | undefined {
    this.#ready ??= this.#readyNow();
    return this.#balancer.pick(this.#ready);
  }

  #readyNow(): Endpoint[] {
    const accrual = this.#accrual;
    const ready = this.#endpoints
      .list()
      .filter((e) => this.#pool.get(e.ip)?.ready === true && (accrual === undefined || accrual.available(e.ip)));
    // A shut endpoint goes on probation at a set time: look again then.
    const next = accrual?.nextProbation();
    clearTimeout(this.#probationTimer);
    if (next !== undefined) {
      this.#probationTimer = setTimeout(() => this.#readyChanged(), Math.max(0, next - performance.now())).unref();
    }
    return ready;
  }

  #send(call: ProxiedCall, endpoint: Endpoint): void {
    const { ip } = endpoint;
    const accrual = this.#accrual;
    if (accrual) {
      const wasAvailable = accrual.available(ip);
      accrual.sent(ip);
      if (wasAvailable && !accrual.available(ip)) this.#ready = undefined; // the probe's permit is taken
    }
    this.#unanswered.set(ip, (this.#unanswered.get(ip) ?? 0) + 1);
    this.emit('request', { id: call.id, ip });
    call.send(
      this.#pool.get(ip) as NonNullable<ReturnType<UpstreamPool['get']>>,
      endpoint,
      this.#balancer.started(endpoint),
    );
  }

  #wait(call: ProxiedCall): void {
    if (this.#queue.length - this.#head >= this.#queueCapacity) {
      this.#shed(call);
      return;
    }
    this.#queue.push(call);
    this.#failfastTimer ??= setTimeout(() => this.#enterFailfast(), this.#failfastMs);
  }

  /** Load shedding: UNAVAILABLE at once (linkerd/stack/src/loadshed.rs:17; outbound http/server.rs:131-133). */
  #shed(call: ProxiedCall): void {
    call.answer(status.UNAVAILABLE, `logical service ${authority(call)}: service unavailable`, 503);
  }

  #enterFailfast(): void {
    this.#failfastTimer = undefined;
    if (this.#queue.length === this.#head) return;
    this.#failfast = true;
    this.emit('failfast', { state: 'entered', at: timestamp() });
    const waiting = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    for (const call of waiting) {
      call.answer(status.DEADLINE_EXCEEDED, `logical service ${authority(call)}: service in fail-fast`, 504);
    }
  }

  /** Something that decides readiness changed: send what waits, leave fail-fast if an endpoint is ready. */
  #readyChanged(): void {
    this.#ready = undefined;
    if (this.#closing) return;
    if (this.#failfast && this.#pick()) {
      this.#failfast = false;
      this.emit('failfast', { state: 'exited', at: timestamp() });
    }
    while (this.#head < this.#queue.length) {
      const endpoint = this.#pick();
      if (!endpoint) return;
      const call = this.#queue[this.#head] as ProxiedCall;
      this.#head += 1;
      this.#send(call, endpoint);
    }
    this.#queue = [];
    this.#head = 0;
    clearTimeout(this.#failfastTimer);
    this.#failfastTimer = undefined;
  }

  #endpointsChanged(ready: Endpoint[]): void {
    const ips = new Set(ready.map((e) => e.ip));
    for (const ip of this.#unanswered.keys()) {
      if (ips.has(ip)) continue;
      this.#unanswered.delete(ip);
      this.#balancer.forget(ip);
      this.#accrual?.forget(ip);
    }
    this.#pool.sync(ready);
    this.emit('endpoints', { ips: [...ips], at: timestamp() });
    this.#readyChanged();
  }

  // CallHost

  ended(call: ProxiedCall, outcome: CallOutcome): void {
    const ip = (call.endpoint as Endpoint).ip;
    if (outcome !== 'cancelled') this.#unanswered.set(ip, 0);
    this.emit('response', { id: call.id, ip, outcome, ms: performance.now() - call.sentAt });
    if (outcome === 'cancelled' || this.#closing || !this.#accrual) return;
    this.#accrued(ip, this.#accrual.record(ip, outcome));
  }

  refused(call: ProxiedCall): void {
    const ip = (call.endpoint as Endpoint).ip;
    this.emit('response', { id: call.id, ip, outcome: 'refused', ms: performance.now() - call.sentAt });
  }

  again(call: ProxiedCall): void {
    if (!this.#closing) this.#dispatch(call);
  }

  abandoned(call: ProxiedCall): void {
    const index = this.#queue.indexOf(call, this.#head);
    if (index >= 0) this.#queue.splice(index, 1);
    if (this.#queue.length === this.#head) {
      clearTimeout(this.#failfastTimer);
      this.#failfastTimer = undefined;
    }
  }

  #accrued(ip: string, change: Change | undefined): void {
    if (!change) return;
    if (change.state === 'tripped') {
      const { cause, forMs, failures } = change;
      this.emit('tripped', { ip, cause, forMs, failures, unanswered: this.#unanswered.get(ip) ?? 0 });
    } else {
      this.emit('recovered', { ip });
    }
    this.#readyChanged();
  }
}

/** The service the caller asked for, as Linkerd names it in its errors ("logical service …"). */
function authority(call: ProxiedCall): string {
  return call.headers[':authority'] ?? call.headers.host ?? '?';
}
