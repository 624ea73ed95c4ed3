// The k8s:/// resolver's pure parts, in-process: the targets client-grpc takes and refuses, and how
// EndpointSlices become the endpoints it balances over. (Against an API with real pods:
// test/e2e/k8s-resolver.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { parseClientGrpcArgs } from '../src/clients/client-grpc-args.js';
import { endpointsOf } from '../src/clients/k8s-endpoints.js';
import { parseK8sTarget } from '../src/clients/k8s-target.js';
import { UsageError } from '../src/common/cli.js';

describe('k8s:/// targets client-grpc refuses (usage, exit 2)', () => {
  const bad: Array<[string, RegExp]> = [
    ['k8s:///', /names no Service/],
    ['k8s:///addr-server', /has no port/],
    ['k8s:///addr-server.grpc-lb:0', /port 0 is out of range/],
    ['k8s:///addr-server.grpc-lb:70000', /port 70000 is out of range/],
    ['k8s:///addr-server.grpc-lb:grpc_port', /neither a port number nor a port name/],
    ['k8s:///Addr_Server:30051', /is not a Service name/],
    ['k8s:///addr-server.grpc-lb.cluster:30051', /neither SERVICE\.NAMESPACE nor/],
    ['k8s://grpc-lb/addr-server:30051', /an authority .* is not supported/],
  ];
  for (const [target, message] of bad) {
    it(target, () => {
      assert.throws(
        () => parseClientGrpcArgs([target], {}),
        (error: unknown) =>
          error instanceof UsageError && new RegExp(`^bad TARGET: .*${message.source}`).test(error.message),
      );
    });
  }

  it('the cluster DNS forms parse to the same Service', () => {
    for (const target of [
      'k8s:///addr-server.grpc-lb:grpc',
      'k8s:///addr-server.grpc-lb.svc:grpc',
      'k8s:///addr-server.grpc-lb.svc.cluster.local:grpc',
    ]) {
      assert.deepEqual(parseK8sTarget(target), { service: 'addr-server', namespace: 'grpc-lb', port: 'grpc' });
    }
    assert.deepEqual(parseK8sTarget('k8s:///addr-server:30051'), {
      service: 'addr-server',
      namespace: undefined,
      port: 30051,
    });
  });
});

describe('EndpointSlices to endpoints', () => {
  type Conditions = NonNullable<V1EndpointSlice['endpoints']>[number]['conditions'];
  const slice = (
    name: string,
    port: { name?: string; port: number },
    endpoints: Array<[string, Conditions?]>,
    addressType = 'IPv4',
  ): V1EndpointSlice => ({
    metadata: { name },
    addressType,
    ports: [port],
    endpoints: endpoints.map(([ip, conditions]) => ({ addresses: [ip], conditions })),
  });
  const hosts = (slices: V1EndpointSlice[], port: number | string) =>
    endpointsOf(slices, port, 's.ns').endpoints.map((e) =>
      e.addresses.map((a) => ('host' in a ? `${a.host}:${a.port}` : a.path)).join(','),
    );

  it('merges all slices, each pod once, ready if any copy of it is', () => {
    const a = slice('a', { name: 'grpc', port: 8 }, [
      ['10.0.0.1', { ready: true }],
      ['10.0.0.2', { ready: false }],
    ]);
    const b = slice('b', { name: 'grpc', port: 8 }, [
      ['10.0.0.2', { ready: true }],
      ['10.0.0.1', { ready: true }],
      ['10.0.0.3', {}],
    ]);
    assert.deepEqual(hosts([a, b], 'grpc'), ['10.0.0.1:8', '10.0.0.2:8', '10.0.0.3:8']);
  });

  it('maps a port name per slice (pods of one Service may serve it on different ports)', () => {
    const a = slice('a', { name: 'grpc', port: 8 }, [['10.0.0.1']]);
    const b = slice('b', { name: 'grpc', port: 9 }, [['10.0.0.2']]);
    assert.deepEqual(hosts([a, b], 'grpc'), ['10.0.0.1:8', '10.0.0.2:9']);
    assert.deepEqual(hosts([a, b], 9), ['10.0.0.2:9']);
  });

  it('leaves out FQDN slices and pods that are neither ready nor serving while terminating', () => {
    const fqdn = slice('f', { port: 8 }, [['pod.example.com']], 'FQDN');
    const a = slice('a', { port: 8 }, [
      ['10.0.0.1', { ready: false, serving: true, terminating: false }],
      ['10.0.0.2', { ready: false, serving: true, terminating: true }],
      ['10.0.0.4', { ready: true }],
    ]);
    assert.deepEqual(hosts([fqdn, a], 8), ['10.0.0.4:8']);
    a.endpoints?.pop();
    assert.deepEqual(hosts([fqdn, a], 8), ['10.0.0.2:8'], 'serving and terminating stands in when none is ready');
  });

  it('says why there is no endpoint', () => {
    assert.match(endpointsOf([], 8, 's.ns').note, /no EndpointSlice for Service s\.ns/);
    const a = slice('a', { name: 'grpc', port: 8 }, [['10.0.0.1', { ready: false }]]);
    assert.match(endpointsOf([a], 'grpc', 's.ns').note, /no ready endpoints/);
    assert.match(endpointsOf([a], 'http', 's.ns').note, /no port named "http" \(its endpoints serve grpc=8\)/);
    assert.match(endpointsOf([a], 80, 's.ns').note, /no endpoint port 80/);
  });
});
