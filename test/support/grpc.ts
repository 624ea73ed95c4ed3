// Plain grpc-js clients for what the executables do not expose: health checks and reflection.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { loadAddrProto } from '../../src/common/proto.js';
import { root } from './root.js';

export const addrProtoFile = `${root}proto/addr.proto`;

export function addrClient(port: number) {
  const { Addr } = loadAddrProto(addrProtoFile);
  return new Addr(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

export function getAddr(port: number): Promise<{ addr: string; pod: string }> {
  const client = addrClient(port);
  return new Promise((resolve, reject) =>
    client.getAddr({}, { deadline: Date.now() + 5000 }, (error, reply) => {
      client.close();
      if (error || !reply) reject(error ?? new Error('no reply'));
      else resolve(reply);
    }),
  );
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

export function healthCheck(port: number, service = ''): Promise<string> {
  const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check: (...args: unknown[]) => void;
  };
  return new Promise((resolve, reject) =>
    client.check(
      { service },
      { deadline: Date.now() + 5000 },
      (error: grpc.ServiceError | null, reply?: { status: string }) => {
        client.close();
        if (error || !reply) reject(error ?? new Error('no reply'));
        else resolve(reply.status);
      },
    ),
  );
}

const require = createRequire(import.meta.url);
const reflectionProto = (version: ReflectionVersion) =>
  `${dirname(require.resolve('@grpc/reflection/package.json'))}/build/proto/grpc/reflection/${version}/reflection.proto`;

export type ReflectionVersion = 'v1' | 'v1alpha';

type ReflectionRequest = { list_services: string } | { file_containing_symbol: string } | { file_by_filename: string };
interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One request on the server reflection service (v1 unless told), as grpcurl makes them. */
export function reflect(
  port: number,
  request: ReflectionRequest,
  version: ReflectionVersion = 'v1',
): Promise<ReflectionResponse> {
  const definition = protoLoader.loadSync(reflectionProto(version), { keepCase: true, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: Record<ReflectionVersion, { ServerReflection: grpc.ServiceClientConstructor }> };
  };
  const client = new pkg.grpc.reflection[version].ServerReflection(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    serverReflectionInfo: (options: grpc.CallOptions) => grpc.ClientDuplexStream<ReflectionRequest, ReflectionResponse>;
  };
  return new Promise<ReflectionResponse>((resolve, reject) => {
    const stream = client.serverReflectionInfo({ deadline: Date.now() + 5000 });
    stream.on('data', (response: ReflectionResponse) => {
      resolve(response);
      stream.end();
    });
    stream.on('error', reject);
    stream.write(request);
  }).finally(() => client.close());
}

/** The service names that server reflection lists, as `grpcurl list` does. */
export async function listServices(port: number, version: ReflectionVersion = 'v1'): Promise<string[]> {
  const response = await reflect(port, { list_services: '*' }, version);
  return response.list_services_response?.service.map((s) => s.name) ?? [];
}
