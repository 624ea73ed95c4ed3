// The kit's pages a user reads: README.md and every docs/*.md, by path from the checkout's root.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './root.js';

export const pageFiles = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

export const pages: ReadonlyMap<string, string> = new Map(
  pageFiles.map((file) => [file, readFileSync(join(root, file), 'utf8')]),
);
