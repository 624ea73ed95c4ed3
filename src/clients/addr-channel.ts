// client-grpc's channel to TARGET and its GetAddr calls: the load-balancing policy, the keepalive that
// finds a hung pod, and the connect timeout grpc-js lacks (a channel stuck connecting is replaced).
import * as grpc from '@grpc/grpc-js';
import type { AddrClient } from '../common/proto.js';
import type { Ask, Outcome } from './outcome.js';

export interface ChannelOptions {
  lb: 'pick_first' | 'round_robin';
  /** a whole service config (JSON): its loadBalancingConfig instead of `lb`'s */
  serviceConfig?: string;
  deadlineMs: number;
  /** 0: no keepalive pings */
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  connectTimeoutMs: number;
}

type AddrConstructor = new (
  target: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => AddrClient;

export class AddrChannel {
  #client: AddrClient;

  /** Throws when grpc-js cannot make a channel of `target`. */
  constructor(
    private readonly Addr: AddrConstructor,
    private readonly target: string,
    private readonly options: ChannelOptions,
  ) {
    this.#client = this.#open();
  }

  readonly ask: Ask = (signal) =>
    new Promise<Outcome>((resolve) => {
      const call = this.#client.getAddr({}, { deadline: Date.now() + this.options.deadlineMs }, (error, reply) => {
        signal.removeEventListener('abort', cancel);
        if (error) {
          const code = grpc.status[error.code] ?? String(error.code);
          resolve({ code, error: `${code}: ${error.details.replace(/ Resolution note: *$/, '')}` });
        } else resolve({ pod: reply?.addr ?? '' });
      });
      const cancel = () => call.cancel();
      if (signal.aborted) cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    });

  close(): void {
    this.#client.close();
  }

  #open(): AddrClient {
    const { lb, serviceConfig, keepaliveMs, keepaliveTimeoutMs } = this.options;
    const client = new this.Addr(this.target, grpc.credentials.createInsecure(), {
      'grpc.service_config': serviceConfig ?? JSON.stringify({ loadBalancingConfig: [{ [lb]: {} }] }),
      'grpc.max_reconnect_backoff_ms': 5000,
      // A pod that hangs without closing its connection (stopped, partitioned) is found out by its
      // silence on pings, before the calls' deadlines; the connection is closed and the channel reconnects.
      ...(keepaliveMs > 0
        ? { 'grpc.keepalive_time_ms': keepaliveMs, 'grpc.keepalive_timeout_ms': keepaliveTimeoutMs }
        : {}),
    });
    this.#replaceWhenStuck(client.getChannel());
    return client;
  }

  /**
   * gRPC's connection backoff spec gives a connection attempt 20 s (MIN_CONNECT_TIMEOUT); grpc-js 1.14
   * has no such bound on the HTTP/2 handshake. Through an L4 Service a reconnect can land on a pod that
   * hangs: the TCP connection is accepted, the server's SETTINGS never come, and the channel would wait
   * forever. So a channel that stays connecting for --connect-timeout-ms is replaced by a new one, which
   * connects afresh (its calls still queued fail UNAVAILABLE; they were waiting for nothing).
   */
  #replaceWhenStuck(channel: ReturnType<AddrClient['getChannel']>): void {
    const state = channel.getConnectivityState(false);
    if (state === grpc.connectivityState.SHUTDOWN) return;
    const connecting = state === grpc.connectivityState.CONNECTING;
    const deadline = connecting ? Date.now() + this.options.connectTimeoutMs : Infinity;
    channel.watchConnectivityState(state, deadline, (timedOut) => {
      if (timedOut && channel.getConnectivityState(false) === grpc.connectivityState.CONNECTING) {
        this.#client.close();
        this.#client = this.#open();
      } else this.#replaceWhenStuck(channel);
    });
  }
}
