// The mesh's port has the front door a pod's gRPC port has: a connection must send the HTTP/2 preface in
// time and nothing else, their number is capped, and one with no call open for the idle timeout is
// closed. Like Linkerd's proxy it advertises no limit on concurrent streams.
import assert from 'node:assert/strict';
import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { HTTP2_PREFACE } from '../src/common/front-door.js';
import { meshOver, startPod, type TestPod } from './support/mesh-pods.js';
import { waitUntil } from './support/wait.js';

const pods: TestPod[] = [];
after(() => pods.forEach((p) => p.server.forceShutdown()));

/** A raw connection to the mesh's port that records when it was closed. */
function raw(port: number): { socket: Socket; closed: () => boolean } {
  const socket = connect(port, '127.0.0.1');
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return { socket, closed: () => closed };
}

describe("the mesh's front door", () => {
  it('closes a connection that sends only part of the preface once its time is up, and one that sends anything else at once', async () => {
    pods.push(await startPod('10.7.0.8'));
    const mesh = await meshOver(pods, { listener: { prefaceTimeoutMs: 300 } });
    try {
      const slow = raw(mesh.port);
      slow.socket.write(HTTP2_PREFACE.subarray(0, 10));
      const wrong = raw(mesh.port);
      wrong.socket.write('GET / HTTP/1.1\r\nHost: mesh\r\n\r\n');
      await waitUntil('the HTTP/1 connection closed', wrong.closed, 1000);
      assert.equal(slow.closed(), false, 'a slow preface has its 300 ms');
      await waitUntil('the half preface closed', slow.closed, 2000);
      await waitUntil('no connection left', () => mesh.mesh.connections === 0, 1000);
    } finally {
      await mesh.close();
    }
  });

  it('refuses connections beyond its cap', async () => {
    const mesh = await meshOver(pods, { listener: { maxConnections: 3 } });
    const sockets: Array<ReturnType<typeof raw>> = [];
    try {
      for (let i = 0; i < 5; i++) sockets.push(raw(mesh.port));
      await waitUntil('two refused', () => sockets.filter((s) => s.closed()).length === 2, 2000);
      assert.equal(mesh.mesh.connections, 3);
    } finally {
      sockets.forEach((s) => s.socket.destroy());
      await mesh.close();
    }
  });

  it('sends GOAWAY to a connection with no call open for the idle timeout, and advertises no stream limit', async () => {
    const mesh = await meshOver(pods, { listener: { idleTimeoutMs: 300 } });
    let session: ClientHttp2Session | undefined;
    try {
      session = connectHttp2(`http://127.0.0.1:${mesh.port}`);
      session.on('error', () => undefined);
      const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve) =>
        session?.once('remoteSettings', resolve),
      );
      assert.equal(settings.maxConcurrentStreams, 2 ** 32 - 1, 'none advertised (the protocol default: unlimited)');
      let goaway = false;
      session.on('goaway', () => (goaway = true));
      await waitUntil('GOAWAY on the idle connection', () => goaway, 2000);
    } finally {
      session?.destroy();
      await mesh.close();
    }
  });
});
