import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/', 'node_modules/', '.cache/', '.ci/cache/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: globals.node,
      // Type-aware: each file is checked with the tsconfig.json nearest to it (the dashboard's page has its
      // own, for the browser).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A switch over a union must name every member, unless its `default` takes the rest on purpose.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it/test/suite return promises the runner itself awaits and reports
          // (typescript-eslint's own node:test example: typescript-eslint/examples, node-test-floating-promises).
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    // The dashboard's page runs in the browser: its globals, not Node's.
    files: ['src/lab/dashboard/page/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
  {
    // These edit JSON documents whose keys are data (JSON patch, RFC 6902; merge patch, RFC 7386; strategic
    // merge patch): deleting a member named at run time is the operation itself, not a map kept in an object.
    files: ['src/lab/api/json-patch.ts', 'src/lab/api/patch.ts', 'src/lab/api/strategic-merge.ts'],
    rules: { '@typescript-eslint/no-dynamic-delete': 'off' },
  },
  {
    // This file is in no tsconfig: lint it without types.
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The lab's API server is its lowest layer, as on a cluster: controllers, data plane and commands are
    // its clients, never the other way round. It may import only itself, src/common and packages.
    files: ['src/lab/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // ../x and ../../x are outside, but for ../../common/…; so is any path that climbs later or is absolute.
              regex: '^\\.\\./(?!\\.\\./common/(?!.*\\.\\.))|^\\./.*\\.\\./|^/',
              message: 'src/lab/api may import only from src/lab/api and src/common.',
            },
          ],
        },
      ],
    },
  },
);
