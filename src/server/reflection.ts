// Server reflection that grpcurl can follow. @grpc/proto-loader leaves the `dependency` list of every
// file descriptor empty (grpc/grpc-node#2595), so a client that links descriptors — grpcurl describe,
// or any call through grpcurl — cannot resolve a type another file defines: ours uses
// google.protobuf.Empty ("unresolvable reference", grpc/grpc-node#3018). We fill the lists in from
// the type references before handing the descriptors to @grpc/reflection.
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import descriptor, { type IDescriptorProto, type IFileDescriptorProto } from 'protobufjs/ext/descriptor/index.js';

type FileDescriptor = IFileDescriptorProto & { name: string; dependency: string[] };

/** Message and enum entries carry their files' encoded descriptors; service entries do not. */
const filesOf = (entry: PackageDefinition[string]): Buffer[] | undefined => {
  const files = (entry as { fileDescriptorProtos?: unknown }).fileDescriptorProtos;
  return Array.isArray(files) ? (files as Buffer[]) : undefined;
};

export function reflectionService(definition: PackageDefinition): ReflectionService {
  return new ReflectionService(withDependencies(definition));
}

function withDependencies(definition: PackageDefinition): PackageDefinition {
  const decode = (bytes: Buffer) => descriptor.FileDescriptorProto.decode(bytes) as unknown as FileDescriptor;
  const files = new Map<string, FileDescriptor>();
  const nameOf = new Map<Buffer, string>(); // the same buffers recur across entries: decode each once
  for (const entry of Object.values(definition)) {
    for (const bytes of filesOf(entry) ?? []) {
      if (nameOf.has(bytes)) continue;
      const file = decode(bytes);
      nameOf.set(bytes, file.name);
      files.set(file.name, file);
    }
  }

  // Which file defines each fully qualified type name (".addr.AddrReply", ".google.protobuf.Empty").
  const owner = new Map<string, string>();
  const index = (
    scope: string,
    messages: IDescriptorProto[] | undefined,
    enums: Array<{ name?: string }> | undefined,
    file: string,
  ) => {
    for (const e of enums ?? []) owner.set(`${scope}.${e.name}`, file);
    for (const m of messages ?? []) {
      owner.set(`${scope}.${m.name}`, file);
      index(`${scope}.${m.name}`, m.nestedType, m.enumType, file);
    }
  };
  for (const file of files.values())
    index(file.package ? `.${file.package}` : '', file.messageType, file.enumType, file.name);

  const references = (messages: IDescriptorProto[] | undefined): string[] =>
    (messages ?? []).flatMap((m) => [...(m.field ?? []).map((f) => f.typeName ?? ''), ...references(m.nestedType)]);
  const encoded = new Map<string, Uint8Array>();
  for (const file of files.values()) {
    const used = [
      ...references(file.messageType),
      ...(file.service ?? []).flatMap((s) => (s.method ?? []).flatMap((m) => [m.inputType ?? '', m.outputType ?? ''])),
    ];
    const dependencies = new Set(
      used.map((name) => owner.get(name)).filter((name): name is string => !!name && name !== file.name),
    );
    file.dependency = [...new Set([...(file.dependency ?? []), ...dependencies])];
    encoded.set(file.name, descriptor.FileDescriptorProto.encode(file).finish());
  }

  return Object.fromEntries(
    Object.entries(definition).map(([name, entry]) => {
      const bytesList = filesOf(entry);
      return [
        name,
        bytesList
          ? {
              ...entry,
              fileDescriptorProtos: bytesList.map((bytes) =>
                Buffer.from(encoded.get(nameOf.get(bytes) ?? '') ?? bytes),
              ),
            }
          : entry,
      ];
    }),
  ) as PackageDefinition;
}
