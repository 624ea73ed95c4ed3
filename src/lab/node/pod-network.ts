// The pod network: every pod gets an address of its own in the lab's /24 inside 127.0.0.0/8 (all of it
// is local on Linux), .8 upwards as kind's pods get theirs, and listens there on its container ports, as
// a pod does on its own IP. Where the machine has no loopback addresses besides 127.0.0.1 (macOS by
// default), pods listen on 127.0.0.1 on ports of their own, and the pod IPs are labels: `dial` says
// where each pod's port really is.
import { createServer } from 'node:net';

export const DEFAULT_POD_CIDR = '127.244.0.0/24';
const FIRST_HOST = 8;
const HOSTS = 240;

export class PodNetwork {
  readonly prefix: string;
  /** false where this machine cannot bind addresses of 127.0.0.0/8 other than 127.0.0.1 */
  ownAddresses = true;
  readonly #inUse = new Set<string>();
  readonly #ports = new Map<string, Map<number, number>>();
  #next = 0;

  constructor(readonly cidr: string = DEFAULT_POD_CIDR) {
    this.prefix = cidr.replace(/\.0\/24$/, '.');
  }

  /** Finds out whether pods can have addresses of their own here (`force`: take this answer instead). */
  async probe(force?: boolean): Promise<boolean> {
    this.ownAddresses = force ?? (await canBind(`${this.prefix}1`));
    return this.ownAddresses;
  }

  /** A free pod IP, or undefined when every address of the /24 is taken. */
  allocate(): string | undefined {
    for (let tries = 0; tries < HOSTS; tries++) {
      const ip = `${this.prefix}${FIRST_HOST + (this.#next++ % HOSTS)}`;
      if (!this.#inUse.has(ip)) {
        this.#inUse.add(ip);
        return ip;
      }
    }
    return undefined;
  }

  release(ip: string): void {
    this.#inUse.delete(ip);
    this.#ports.delete(ip);
  }

  /** Where a pod listening on 127.0.0.1 got each of its container ports (no addresses of its own). */
  mapPorts(ip: string, ports: Map<number, number>): void {
    this.#ports.set(ip, ports);
  }

  /** Where to connect to a pod's container port. */
  dial(ip: string, port: number): { host: string; port: number } {
    if (this.ownAddresses) return { host: ip, port };
    return { host: '127.0.0.1', port: this.#ports.get(ip)?.get(port) ?? port };
  }
}

/** Whether this machine can listen on `address`. */
function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, address, () => probe.close(() => resolve(true)));
  });
}
