// The real kubectl against a kubeconfig, with a cache directory of its own (no discovery left over from
// another server).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

export interface Kubectl {
  (args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** a long-running kubectl (`get -w`, `logs -f`) and its output so far */
  spawn(args: string[]): { child: ChildProcess; output: () => string };
}

export function kubectlFor(kubeconfig: string): Kubectl {
  const base = ['--kubeconfig', kubeconfig, '--cache-dir', mkdtempSync(`${tmpdir()}/grpc-lb-kubectl-`)];
  const run = (args: string[], timeoutMs = 30_000) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('kubectl', [...base, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}${error.message}` : stderr });
      });
    });
  return Object.assign(run, {
    spawn(args: string[]) {
      const child = spawn('kubectl', [...base, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      return { child, output: () => text };
    },
  });
}
