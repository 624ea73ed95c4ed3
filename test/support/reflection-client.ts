// A reflection client as strict as Go's: it has the well-known types compiled in (as every Go binary
// linking emptypb has them in protoregistry.GlobalFiles), takes a file it already has by name from its own
// copy, refuses a fetched file that declares a name one of its own files declares ("file … has a name
// conflict over …", protoregistry's error), refuses a map whose entry message is not named as protoc
// names it (protodesc's checkValidMap), and links what it fetched, failing on any import or type name it
// cannot resolve (what grpcurl does through protodesc).
import { createFileRegistry, createRegistry, fromBinary, type DescFile, type FileRegistry } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_source_context,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { reflect, type ReflectionVersion } from './grpc.js';

export const WELL_KNOWN: ReadonlyMap<string, DescFile> = new Map(
  [
    file_google_protobuf_any,
    file_google_protobuf_api,
    file_google_protobuf_descriptor,
    file_google_protobuf_duration,
    file_google_protobuf_empty,
    file_google_protobuf_field_mask,
    file_google_protobuf_source_context,
    file_google_protobuf_struct,
    file_google_protobuf_timestamp,
    file_google_protobuf_type,
    file_google_protobuf_wrappers,
  ].map((file) => [file.proto.name, file]),
);
const wellKnownTypes = createRegistry(...WELL_KNOWN.values());

/** The fully qualified names a file declares: messages (nested too), enums, services, extensions. */
function declared(file: FileDescriptorProto): string[] {
  const scope = file.package ? `${file.package}.` : '';
  const names: string[] = [];
  const messages = (prefix: string, list: FileDescriptorProto['messageType']) => {
    for (const message of list) {
      names.push(`${prefix}${message.name}`);
      names.push(...message.enumType.map((e) => `${prefix}${message.name}.${e.name}`));
      messages(`${prefix}${message.name}.`, message.nestedType);
    }
  };
  messages(scope, file.messageType);
  names.push(...file.enumType.map((e) => `${scope}${e.name}`));
  names.push(...file.service.map((s) => `${scope}${s.name}`));
  names.push(...file.extension.map((e) => `${scope}${e.name}`));
  return names;
}

/** protodesc (desc_validate.go, mapEntryName): a map field `foo_bar`'s entry is `FooBarEntry`. */
function checkMapEntries(file: FileDescriptorProto, messages = file.messageType): void {
  for (const message of messages) {
    for (const entry of message.nestedType.filter((nested) => nested.options?.mapEntry)) {
      const field = message.field.find((f) => f.typeName.endsWith(`.${message.name}.${entry.name}`));
      const want = `${(field?.name ?? '').replace(/(?:^|_)(.)/g, (_, c: string) => c.toUpperCase())}Entry`;
      if (entry.name !== want)
        throw new Error(
          `${file.name}: message field ${message.name}.${field?.name} is an invalid map: incorrect implicit map entry name`,
        );
    }
    checkMapEntries(file, message.nestedType);
  }
}

/**
 * Fetches the file declaring `symbol` and, by name, every file it imports that the client does not have;
 * checks each for conflicts with the well-known types; links them. Returns the registry, or throws as Go
 * would.
 */
export async function fetchAndLink(port: number, symbol: string, version: ReflectionVersion): Promise<FileRegistry> {
  const fetched = new Map<string, FileDescriptorProto>();
  const take = (response: Awaited<ReturnType<typeof reflect>>, asked: string) => {
    if (response.error_response) throw new Error(`${asked}: ${response.error_response.error_message}`);
    for (const bytes of response.file_descriptor_response?.file_descriptor_proto ?? []) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      if (WELL_KNOWN.has(file.name)) continue; // it has its own copy
      for (const name of declared(file)) {
        const known = wellKnownTypes.get(name);
        if (known) throw new Error(`file ${JSON.stringify(file.name)} has a name conflict over ${name}`);
      }
      checkMapEntries(file);
      fetched.set(file.name, file);
    }
  };
  take(await reflect(port, { file_containing_symbol: symbol }, version), symbol);
  for (let round = 0; round < 10; round++) {
    const missing = [...fetched.values()]
      .flatMap((file) => file.dependency)
      .filter((name) => !fetched.has(name) && !WELL_KNOWN.has(name));
    if (missing.length === 0) break;
    for (const name of new Set(missing)) take(await reflect(port, { file_by_filename: name }, version), name);
  }
  const root = [...fetched.values()].find((file) => declared(file).includes(symbol));
  if (!root) throw new Error(`no fetched file declares ${symbol}`);
  return createFileRegistry(root, (name) => WELL_KNOWN.get(name) ?? fetched.get(name));
}
