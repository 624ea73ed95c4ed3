// Builds out/: one bundle per program (our code; its dependencies stay in out/node_modules) behind a small
// executable launcher, the .proto it loads, and the production dependencies, so that out/ runs with `node`
// alone — the same tree the images copy.
//
// Every entry point first says, in one line, which Node.js it needs and which it found, and stops there
// on an older one (it would fail later and obscurely). The requirement is package.json's engines.node.
// A bundle cannot check for itself: ESM evaluates a module's static imports before any of its own code.
// So each out/<program> is a launcher that checks, then imports out/<program>.mjs; and this script
// checks before it imports esbuild.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync('package.json', 'utf8'));
const minimum = minimumNode(packageJson.engines?.node);
if (!nodeAtLeast(process.versions.node, minimum)) {
  console.error(
    `build: grpc-lb needs Node.js >= ${versionText(minimum)}, found ${process.version} (${process.execPath})`,
  );
  process.exit(1);
}
const { build } = await import('esbuild');

const programs = {
  server: 'src/server/main.ts',
  'client-http': 'src/clients/client-http.ts',
  'client-grpc': 'src/clients/client-grpc.ts',
  lab: 'src/lab/main.ts',
  mesh: 'src/lab/mesh-main.ts',
  'xds-control-plane': 'src/xds/main.ts',
};

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

/** engines.node as [major, minor, patch]; only the form ">=X.Y[.Z]" (so a change to it is noticed here). */
function minimumNode(range) {
  const match = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(range ?? '');
  if (!match) throw new Error(`build: package.json engines.node must read ">=X.Y[.Z]", got ${JSON.stringify(range)}`);
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

function versionText([major, minor, patch]) {
  return `${major}.${minor}${patch ? `.${patch}` : ''}`;
}

function nodeAtLeast(version, [major, minor, patch]) {
  const [a = 0, b = 0, c = 0] = version.split('.').map(Number);
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/**
 * out/<name>: checks the Node.js version, then runs out/<name>.mjs. Written to run on any Node.js, as
 * CommonJS or as ESM (an extensionless file's type depends on the Node.js version): no import or export
 * statement, no import.meta, no top-level await.
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
