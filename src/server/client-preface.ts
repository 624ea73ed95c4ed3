// What an HTTP/2 client must send first (RFC 9113 §3.4): the 24-octet connection preface ("magic"),
// then a SETTINGS frame, possibly empty. The gRPC port's front door reads this much itself before it
// hands a connection over to grpc-js, so that a connection that is not an HTTP/2 client — or one that
// sends the magic and then nothing — costs a short bound, not grpc-js's idle or keepalive timeouts.

export const MAGIC = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

const FRAME_HEADER = 9;
const SETTINGS = 0x4;
const ACK = 0x1;
/** SETTINGS_MAX_FRAME_SIZE's initial value: no frame may be longer before the settings are exchanged. */
const MAX_FRAME = 16_384;

/** How far the bytes seen so far go: still in the magic, waiting for the SETTINGS frame, all there, or not HTTP/2. */
export type PrefaceProgress = 'magic' | 'settings' | 'complete' | 'invalid';

export function prefaceProgress(seen: Buffer): PrefaceProgress {
  const magic = Math.min(seen.length, MAGIC.length);
  if (seen.compare(MAGIC, 0, magic, 0, magic) !== 0) return 'invalid';
  if (seen.length < MAGIC.length) return 'magic';
  if (seen.length < MAGIC.length + FRAME_HEADER) return 'settings';
  const at = MAGIC.length;
  const length = seen.readUIntBE(at, 3);
  const type = seen[at + 3] as number;
  const flags = seen[at + 4] as number;
  const stream = seen.readUInt32BE(at + 5) & 0x7fff_ffff;
  // The first frame must be SETTINGS, not an acknowledgement, on stream 0, made of 6-octet entries.
  if (type !== SETTINGS || flags & ACK || stream !== 0 || length % 6 !== 0 || length > MAX_FRAME) return 'invalid';
  return seen.length < at + FRAME_HEADER + length ? 'settings' : 'complete';
}
