// The three Dockerfiles: what they copy is in the build context, the final stage runs a file the
// build stage produces, holds only out/, and runs as an unprivileged user.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import dockerignoreModule from '@balena/dockerignore';
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { root } from './support/processes.js';

const programs = ['server', 'client-http', 'client-grpc'];
// CommonJS (module.exports = factory) typed as an ES default export
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;
const ignore = dockerignore({ ignorecase: false }).add(readFileSync(`${root}.dockerignore`, 'utf8'));

interface Stage {
  name: string | undefined;
  workdir: string;
  instructions: Instruction[];
}

function stagesOf(file: string): Stage[] {
  const dockerfile = DockerfileParser.parse(readFileSync(`${root}${file}`, 'utf8'));
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const args = instruction.getArguments().map((a) => a.getValue());
      stages.push({ name: args[2], workdir: '/', instructions: [] });
    }
    stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

const args = (instruction: Instruction) => instruction.getArguments().map((a) => a.getValue());
const jsonArgs = (instruction: Instruction) => JSON.parse(instruction.getArgumentsContent() ?? '[]') as string[];

/** Where each COPY in a stage puts things, resolved against WORKDIR. */
function copies(stage: Stage) {
  let workdir = '/';
  const result: Array<{ from: string | undefined; sources: string[]; dest: string }> = [];
  for (const instruction of stage.instructions) {
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

describe('Dockerfiles', () => {
  for (const program of programs) {
    const file = `Dockerfile.${program}`;
    const stages = stagesOf(file);
    const final = stages.at(-1) as Stage;

    it(`${file}: every COPY source exists in the build context and is not excluded by .dockerignore`, () => {
      for (const stage of stages) {
        for (const copy of copies(stage).filter((c) => c.from === undefined)) {
          for (const source of copy.sources) {
            assert.ok(existsSync(`${root}${source}`), `${source} does not exist`);
            const path = source.replace(/\/$/, '');
            assert.ok(!ignore.ignores(path), `${source} is excluded by .dockerignore`);
          }
        }
      }
      assert.ok(
        ignore.ignores('node_modules') && ignore.ignores('out') && ignore.ignores('.git'),
        'context stays small',
      );
    });

    it(`${file}: is multi-stage; the final stage copies only the build's out/ and runs as non-root`, () => {
      assert.ok(stages.length >= 2);
      const finalCopies = copies(final);
      assert.ok(finalCopies.length > 0);
      for (const copy of finalCopies) {
        assert.equal(copy.from, stages[0]?.name, 'the final stage copies from the build stage only');
        assert.deepEqual(copy.sources, ['/src/out/']);
      }
      assert.ok(
        !final.instructions.some((i) => i.getKeyword() === 'RUN'),
        'nothing is compiled or installed in the final stage',
      );
      const user = final.instructions.filter((i) => i.getKeyword() === 'USER').at(-1);
      assert.ok(user, 'the final stage sets USER');
      const [name] = (args(user)[0] ?? '').split(':');
      assert.ok(name !== 'root' && name !== '0' && name !== '', `USER ${name}`);
    });

    it(`${file}: the entry point runs out/${program}, which the build produces`, () => {
      const entry = final.instructions.filter((i) => i.getKeyword() === 'ENTRYPOINT').at(-1);
      assert.ok(entry);
      const [node, script] = jsonArgs(entry);
      assert.equal(node, 'node');
      const copy = copies(final)[0];
      assert.ok(copy && script?.startsWith(copy.dest), `${script} is not under ${copy?.dest}`);
      const relative = posix.relative(copy.dest, script ?? '');
      // the build stage's build.mjs writes /src/out/<program>; check that it really does here too
      assert.equal(relative, program);
      assert.match(readFileSync(`${root}scripts/build.mjs`, 'utf8'), new RegExp(`'${program}': |${program}: `));
      assert.ok(existsSync(`${root}out/${program}`), 'the build produced out/' + program);
      const buildRun = stages[0]?.instructions
        .filter((i) => i.getKeyword() === 'RUN')
        .map((i) => i.getArgumentsContent());
      assert.ok(
        buildRun?.some((cmd) => cmd?.includes('scripts/build.mjs')),
        'the build stage runs scripts/build.mjs',
      );
    });
  }
});
