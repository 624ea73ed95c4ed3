// The Node.js the kit needs (package.json's engines.node) against the one running: a script that starts
// with requireNode() says in one line which it needs and which it found, and stops there on an older one
// (it would fail later and obscurely). Written to run on any Node.js, so that it can say so. Run it
// directly as `node scripts/node-version.mjs WHO` to check before a command that is not ours (npm test).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** @typedef {[major: number, minor: number, patch: number]} Version */

/**
 * engines.node as [major, minor, patch]; only the form ">=X.Y[.Z]" (so a change to it is noticed here).
 * @returns {Version}
 */
export function minimumNode() {
  const range = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines?.node;
  const match = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(range ?? '');
  if (!match) throw new Error(`package.json engines.node must read ">=X.Y[.Z]", got ${JSON.stringify(range)}`);
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** @param {Version} version */
export function versionText([major, minor, patch]) {
  return `${major}.${minor}${patch ? `.${patch}` : ''}`;
}

/**
 * @param {string} version process.versions.node
 * @param {Version} minimum
 */
export function nodeAtLeast(version, [major, minor, patch]) {
  const [a = 0, b = 0, c = 0] = version.split('.').map(Number);
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/**
 * Exits 1 with one line, "WHO: grpc-lb needs Node.js >= X.Y, found vA.B.C (path)", on an older Node.js.
 * @param {string} who
 * @returns {Version} the minimum
 */
export function requireNode(who) {
  const minimum = minimumNode();
  if (!nodeAtLeast(process.versions.node, minimum)) {
    console.error(
      `${who}: grpc-lb needs Node.js >= ${versionText(minimum)}, found ${process.version} (${process.execPath})`,
    );
    process.exit(1);
  }
  return minimum;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) requireNode(process.argv[2] ?? 'grpc-lb');
