// The one order of IP addresses everything the kit prints uses: numeric, octet by octet (so 10.1.0.9
// comes before 10.1.0.10, and pods of two /24s do not interleave); anything that is not an IPv4
// address after those, in text order.

const octets = (ip: string): number[] | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part))) return undefined;
  return parts.map(Number);
};

export function compareIps(a: string, b: string): number {
  const pa = octets(a);
  const pb = octets(b);
  if (pa && pb) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] as number) - (pb[i] as number);
    return 0;
  }
  if (pa) return -1;
  if (pb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export const sortIps = (ips: Iterable<string>): string[] => [...ips].sort(compareIps);
