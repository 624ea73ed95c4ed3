// `out/lab scale N`: what `kubectl scale -n grpc-lb --replicas=N deployment/addr-server` does, for
// those without kubectl: a merge patch on the Deployment's scale subresource of the lab's API.
import { request } from 'node:http';
import type { CommandModule, InferredOptionTypes } from 'yargs';
import { errorText, EXIT_USAGE, parseNumber } from '../../common/cli.js';
import { MAX_REPLICAS } from '../cluster.js';
import { DEFAULT_API_PORT } from '../defaults.js';
import { apiPortOption } from './options.js';

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

const replicaKind = { min: 0, max: MAX_REPLICAS, noun: 'a whole number of replicas' };
const scaleOptions = {
  replicas: {
    type: 'string',
    describe: `new replica count, 0 to ${MAX_REPLICAS}`,
    demandOption: true,
    coerce: (value: unknown) => parseNumber(value, replicaKind, 'replicas'),
  },
  ...apiPortOption(DEFAULT_API_PORT),
} as const;

export function scaleCommand(): CommandModule<object, InferredOptionTypes<typeof scaleOptions>> {
  return {
    command: 'scale <replicas>',
    describe: 'change the replica count of the running lab, as `kubectl scale` does through its API',
    builder: scaleOptions,
    handler: async (argv) => process.exit(await scale({ replicas: argv.replicas, apiPort: argv['api-port'] })),
  };
}
