// The checkout's root, ending in a slash: where the tests find the files they read (manifests, docs,
// proto/, the Dockerfile) and the built programs (out/).
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
