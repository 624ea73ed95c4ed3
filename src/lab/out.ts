// What the lab runs and reads: the programs and files built beside it in out/ (the same tree the images
// copy). Pods run the image's program; the commands read the kit's manifests and scenarios from here.
import type { Programs } from './node/images.js';

export interface Out extends Programs {
  /** out/lab itself, for its `probe` command */
  lab: string;
  /** the dashboard's page */
  dashboard: string;
  /** a file shipped in out/: k8s/server.yml, scenarios/post.yml, … */
  file(name: string): string;
}
