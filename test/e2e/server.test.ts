// addr-server answers who it is over HTTP and gRPC, with health and reflection.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, constants } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { fromBinary, toJson } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, file_google_protobuf_empty } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { addrClient, getAddr, healthCheck, listServices, reflect } from '../support/grpc.js';
import { scrape, total } from '../support/prometheus.js';
import { fetchAndLink } from '../support/reflection-client.js';
import { parseListening } from '../../src/common/output.js';
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

  for (const version of ['v1', 'v1alpha'] as const) {
    it(`reflection ${version}: lists its services, itself included`, async () => {
      assert.deepEqual((await listServices(server.grpcPort, version)).sort(), [
        'addr.Addr',
        'grpc.health.v1.Health',
        'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection',
      ]);
    });

    it(`reflection ${version}: addr.Addr links in a client that has the well-known types compiled in (Go, buf)`, async () => {
      const registry = await fetchAndLink(server.grpcPort, 'addr.Addr', version);
      const method = registry.getService('addr.Addr')?.methods.find((m) => m.name === 'GetAddr');
      assert.equal(method?.input.typeName, 'google.protobuf.Empty');
      assert.equal(method?.input.file.proto.name, 'google/protobuf/empty.proto');
      assert.deepEqual(
        method?.output.fields.map((f) => f.name),
        ['addr', 'pod'],
      );
      assert.equal(registry.getFile('addr.proto')?.proto.options?.goPackage, 'grpc-lb/addr', "addr.proto's options");
    });

    it(`reflection ${version}: serves the well-known and the gRPC files under their standard names`, async () => {
      const response = await reflect(server.grpcPort, { file_by_filename: 'google/protobuf/empty.proto' }, version);
      const [bytes] = response.file_descriptor_response?.file_descriptor_proto ?? [];
      assert.ok(bytes, JSON.stringify(response.error_response));
      assert.deepEqual(
        toJson(FileDescriptorProtoSchema, fromBinary(FileDescriptorProtoSchema, bytes)),
        toJson(FileDescriptorProtoSchema, file_google_protobuf_empty.proto),
        'the same google/protobuf/empty.proto as the one compiled into clients',
      );
      for (const [symbol, file] of [
        ['grpc.health.v1.Health', 'grpc/health/v1/health.proto'],
        ['grpc.reflection.v1.ServerReflection', 'grpc/reflection/v1/reflection.proto'],
        ['grpc.reflection.v1alpha.ServerReflection', 'grpc/reflection/v1alpha/reflection.proto'],
      ] as const) {
        const registry = await fetchAndLink(server.grpcPort, symbol, version);
        assert.equal(registry.getService(symbol)?.file.proto.name, file);
      }
    });
  }

  it('starts under the variables a kubelet sets for Services named addr-server, addr-server-grpc and -http (service links), and ignores them', async () => {
    // pkg/kubelet/envvars, for each Service in the namespace: <NAME>_SERVICE_HOST, <NAME>_PORT=tcp://…, …
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
      ADDR_SERVER_GRPC_SERVICE_HOST: '10.96.0.5',
      ADDR_SERVER_GRPC_PORT: 'tcp://10.96.0.5:30051',
      ADDR_SERVER_HTTP_PORT: 'tcp://10.96.0.6:80',
    };
    const withLinks = start('server', ['--host', '127.0.0.1', '--grpc-port', '0', '--http-port', '0'], {
      ...serviceLinks,
      POD_IP: '10.1.0.78',
    });
    try {
      const listening = parseListening((await withLinks.waitFor(/msg=listening /)).input ?? '');
      assert.equal(await (await fetch(`http://127.0.0.1:${listening?.http.port}/addr`)).text(), '10.1.0.78');
      for (const variable of ['ADDR_SERVER_GRPC_PORT', 'ADDR_SERVER_HTTP_PORT'])
        assert.ok(
          withLinks.lines.some((l) => l.includes('service link') && l.includes(`variable=${variable}`)),
          `says that it ignored ${variable}:\n${withLinks.lines.join('\n')}`,
        );
    } finally {
      await withLinks.stop();
    }
  });

  it('takes its options from ADDR_SERVER_* environment variables', async () => {
    const fromEnv = start('server', [], {
      ADDR_SERVER_HOST: '127.0.0.1',
      ADDR_SERVER_HTTP_PORT: '0',
      ADDR_SERVER_GRPC_PORT: '0',
      POD_IP: '10.1.0.77',
    });
    const [, httpPort] = await fromEnv.waitFor(/http=127\.0\.0\.1:(\d+) grpc=127\.0\.0\.1:\d+/);
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

describe('addr-server playing faults', () => {
  /** GetAddr's outcome: the address, or the status name it failed with. */
  const outcome = (port: number, deadlineMs = 5000) =>
    new Promise<string>((resolve) => {
      const client = addrClient(port);
      client.getAddr({}, { deadline: Date.now() + deadlineMs }, (error, reply) => {
        client.close();
        resolve(error ? grpc.status[error.code] : (reply?.addr ?? ''));
      });
    });

  it('fails fast with --fail-percent 100: GetAddr with --fail-code, /addr with its HTTP status; health still passes', async () => {
    // --delay-ms 5000 too: a failing answer must not wait for it (a fast-failing pod).
    const server = await startServer('10.1.0.8', [
      '--fail-percent',
      '100',
      '--fail-code',
      'RESOURCE_EXHAUSTED',
      '--delay-ms',
      '5000',
    ]);
    const url = `http://127.0.0.1:${server.httpPort}`;
    try {
      assert.equal(await outcome(server.grpcPort, 2000), 'RESOURCE_EXHAUSTED');
      const addr = await fetch(`${url}/addr`, { signal: AbortSignal.timeout(2000) });
      assert.equal(addr.status, 429, 'google.rpc.Code: RESOURCE_EXHAUSTED is HTTP 429');
      assert.match(await addr.text(), /RESOURCE_EXHAUSTED/);
      assert.equal((await fetch(`${url}/health`)).status, 200);
      assert.equal(await healthCheck(server.grpcPort), 'SERVING');
      assert.equal(await healthCheck(server.grpcPort, 'addr.Addr'), 'SERVING');

      const scraped = await scrape(`${url}/metrics`);
      assert.equal(total(scraped, 'addr_server_fault_fail_ratio', { code: 'RESOURCE_EXHAUSTED' }), 1);
      assert.equal(total(scraped, 'addr_server_fault_delay_seconds'), 5);
      assert.equal(
        total(scraped, 'addr_server_requests_total', { method: 'addr.Addr/GetAddr', code: 'RESOURCE_EXHAUSTED' }),
        1,
      );
      assert.equal(total(scraped, 'addr_server_requests_total', { method: 'GET /addr', code: '429' }), 1);
    } finally {
      await server.stop();
    }
  });

  it('fails UNAVAILABLE and 503 by default', async () => {
    const server = await startServer('10.1.0.8', ['--fail-percent', '100']);
    try {
      assert.equal(await outcome(server.grpcPort), 'UNAVAILABLE');
      assert.equal((await fetch(`http://127.0.0.1:${server.httpPort}/addr`)).status, 503);
    } finally {
      await server.stop();
    }
  });

  it('delays every answer by --delay-ms plus the jitter, and says so in /metrics', async () => {
    const server = await startServer('10.1.0.8', ['--delay-ms', '300', '--delay-jitter-ms', '100']);
    try {
      assert.equal(await outcome(server.grpcPort, 100), 'DEADLINE_EXCEEDED', 'no answer within 100 ms');
      assert.equal(await outcome(server.grpcPort, 10_000), '10.1.0.8');
      const scraped = await scrape(`http://127.0.0.1:${server.httpPort}/metrics`);
      assert.equal(total(scraped, 'addr_server_fault_delay_seconds'), 0.3);
      assert.equal(total(scraped, 'addr_server_fault_delay_jitter_seconds'), 0.1);
      assert.equal(total(scraped, 'addr_server_fault_fail_ratio', { code: 'UNAVAILABLE' }), 0);
    } finally {
      await server.stop();
    }
  });
});
