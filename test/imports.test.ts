// The code's layers point one way, and no module imports itself round a cycle: read from the import
// statements of every file under src/ (type-only imports count: a cycle of types is still a knot).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../src', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'page' ? [] : files(path); // the browser page is its own build
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** file (relative to src/) → the files under src/ it imports. */
function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of files(root)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/g)].map((match) =>
      relative(root, resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts'))),
    );
    edges.set(relative(root, file), targets);
  }
  return edges;
}

/** The strongly connected components of more than one file (Tarjan): every import cycle. */
function cycles(edges: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    on.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (on.has(next)) low.set(node, Math.min(low.get(node) as number, indices.get(next) as number));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        on.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (edges.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!indices.has(node)) visit(node);
  return found;
}

/** Which folders a folder's files may import from (besides their own). */
const LAYERS: Array<[string, string[]]> = [
  ['common/', []],
  ['server/', ['common/']],
  ['clients/', ['common/']],
  ['xds/', ['common/', 'clients/']],
  ['lab/api/', ['common/']],
  ['lab/controllers/', ['common/', 'lab/api/']],
  ['lab/node/', ['common/', 'lab/api/', 'lab/controllers/']],
  ['lab/data-plane/', ['common/', 'lab/api/', 'xds/']],
];

describe('imports', () => {
  const edges = graph();

  it('reads the import statements (the check would pass on nothing otherwise)', () => {
    assert.ok(edges.size > 50, `${edges.size} files`);
    assert.ok((edges.get('lab/cluster.ts') ?? []).includes('lab/api/store.ts'));
  });

  it('no file imports itself round a cycle', () => {
    assert.deepEqual(cycles(edges), []);
  });

  for (const [folder, allowed] of LAYERS) {
    it(`src/${folder} imports only ${allowed.length ? allowed.map((a) => `src/${a}`).join(', ') : 'nothing else of the kit'}`, () => {
      const outside = [...edges].flatMap(([file, targets]) =>
        file.startsWith(folder)
          ? targets
              .filter((target) => !target.startsWith(folder) && !allowed.some((a) => target.startsWith(a)))
              .map((t) => `${file} → ${t}`)
          : [],
      );
      assert.deepEqual(outside, []);
    });
  }

  it('finds a cycle where there is one', () => {
    const knot = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    assert.deepEqual(cycles(knot), [['a.ts', 'b.ts', 'c.ts']]);
  });
});
