// Loads the wire contract (proto/addr.proto) for servers and clients.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

export interface AddrReply {
  addr: string;
  pod: string;
}

type AddrCallback = (error: grpc.ServiceError | null, reply?: AddrReply) => void;

export type AddrClient = grpc.Client & {
  getAddr(request: Record<string, never>, options: grpc.CallOptions, callback: AddrCallback): grpc.ClientUnaryCall;
  getAddr(
    request: Record<string, never>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: AddrCallback,
  ): grpc.ClientUnaryCall;
};

interface AddrPackage {
  addr: {
    Addr: {
      service: grpc.ServiceDefinition;
      new (target: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions): AddrClient;
    };
  };
}

/**
 * Where the .proto lives at run time. The build copies proto/ next to the executables in out/,
 * so the bundles find it beside themselves; tests pass the checkout's copy explicitly.
 */
const bundledProtoFile = (): string => fileURLToPath(new URL('./proto/addr.proto', import.meta.url));

export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export function loadAddrProto(file = bundledProtoFile()) {
  const definition = protoLoader.loadSync(file, loaderOptions);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as AddrPackage;
  return { definition, Addr: pkg.addr.Addr };
}
