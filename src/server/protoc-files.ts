// The .proto files the server is made of, described as protoc describes them, for server reflection.
// @grpc/proto-loader (protobufjs) describes them differently, and strict clients reject the difference:
//   - it names each file after its package (google_protobuf.proto, grpc_health_v1.proto): a client that
//     has the well-known types compiled in (Go's protoregistry, buf's registry) then finds
//     google.protobuf.Empty in two files ("name conflict"), and FileByFilename("google/protobuf/empty.proto")
//     finds nothing. We use each file's own name, and the file options of google/protobuf/empty.proto;
//   - it leaves every `dependency` list empty (grpc/grpc-node#2595), so a client that links descriptors
//     (grpcurl describe) cannot resolve a type from another file ("unresolvable reference",
//     grpc/grpc-node#3018). We fill the lists in from the type references;
//   - it writes field type names relative to their scope ("HealthCheckResponse"), where protoc writes them
//     fully qualified (".grpc.health.v1.HealthCheckResponse"), and names a map field's entry message after
//     the field ("Statuses") where protoc, and Go's protodesc, require "StatusesEntry" (protobuf-go
//     reflect/protodesc/desc_validate.go, checkValidMap: "incorrect implicit map entry name").
import type { PackageDefinition } from '@grpc/proto-loader';
import descriptor, {
  type IDescriptorProto,
  type IFileDescriptorProto,
  type IFileOptions,
} from 'protobufjs/ext/descriptor/index.js';

export type FileDescriptor = IFileDescriptorProto & { name: string; dependency: string[] };

/** proto-loader's file name (its package, dots as underscores) → the file's own name upstream. */
const STANDARD_NAMES: Record<string, string> = {
  'google_protobuf.proto': 'google/protobuf/empty.proto',
  'grpc_health_v1.proto': 'grpc/health/v1/health.proto',
  'grpc_reflection_v1.proto': 'grpc/reflection/v1/reflection.proto',
  'grpc_reflection_v1alpha.proto': 'grpc/reflection/v1alpha/reflection.proto',
};

/** The file options of google/protobuf/empty.proto as protocolbuffers/protobuf ships it
 *  (src/google/protobuf/empty.proto); proto-loader knows the type but not its file's options. */
const EMPTY_PROTO_OPTIONS: IFileOptions = {
  javaPackage: 'com.google.protobuf',
  javaOuterClassname: 'EmptyProto',
  javaMultipleFiles: true,
  goPackage: 'google.golang.org/protobuf/types/known/emptypb',
  ccEnableArenas: true,
  objcClassPrefix: 'GPB',
  csharpNamespace: 'Google.Protobuf.WellKnownTypes',
};

/** Every file the definitions hold, once, under its standard name, with its dependencies listed. */
export function protocFiles(definitions: PackageDefinition[]) {
  const files = new Map<string, FileDescriptor>();
  const nameOf = new Map<Buffer, string>(); // the same buffers recur across entries: decode each once
  for (const definition of definitions) {
    for (const entry of Object.values(definition)) {
      const encoded = (entry as { fileDescriptorProtos?: unknown }).fileDescriptorProtos;
      for (const bytes of Array.isArray(encoded) ? (encoded as Buffer[]) : []) {
        if (nameOf.has(bytes)) continue;
        const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileDescriptor;
        file.name = STANDARD_NAMES[file.name] ?? file.name;
        nameOf.set(bytes, file.name);
        if (!files.has(file.name)) files.set(file.name, file);
      }
    }
  }
  const empty = files.get('google/protobuf/empty.proto');
  if (empty) {
    // proto-loader puts every google.protobuf type it loaded into one file; only Empty is used here.
    const types = (empty.messageType ?? []).map((m) => m.name);
    if (types.join() !== 'Empty')
      throw new Error(`reflection: google.protobuf types other than Empty need their own files: ${types.join(', ')}`);
    empty.options = EMPTY_PROTO_OPTIONS;
  }

  for (const file of files.values()) nameMapEntries(file.messageType);

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

  for (const file of files.values()) qualify(file.package ? `.${file.package}` : '', file.messageType, owner);

  const references = (messages: IDescriptorProto[] | undefined): string[] =>
    (messages ?? []).flatMap((m) => [...(m.field ?? []).map((f) => f.typeName ?? ''), ...references(m.nestedType)]);
  for (const file of files.values()) {
    const used = [
      ...references(file.messageType),
      ...(file.service ?? []).flatMap((s) => (s.method ?? []).flatMap((m) => [m.inputType ?? '', m.outputType ?? ''])),
    ];
    const dependencies = used
      .map((name) => owner.get(name))
      .filter((name): name is string => !!name && name !== file.name);
    file.dependency = [...new Set([...(file.dependency ?? []), ...dependencies])];
  }
  return { files, nameOf };
}

/** protoc's name for a map field's entry message: the field's name in CamelCase, then "Entry". */
export const mapEntryName = (field: string): string =>
  `${field.replace(/(?:^|_)(.)/g, (_, c: string) => c.toUpperCase()).replaceAll('_', '')}Entry`;

function nameMapEntries(messages: IDescriptorProto[] | undefined): void {
  for (const message of messages ?? []) {
    for (const entry of message.nestedType ?? []) {
      if (!entry.options?.mapEntry) continue;
      const field = (message.field ?? []).find(
        (f) => f.typeName === entry.name || f.typeName?.endsWith(`.${entry.name}`),
      );
      if (!field?.name) continue;
      entry.name = mapEntryName(field.name);
      field.typeName = entry.name;
    }
    nameMapEntries(message.nestedType);
  }
}

/** Rewrites relative field type names as fully qualified ones, resolved as protoc resolves them: in the
 *  message's own scope first, then each enclosing scope out to the root. */
function qualify(scope: string, messages: IDescriptorProto[] | undefined, known: ReadonlyMap<string, string>): void {
  for (const message of messages ?? []) {
    const name = `${scope}.${message.name}`;
    for (const field of message.field ?? []) {
      if (!field.typeName || field.typeName.startsWith('.')) continue;
      for (let outer = name; ; outer = outer.slice(0, Math.max(0, outer.lastIndexOf('.')))) {
        if (known.has(`${outer}.${field.typeName}`)) {
          field.typeName = `${outer}.${field.typeName}`;
          break;
        }
        if (outer === '')
          throw new Error(`reflection: ${name}.${field.name} refers to ${field.typeName}, defined nowhere`);
      }
    }
    qualify(name, message.nestedType, known);
  }
}
