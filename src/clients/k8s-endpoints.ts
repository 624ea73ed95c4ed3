// From a Service's EndpointSlices to the endpoints grpc-js balances over: a pure function of ALL the
// slices, so that no single event can replace, resurrect or strand addresses (the bugs of resolvers
// that apply each slice event to the address list on its own).
import type { experimental } from '@grpc/grpc-js';
import type { V1EndpointSlice } from '@kubernetes/client-node';

export interface Resolution {
  endpoints: experimental.Endpoint[];
  /** Why there are no endpoints (grpc-js shows it in the calls' errors); '' when there are. */
  note: string;
}

/**
 * Ready endpoints of every slice, each once. Conditions as the EndpointSlice API documents them: a missing
 * `ready` means ready, a missing `serving` defers to `ready`, a missing `terminating` means not terminating.
 * As kube-proxy does, when no endpoint is ready the serving ones that are terminating stand in, so that
 * calls drain to pods still finishing their work rather than fail.
 */
export function endpointsOf(slices: readonly V1EndpointSlice[], port: number | string, service: string): Resolution {
  if (slices.length === 0) {
    return { endpoints: [], note: `no EndpointSlice for Service ${service} (no such Service, or it has no selector)` };
  }
  const ready = new Map<string, experimental.Endpoint>();
  const terminating = new Map<string, experimental.Endpoint>();
  const portsSeen = new Set<string>();
  for (const slice of slices) {
    // FQDN slices name hosts, not pods; grpc-js needs addresses it can connect to.
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    for (const p of slice.ports ?? []) portsSeen.add(p.name ? `${p.name}=${p.port}` : String(p.port));
    const endpointPort = portOf(slice, port);
    if (endpointPort === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (!endpoint.addresses?.length) continue;
      const addresses = endpoint.addresses.map((host) => ({ host, port: endpointPort }));
      const key = addresses.map(({ host }) => `${host}:${endpointPort}`).join(',');
      const isReady = endpoint.conditions?.ready !== false;
      const isServing = endpoint.conditions?.serving ?? isReady;
      if (isReady) ready.set(key, { addresses });
      else if (isServing && endpoint.conditions?.terminating === true) terminating.set(key, { addresses });
    }
  }
  // A pod listed twice (slices overlap while the controller moves it) counts once, ready if any copy is.
  for (const key of ready.keys()) terminating.delete(key);
  const chosen = ready.size > 0 ? ready : terminating;
  const endpoints = [...chosen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, endpoint]) => endpoint);
  if (endpoints.length > 0) return { endpoints, note: '' };
  const anyPort = slices.some((slice) => portOf(slice, port) !== undefined);
  const known = portsSeen.size > 0 ? ` (its endpoints serve ${[...portsSeen].join(', ')})` : '';
  if (!anyPort) {
    const what = typeof port === 'number' ? `endpoint port ${port}` : `port named "${port}"`;
    return { endpoints: [], note: `Service ${service} has no ${what}${known}` };
  }
  return { endpoints: [], note: `Service ${service} has no ready endpoints` };
}

/** The port the slice's endpoints serve `port` on; undefined when the slice does not serve it. */
function portOf(slice: V1EndpointSlice, port: number | string): number | undefined {
  if (typeof port === 'string') return slice.ports?.find((p) => p.name === port)?.port;
  // A number is the pods' own port (see README); a slice without ports leaves every port open.
  if (!slice.ports?.length || slice.ports.some((p) => p.port === port)) return port;
  return undefined;
}
