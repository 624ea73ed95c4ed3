// The kubeconfig that points kubectl and @kubernetes/client-node at the lab: cluster and context
// `grpc-lb-lab`, namespace `grpc-lb`, a user without credentials (the API listens on loopback only).
// `insecure-skip-tls-verify` is what lets @kubernetes/client-node 2.x use a plain http:// server.
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const LAB_CONTEXT = 'grpc-lb-lab';
export const LAB_NAMESPACE = 'grpc-lb';

/** Where the lab writes its kubeconfig unless told otherwise: one file per API port. */
export const defaultKubeconfigPath = (port: number) => join(tmpdir(), `grpc-lb-lab-${port}.kubeconfig`);

function kubeconfigText(server: string, namespace = LAB_NAMESPACE): string {
  // JSON strings are valid YAML scalars: the values go in quoted, whatever they hold.
  const q = JSON.stringify;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${q(LAB_CONTEXT)}`,
    '  cluster:',
    `    server: ${q(server)}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${q(LAB_CONTEXT)}`,
    '  user: {}',
    'contexts:',
    `- name: ${q(LAB_CONTEXT)}`,
    '  context:',
    `    cluster: ${q(LAB_CONTEXT)}`,
    `    user: ${q(LAB_CONTEXT)}`,
    `    namespace: ${q(namespace)}`,
    `current-context: ${q(LAB_CONTEXT)}`,
    '',
  ].join('\n');
}

/** Writes the kubeconfig for the API at `server` (http://127.0.0.1:PORT) and resolves with its path. */
export async function writeKubeconfig(
  server: string,
  path = defaultKubeconfigPath(Number(new URL(server).port)),
): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, kubeconfigText(server), { mode: 0o600 });
  return path;
}
