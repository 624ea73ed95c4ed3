// Server reflection (v1 and v1alpha) that serves each file under the name the rest of the world knows it
// by, so that any reflection client can link what it fetches with what it already has:
//   - @grpc/proto-loader names descriptor files after their package (google_protobuf.proto,
//     grpc_health_v1.proto): a client that preloads the well-known types (Go's protoregistry, buf's
//     registry) then finds google.protobuf.Empty defined twice under two names ("name conflict"), and
//     FileByFilename("google/protobuf/empty.proto") finds nothing. We serve the standard names, and the
//     standard file options of google/protobuf/empty.proto.
//   - proto-loader also leaves every file's `dependency` list empty (grpc/grpc-node#2595), so a client
//     that links descriptors (grpcurl describe) cannot resolve a type from another file ("unresolvable
//     reference", grpc/grpc-node#3018). We fill the lists in from the type references.
//   - @grpc/reflection lists the services of the files it is given; given its own, it lists itself, as
//     grpc-go's and grpc-java's reflection do.
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { createRequire } from 'node:module';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { loaderOptions } from '../common/proto.js';
import { protocFiles } from './protoc-files.js';

const require = createRequire(import.meta.url);
const reflectionProto = (version: 'v1' | 'v1alpha') =>
  require
    .resolve('@grpc/reflection/package.json')
    .replace(/package\.json$/, `build/proto/grpc/reflection/${version}/reflection.proto`);

/** Reflection over `addr` (addr.proto's definition), the health service and reflection itself. */
export function reflectionService(addr: protoLoader.PackageDefinition): ReflectionService {
  const definitions = [
    addr,
    protoLoader.loadSync(healthProtoPath, loaderOptions),
    protoLoader.loadSync(reflectionProto('v1'), loaderOptions),
    protoLoader.loadSync(reflectionProto('v1alpha'), loaderOptions),
  ];
  const { files, nameOf } = protocFiles(definitions);
  const encoded = new Map(
    [...files.values()].map((file) => [file.name, descriptor.FileDescriptorProto.encode(file).finish()]),
  );
  // The same entries, each with its files' descriptors re-encoded (@grpc/reflection reads only those).
  const entries = definitions.flatMap((definition) =>
    Object.entries(definition).map(([name, entry]) => {
      const list = (entry as { fileDescriptorProtos?: unknown }).fileDescriptorProtos;
      if (!Array.isArray(list)) return [name, entry] as const;
      const fileDescriptorProtos = (list as Buffer[]).map((bytes) =>
        Buffer.from(encoded.get(nameOf.get(bytes) ?? '') ?? bytes),
      );
      return [name, { ...entry, fileDescriptorProtos }] as const;
    }),
  );
  return new ReflectionService(Object.fromEntries(entries) as protoLoader.PackageDefinition);
}
