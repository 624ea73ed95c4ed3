// Builds out/: one bundle per program (our code; its dependencies stay in out/node_modules) behind a small
// executable launcher, the .proto it loads, and the production dependencies, so that out/ runs with `node`
// alone — the same tree the images copy.
//
// Every entry point first says, in one line, which Node.js it needs and which it found, and stops there
// on an older one (it would fail later and obscurely). The requirement is package.json's engines.node.
// A bundle cannot check for itself: ESM evaluates a module's static imports before any of its own code.
// So each out/<program> is a launcher that checks, then imports out/<program>.mjs; and this script
// checks (scripts/node-version.mjs) before it imports esbuild.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { requireNode, versionText } from './node-version.mjs';
import { programs } from './programs.mjs';

const minimum = requireNode('build');
const { build } = await import('esbuild');

mkdirSync('out', { recursive: true });
await build({
  entryPoints: Object.entries(programs).map(([out, entry]) => ({ in: entry, out })),
  outdir: 'out',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  packages: 'external', // dependencies stay in out/node_modules: some load their own .proto files at run time
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: 'inline',
  logLevel: 'warning',
});
for (const name of Object.keys(programs)) {
  rmSync(`out/${name}`, { force: true });
  writeFileSync(`out/${name}`, launcher(name, minimum), { mode: 0o755 });
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
cpSync('scenarios', 'out/scenarios', { recursive: true }); // the built-in scenarios, beside the lab that runs them
mkdirSync('out/k8s', { recursive: true });
// The lab runs the manifests Skaffold deploys: the server's, and every strategy's folder (lab compare, lab up
// --strategies); the fault Deployments ship beside them, as a user deploys them.
cpSync('k8s/server.yml', 'out/k8s/server.yml');
for (const dir of ['strategies', 'faults']) {
  rmSync(`out/k8s/${dir}`, { recursive: true, force: true }); // a file deleted from k8s/ goes from out/ too
  cpSync(`k8s/${dir}`, `out/k8s/${dir}`, { recursive: true });
}

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

/**
 * out/<name>: checks the Node.js version, then runs out/<name>.mjs. Written to run on any Node.js, as
 * CommonJS or as ESM (an extensionless file's type depends on the Node.js version): no import or export
 * statement, no import.meta, no top-level await.
 * @param {string} name
 * @param {import('./node-version.mjs').Version} minimum
 */
function launcher(name, [major, minor, patch]) {
  return `#!/usr/bin/env node
// ${name}: checks the Node.js version, then runs ${name}.mjs (the program's own imports would be evaluated
// before any check inside it could run).
const found = process.versions.node.split('.').map(Number);
const need = [${major}, ${minor}, ${patch}];
const older = found[0] !== need[0] ? found[0] < need[0] : found[1] !== need[1] ? found[1] < need[1] : found[2] < need[2];
if (older) {
  process.stderr.write('${name}: needs Node.js >= ${versionText([major, minor, patch])}, found ' + process.version + ' (' + process.execPath + ')\\n');
  process.exit(1);
}
import('./${name}.mjs');
`;
}
