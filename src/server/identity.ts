// Who this pod is. Kubernetes hands the pod IP over through the downward API (POD_IP);
// natively we take the machine's first non-internal IPv4 address. Never a network call.
import { hostname, networkInterfaces } from 'node:os';

export interface PodIdentity {
  ip: string;
  name: string;
}

export function podIdentity(env: NodeJS.ProcessEnv = process.env): PodIdentity {
  return {
    ip: env.POD_IP?.trim() || firstExternalIPv4() || '127.0.0.1',
    name: env.POD_NAME?.trim() || hostname(),
  };
}

function firstExternalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return undefined;
}
