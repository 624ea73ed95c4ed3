// addr-server answers who it is over HTTP and gRPC, with health and reflection.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, constants } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { getAddr, healthCheck, listServices, reflect } from './support/grpc.js';
import { start, startServer, type ServerProcess } from './support/processes.js';

describe('addr-server', () => {
  let server: ServerProcess;
  let base: string;
  before(async () => {
    server = await startServer('10.1.0.8');
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  after(() => server.stop());

  it('answers GET /addr with its pod IP as text', async () => {
    const response = await fetch(`${base}/addr`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await response.text(), '10.1.0.8');
  });

  it('answers GET /health with OK', async () => {
    const response = await fetch(`${base}/health`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'OK');
  });

  it('answers unknown paths with 404 and other methods with 405, without stack traces', async () => {
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    const post = await fetch(`${base}/addr`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const broken = await fetch(`${base}/addr`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{oops',
    });
    const text = await broken.text();
    assert.equal(broken.status, 405);
    assert.doesNotMatch(text, /at .*\(.*:\d+:\d+\)/);
  });

  it('answers GetAddr with its pod IP and name', async () => {
    assert.deepEqual(await getAddr(server.grpcPort), { addr: '10.1.0.8', pod: 'pod-10.1.0.8' });
  });

  it('reports SERVING on the standard gRPC health service', async () => {
    assert.equal(await healthCheck(server.grpcPort), 'SERVING');
    assert.equal(await healthCheck(server.grpcPort, 'addr.Addr'), 'SERVING');
  });

  it('lists its services through server reflection', async () => {
    const services = await listServices(server.grpcPort);
    assert.ok(services.includes('addr.Addr'), `reflection listed ${services.join(', ')}`);
    assert.ok(services.includes('grpc.health.v1.Health'), `reflection listed ${services.join(', ')}`);
  });

  it('describes addr.Addr through reflection in descriptors a strict linker accepts (grpcurl describe)', async () => {
    // What grpcurl does: fetch the file that defines the symbol, then every file it depends on, by name,
    // then link them all; a missing dependency is an "unresolvable reference".
    const files = new Map<string, FileDescriptorProto>();
    const collect = (bytes: Buffer[] = []) => {
      for (const file of bytes.map((b) => fromBinary(FileDescriptorProtoSchema, b))) files.set(file.name, file);
    };
    collect(
      (await reflect(server.grpcPort, { file_containing_symbol: 'addr.Addr' })).file_descriptor_response
        ?.file_descriptor_proto,
    );
    for (
      let missing = [...files.values()].flatMap((f) => f.dependency).filter((d) => !files.has(d));
      missing.length > 0;
    ) {
      for (const name of missing)
        collect(
          (await reflect(server.grpcPort, { file_by_filename: name })).file_descriptor_response?.file_descriptor_proto,
        );
      missing = [...files.values()].flatMap((f) => f.dependency).filter((d) => !files.has(d));
    }
    const addrFile = files.get('addr.proto');
    assert.ok(addrFile, 'reflection served addr.proto');
    const registry = createFileRegistry(addrFile, (name) => files.get(name));
    const method = registry.getService('addr.Addr')?.methods.find((m) => m.name === 'GetAddr');
    assert.equal(method?.input.typeName, 'google.protobuf.Empty');
    assert.deepEqual(
      method?.output.fields.map((f) => f.name),
      ['addr', 'pod'],
    );
  });

  it('starts under the variables a kubelet sets for a Service named addr-server (service links), and ignores them', async () => {
    const serviceLinks = {
      ADDR_SERVER_SERVICE_HOST: '10.96.0.10',
      ADDR_SERVER_SERVICE_PORT: '80',
      ADDR_SERVER_SERVICE_PORT_HTTP: '80',
      ADDR_SERVER_SERVICE_PORT_GRPC: '30051',
      ADDR_SERVER_PORT: 'tcp://10.96.0.10:80',
      ADDR_SERVER_PORT_80_TCP: 'tcp://10.96.0.10:80',
      ADDR_SERVER_PORT_80_TCP_PROTO: 'tcp',
      ADDR_SERVER_PORT_80_TCP_PORT: '80',
      ADDR_SERVER_PORT_80_TCP_ADDR: '10.96.0.10',
    };
    const withLinks = start('server', ['--host', '127.0.0.1', '--grpc-port', '0'], {
      ...serviceLinks,
      ADDR_SERVER_HTTP_PORT: '0',
      POD_IP: '10.1.0.78',
    });
    const [, httpPort] = (await withLinks.waitFor(/http=127\.0\.0\.1:(\d+) grpc=127\.0\.0\.1:\d+/)) as RegExpMatchArray;
    assert.equal(await (await fetch(`http://127.0.0.1:${httpPort}/addr`)).text(), '10.1.0.78');
    await withLinks.stop();
  });

  it('takes its options from ADDR_SERVER_* environment variables', async () => {
    const fromEnv = start('server', [], {
      ADDR_SERVER_HOST: '127.0.0.1',
      ADDR_SERVER_HTTP_PORT: '0',
      ADDR_SERVER_GRPC_PORT: '0',
      POD_IP: '10.1.0.77',
    });
    const [, httpPort] = (await fromEnv.waitFor(/http=127\.0\.0\.1:(\d+) grpc=127\.0\.0\.1:\d+/)) as RegExpMatchArray;
    assert.equal(await (await fetch(`http://127.0.0.1:${httpPort}/addr`)).text(), '10.1.0.77');
    await fromEnv.stop();
  });
});

describe('addr-server --max-connection-age-ms', () => {
  it('sends GOAWAY once a connection reaches that age, so clients reconnect (and re-balance)', async () => {
    const server = await startServer('10.1.0.8', ['--max-connection-age-ms', '300']);
    const session = connect(`http://127.0.0.1:${server.grpcPort}`);
    try {
      await once(session, 'connect');
      const [code] = (await Promise.race([
        once(session, 'goaway'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no GOAWAY within 5 s')), 5000).unref()),
      ])) as [number];
      assert.equal(code, constants.NGHTTP2_NO_ERROR);
    } finally {
      session.destroy();
      await server.stop();
    }
  });
});
