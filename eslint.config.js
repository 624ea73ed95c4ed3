import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/', 'node_modules/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
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
