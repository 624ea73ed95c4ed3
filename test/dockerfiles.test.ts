// The one Dockerfile and its four targets: what it copies is in the build context, each target runs a
// program the build produces, holds only out/ (through the shared runtime stage) and runs as an
// unprivileged user; Skaffold builds each image from its target.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import dockerignoreModule from '@balena/dockerignore';
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { parse } from 'yaml';
import { programs } from '../scripts/programs.mjs';
import { root } from './support/root.js';

/** Each target: the program it runs, and the image Skaffold builds from it. */
const TARGETS = {
  server: 'addr-server',
  'client-http': 'addr-client-http',
  'client-grpc': 'addr-client-grpc',
  'xds-control-plane': 'addr-xds-control-plane',
} as const;

// CommonJS (module.exports = factory) typed as an ES default export
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;
const ignore = dockerignore({ ignorecase: false }).add(readFileSync(`${root}.dockerignore`, 'utf8'));

interface Stage {
  name: string | undefined;
  /** the stage (or image) it starts FROM */
  base: string;
  instructions: Instruction[];
}

const args = (instruction: Instruction) => instruction.getArguments().map((a) => a.getValue());
const jsonArgs = (instruction: Instruction) => JSON.parse(instruction.getArgumentsContent() ?? '[]') as string[];

const stages: Stage[] = [];
for (const instruction of DockerfileParser.parse(readFileSync(`${root}Dockerfile`, 'utf8')).getInstructions()) {
  if (instruction.getKeyword() === 'FROM') {
    const [base = '', as, name] = args(instruction);
    stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, base, instructions: [] });
  }
  stages.at(-1)?.instructions.push(instruction);
}
const stage = (name: string) => {
  const found = stages.find((s) => s.name === name);
  assert.ok(found, `no stage ${name}`);
  return found;
};
/** A stage and the stages it is built FROM, nearest first. */
const lineage = (name: string): Stage[] => {
  const first = stage(name);
  const parent = stages.find((s) => s.name === first.base);
  return parent ? [first, ...lineage(parent.name as string)] : [first];
};
/** The last value of an instruction in a target, its own or inherited. */
const last = (name: string, keyword: string) =>
  lineage(name)
    .flatMap((s) => s.instructions.filter((i) => i.getKeyword() === keyword).reverse())
    .at(0);

/** Where each COPY in a stage puts things, resolved against WORKDIR. */
function copies(s: Stage) {
  let workdir = '/';
  const result: Array<{ from: string | undefined; sources: string[]; dest: string }> = [];
  for (const instruction of s.instructions) {
    if (instruction.getKeyword() === 'WORKDIR') workdir = posix.resolve(workdir, args(instruction)[0] ?? '/');
    if (instruction.getKeyword() !== 'COPY') continue;
    const paths = args(instruction);
    const dest = paths.pop() ?? '';
    result.push({
      from: (instruction as Copy).getFromFlag()?.getValue() ?? undefined,
      sources: paths,
      dest: posix.resolve(workdir, dest) + (dest.endsWith('/') || dest === '.' || dest === './' ? '/' : ''),
    });
  }
  return result;
}

describe('Dockerfile', () => {
  const build = stage('build');
  const runtime = stage('runtime');

  it('every COPY source exists in the build context and is not excluded by .dockerignore', () => {
    for (const s of stages) {
      for (const copy of copies(s).filter((c) => c.from === undefined)) {
        for (const source of copy.sources) {
          assert.ok(existsSync(`${root}${source}`), `${source} does not exist`);
          assert.ok(!ignore.ignores(source.replace(/\/$/, '')), `${source} is excluded by .dockerignore`);
        }
      }
    }
    assert.ok(ignore.ignores('node_modules') && ignore.ignores('out') && ignore.ignores('.git'), 'context stays small');
  });

  it('the build stage runs scripts/build.mjs; the runtime stage copies only its out/ and runs as non-root', () => {
    const runs = build.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent());
    assert.ok(runs.some((command) => command?.includes('scripts/build.mjs')));
    assert.equal(runtime.base, build.base, 'the same Node.js image as the build');
    const runtimeCopies = copies(runtime);
    assert.deepEqual(
      runtimeCopies.map(({ from, sources, dest }) => [from, sources, dest]),
      [['build', ['/src/out/'], '/app/']],
    );
    assert.ok(!runtime.instructions.some((i) => i.getKeyword() === 'RUN'), 'nothing is compiled or installed');
  });

  for (const target of Object.keys(TARGETS)) {
    it(`target ${target}: the runtime stage and nothing more; it runs out/${target} as an unprivileged user`, () => {
      const own = stage(target);
      assert.equal(own.base, 'runtime');
      assert.deepEqual(
        own.instructions.map((i) => i.getKeyword()).filter((k) => !['FROM', 'EXPOSE', 'ENTRYPOINT'].includes(k)),
        [],
        'only EXPOSE and ENTRYPOINT of its own',
      );
      const user = last(target, 'USER');
      assert.ok(user, 'USER is set');
      const [name] = (args(user)[0] ?? '').split(':');
      assert.ok(name !== 'root' && name !== '0' && name !== '', `USER ${name}`);
      const entry = last(target, 'ENTRYPOINT');
      assert.ok(entry);
      const [node, script] = jsonArgs(entry);
      assert.equal(node, 'node');
      assert.equal(script, `/app/${target}`);
      // /app is the build's out/: the program must be one the build writes there.
      assert.ok(target in programs, `the build writes no out/${target} (scripts/programs.mjs)`);
    });
  }

  it('Skaffold builds each image from its target of this Dockerfile, and only those', () => {
    const skaffold = parse(readFileSync(`${root}skaffold.yaml`, 'utf8')) as {
      build: { artifacts: Array<{ image: string; docker: { dockerfile: string; target: string } }> };
    };
    assert.deepEqual(
      Object.fromEntries(skaffold.build.artifacts.map((a) => [a.image, a.docker])),
      Object.fromEntries(
        Object.entries(TARGETS).map(([target, image]) => [image, { dockerfile: 'Dockerfile', target }]),
      ),
    );
  });
});
