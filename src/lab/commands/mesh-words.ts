// What the mesh notices, in words: the data plane tells typed events (data-plane/mesh.ts); the lab's
// commands say the ones a person watching wants to read — a pod set aside and back, a connection that
// went silent, no endpoint ready in time.
import type { Mesh } from '../data-plane/mesh.js';

// What a pod left unanswered tells a hung pod from one that answers with errors: said when there is any.
const sent = (n: number) => (n > 0 ? ` (${n} request${n === 1 ? '' : 's'} sent since its last response)` : '');

/** Says `name`'s notable events through `say`, as lines. */
export function sayMeshEvents(name: string, mesh: Mesh, say: (line: string) => void): void {
  mesh.on('tripped', ({ ip, cause, forMs, failures, unanswered }) => {
    const why = cause === 'probe' ? 'failed its probe' : `failed ${failures} calls in a row`;
    say(`${name}: ${ip} ${why}: out of the balancer for ${(forMs / 1000).toFixed(1)} s${sent(unanswered)}`);
  });
  mesh.on('recovered', ({ ip }) => say(`${name}: ${ip} answered its probe: back in the balancer`));
  mesh.on('disconnected', ({ ip, cause, detail, unanswered }) => {
    if (cause === 'ping' || cause === 'connect-timeout')
      say(`${name}: ${ip} ${detail}: connection dropped${sent(unanswered)}`);
  });
  mesh.on('failfast', ({ state }) =>
    say(
      state === 'entered' ? `${name}: no endpoint ready in time: failing fast` : `${name}: an endpoint is ready again`,
    ),
  );
}
