// Proxyless gRPC's control plane, as Istio (proxyless mode) or Traffic Director serve it: an xDS
// server speaking ADS (envoy.service.discovery.v3.AggregatedDiscoveryService, state of the world) that
// tells grpc-js clients with `xds:///SERVICE` where to send calls. It serves four resources: a
// Listener whose HttpConnectionManager (an api_listener, with the router filter last) points at a
// RouteConfiguration, which sends every call to an EDS Cluster, whose ClusterLoadAssignment lists the
// ready pods — pushed again, with a new version, on every endpoint change. The client then balances
// each call itself (ROUND_ROBIN) over direct connections to the pods.
// The endpoints come from whatever follows them: the lab's own endpoints, or a Service's EndpointSlices
// watched through a Kubernetes API (out/xds-control-plane).
import { endpointsSeen } from '../common/trace.js';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where a pod takes calls: the address clients dial and its gRPC port. */
export interface XdsEndpoint {
  address: string;
  grpcPort: number;
}

/** The ready endpoints now, and a 'change' event whenever they change. */
export interface EndpointSource {
  list(): readonly XdsEndpoint[];
  on(event: 'change', listener: () => void): unknown;
}

/** The locality every endpoint is put in (grpc-js balances over localities first, then within one). */
export interface Locality {
  region: string;
  zone: string;
}

const TYPE = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  connectionManager:
    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
} as const;

type Resource = Record<string, unknown> & { '@type': string };

interface DiscoveryRequest {
  type_url: string;
  version_info: string;
  resource_names: string[];
  response_nonce: string;
  error_detail: { message: string } | null;
}

/** The Envoy API protos, as @grpc/grpc-js-xds ships them (the same files its client decodes with). */
function loadAds(): grpc.ServiceDefinition {
  const deps = join(dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const definition = protoLoader.loadSync(
    [
      'envoy/service/discovery/v3/ads.proto',
      'envoy/config/listener/v3/listener.proto',
      'envoy/config/route/v3/route.proto',
      'envoy/config/cluster/v3/cluster.proto',
      'envoy/config/endpoint/v3/endpoint.proto',
      'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
      'envoy/extensions/filters/http/router/v3/router.proto',
    ],
    {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      json: true,
      includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => join(deps, dir)),
    },
  );
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: { service: grpc.ServiceDefinition } } } } };
  };
  return pkg.envoy.service.discovery.v3.AggregatedDiscoveryService.service;
}

interface Subscription {
  names: string[];
  version: string;
}

export interface AdsServerOptions {
  /** the locality the endpoints are in (default: none named) */
  locality?: Locality;
  /** services to add to the same gRPC server, e.g. the standard health service */
  addServices?: (server: grpc.Server) => void;
}

