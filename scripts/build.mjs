// Builds out/: one executable bundle per program (our code, with a shebang), the .proto it loads,
// and the production dependencies, so that out/ runs with `node` alone — the same tree the images copy.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const programs = {
  server: 'src/server/main.ts',
  'client-http': 'src/clients/client-http.ts',
  'client-grpc': 'src/clients/client-grpc.ts',
  lab: 'src/lab/main.ts',
  mesh: 'src/lab/mesh-main.ts',
};

mkdirSync('out', { recursive: true });
await build({
  entryPoints: Object.entries(programs).map(([out, entry]) => ({ in: entry, out })),
  outdir: 'out',
  bundle: true,
  packages: 'external', // dependencies stay in out/node_modules: some load their own .proto files at run time
  platform: 'node',
  format: 'esm',
  target: 'node22',
  banner: { js: '#!/usr/bin/env node' },
  sourcemap: 'inline',
  logLevel: 'warning',
});
for (const name of Object.keys(programs)) {
  renameSync(`out/${name}.js`, `out/${name}`);
  chmodSync(`out/${name}`, 0o755);
}
// The lab's dashboard: its page bundled for the browser, uPlot included, so that it works offline.
await build({
  entryPoints: ['src/lab/dashboard/page/page.ts', 'src/lab/dashboard/page/page.css'],
  outdir: 'out/dashboard',
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  logLevel: 'warning',
});
cpSync('src/lab/dashboard/page/index.html', 'out/dashboard/index.html');
cpSync('proto', 'out/proto', { recursive: true });
mkdirSync('out/k8s', { recursive: true });
cpSync('k8s/server.yml', 'out/k8s/server.yml'); // the lab runs the manifest Skaffold deploys

// Production dependencies, installed from the lockfile; skipped when out/ already has this lockfile's set.
const lock = readFileSync('package-lock.json', 'utf8');
const installed =
  existsSync('out/node_modules') &&
  existsSync('out/package-lock.json') &&
  readFileSync('out/package-lock.json', 'utf8') === lock;
if (!installed) {
  cpSync('package.json', 'out/package.json');
  writeFileSync('out/package-lock.json', lock);
  console.log('build: installing production dependencies into out/node_modules');
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: 'out',
    stdio: 'inherit',
  });
}
console.log(`build: out/{${Object.keys(programs).join(',')}} ready`);
