// `out/lab scale N`: what `kubectl scale -n grpc-lb --replicas=N deployment/addr-server` does, for
// those without kubectl: a merge patch on the Deployment's scale subresource of the lab's API.
import { request } from 'node:http';
import { errorText, EXIT_USAGE } from '../../common/cli.js';

/** Where `lab up` serves its Kubernetes API unless told otherwise. */
export const DEFAULT_API_PORT = 30000;

export interface ScaleOptions {
  replicas: number;
  apiPort: number;
}

const PATH = '/apis/apps/v1/namespaces/grpc-lb/deployments/addr-server/scale';

export async function scale({ replicas, apiPort }: ScaleOptions): Promise<number> {
  try {
    const { status, body } = await patch(apiPort, JSON.stringify({ spec: { replicas } }));
    if (status !== 200) {
      console.error(`lab scale: ${(body as { message?: string }).message ?? `HTTP ${status}`}`);
      return status === 422 ? EXIT_USAGE : 1;
    }
    console.log('deployment.apps/addr-server scaled');
    return 0;
  } catch (error) {
    const refused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    console.error(
      refused
        ? `lab scale: no lab is running on 127.0.0.1:${apiPort} — start one with \`out/lab up\``
        : `lab scale: ${errorText(error)}`,
    );
    return 1;
  }
}

function patch(port: number, body: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'PATCH',
        path: PATH,
        timeout: 5000,
        headers: { 'content-type': 'application/merge-patch+json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(new Error(`unexpected answer from 127.0.0.1:${port}: ${text.slice(0, 80)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(body);
  });
}