export class AdsServer {
  /** Responses sent, by resource type: EDS pushes are the endpoint changes clients were told about. */
  readonly pushes = new Map<string, number>();
  readonly #server = new grpc.Server();
  readonly #streams = new Set<{
    call: grpc.ServerDuplexStream<DiscoveryRequest, unknown>;
    subscriptions: Map<string, Subscription>;
  }>();
  readonly #endpoints: EndpointSource;
  readonly #locality: Locality;
  #edsVersion = 1;
  #nonce = 0;

  /** `service`: the name clients dial (xds:///addr-server), which names all four resources. */
  constructor(
    readonly service: string,
    endpoints: EndpointSource,
    options: AdsServerOptions = {},
  ) {
    this.#endpoints = endpoints;
    this.#locality = options.locality ?? { region: '', zone: '' };
    this.#server.addService(loadAds(), {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, unknown>) => this.#stream(call),
    });
    options.addServices?.(this.#server);
    endpoints.on('change', () => {
      this.#edsVersion += 1;
      for (const stream of this.#streams) {
        if (stream.subscriptions.has(TYPE.endpoints)) this.#send(stream, TYPE.endpoints);
      }
    });
  }

  /** The version of the endpoints (the ClusterLoadAssignment) clients are sent now: 1, then one more per change. */
  get endpointsVersion(): number {
    return this.#edsVersion;
  }

  /** ADS streams open now: one per xDS client. */
  get clients(): number {
    return this.#streams.size;
  }

  /** Listens on `host:port` (port 0: any free one); resolves with the port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) =>
      this.#server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
  }

  close(): Promise<void> {
    for (const { call } of this.#streams) call.end();
    this.#server.forceShutdown();
    return Promise.resolve();
  }

  #stream(call: grpc.ServerDuplexStream<DiscoveryRequest, unknown>): void {
    const stream = { call, subscriptions: new Map<string, Subscription>() };
    this.#streams.add(stream);
    call.on('data', (request: DiscoveryRequest) => {
      // A NACK (error_detail set) keeps what the client had; sending the same again would loop.
      if (request.error_detail) return;
      const names = [...request.resource_names].sort();
      const current = stream.subscriptions.get(request.type_url);
      const version = this.#version(request.type_url);
      stream.subscriptions.set(request.type_url, { names, version });
      // An ACK of what is current, for the same names: nothing new to say.
      if (current && request.version_info === version && current.names.join() === names.join()) return;
      this.#send(stream, request.type_url);
    });
    const forget = () => this.#streams.delete(stream);
    call.on('end', () => {
      forget();
      call.end();
    });
    call.on('error', forget);
    call.on('cancelled', forget);
  }

  #version(typeUrl: string): string {
    return typeUrl === TYPE.endpoints ? String(this.#edsVersion) : '1';
  }

  #send(
    stream: { call: grpc.ServerDuplexStream<DiscoveryRequest, unknown>; subscriptions: Map<string, Subscription> },
    typeUrl: string,
  ): void {
    const subscription = stream.subscriptions.get(typeUrl);
    const resources = this.#resources(typeUrl).filter(
      ({ name }) => !subscription || subscription.names.length === 0 || subscription.names.includes(name),
    );
    this.pushes.set(typeUrl, (this.pushes.get(typeUrl) ?? 0) + 1);
    stream.call.write({
      version_info: this.#version(typeUrl),
      type_url: typeUrl,
      nonce: String(++this.#nonce),
      resources: resources.map((r) => r.resource),
    });
    if (typeUrl === TYPE.endpoints)
      endpointsSeen(
        `xds:${this.service}`,
        this.#endpoints.list().map((endpoint) => endpoint.address),
      );
  }

  #resources(typeUrl: string): Array<{ name: string; resource: Resource }> {
    const name = this.service;
    const route = `${name}-route`;
    switch (typeUrl) {
      case TYPE.listener:
        return [
          {
            name,
            resource: {
              '@type': TYPE.listener,
              name,
              api_listener: {
                api_listener: {
                  '@type': TYPE.connectionManager,
                  rds: { route_config_name: route, config_source: { ads: {} } },
                  http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': TYPE.router } }],
                },
              },
            },
          },
        ];
      case TYPE.route:
        return [
          {
            name: route,
            resource: {
              '@type': TYPE.route,
              name: route,
              virtual_hosts: [{ name, domains: ['*'], routes: [{ match: { prefix: '' }, route: { cluster: name } }] }],
            },
          },
        ];
      case TYPE.cluster:
        return [
          {
            name,
            resource: {
              '@type': TYPE.cluster,
              name,
              type: 'EDS',
              eds_cluster_config: { eds_config: { ads: {} }, service_name: name },
              lb_policy: 'ROUND_ROBIN',
            },
          },
        ];
      case TYPE.endpoints:
        return [
          {
            name,
            resource: {
              '@type': TYPE.endpoints,
              cluster_name: name,
              endpoints: [localityEndpoints(this.#locality, this.#endpoints.list())],
            },
          },
        ];
      default:
        return [];
    }
  }
}

/** One locality holding every ready pod, each HEALTHY at its pod IP and gRPC port. */
function localityEndpoints(locality: Locality, ready: readonly XdsEndpoint[]): Record<string, unknown> {
  return {
    locality,
    load_balancing_weight: { value: 1 },
    priority: 0,
    lb_endpoints: ready.map((endpoint) => ({
      health_status: 'HEALTHY',
      endpoint: { address: { socket_address: { address: endpoint.address, port_value: endpoint.grpcPort } } },
    })),
  };
}
