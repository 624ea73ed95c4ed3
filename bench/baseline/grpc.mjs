// The smallest grpc-js server that answers addr.Addr/GetAddr: the benchmark's baseline. It answers what
// addr-server answers (the pod IP and name), so that both serialize the same reply.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const definition = protoLoader.loadSync(new URL('../../proto/addr.proto', import.meta.url).pathname, {
  keepCase: true,
});
const { addr } = /** @type {{ addr: { Addr: grpc.ServiceClientConstructor } }} */ (
  /** @type {unknown} */ (grpc.loadPackageDefinition(definition))
);
const server = new grpc.Server();
const reply = { addr: '10.1.0.8', pod: 'pod-10.1.0.8' };
/** @type {grpc.handleUnaryCall<unknown, typeof reply>} */
const getAddr = (_call, callback) => callback(null, reply);
server.addService(addr.Addr.service, { getAddr });
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(`level=info msg=listening grpc=127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.forceShutdown());
