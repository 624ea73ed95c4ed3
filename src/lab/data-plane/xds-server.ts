// The lab's xDS control plane: the ADS server out/xds-control-plane also runs (src/xds/ads-server.ts), fed
// by the lab's own endpoints instead of EndpointSlices, on loopback, with the bootstrap its clients get.
import { AdsServer } from '../../xds/ads-server.js';
import type { Endpoints } from './endpoints.js';

export class XdsServer extends AdsServer {
  /** `service`: the name clients dial (xds:///addr-server). */
  constructor(service: string, endpoints: Endpoints) {
    super(service, endpoints, { locality: { region: 'lab', zone: 'lab' } });
  }

  /** What a client's GRPC_XDS_BOOTSTRAP_CONFIG says: where the control plane is, and who the client is. */
  bootstrap(port: number, nodeId: string): string {
    return JSON.stringify({
      xds_servers: [
        { server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
      ],
      node: { id: nodeId, locality: { zone: 'lab' } },
    });
  }
}
