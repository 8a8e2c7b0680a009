import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

/**
 * The layer rules of eslint.config.js, each shown to fire: a probe file that breaks exactly
 * one rule is written where the rule applies, linted with the project's own configuration,
 * and removed. Type-aware rules are switched off so the probes need no TypeScript program;
 * the import rules read only the source text (and, for cycles, the files on disk).
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const TAG = `zz-lint-probe-${process.pid}`;
const written: string[] = [];

const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: [tseslint.configs.disableTypeChecked],
});

function writeProbe(relativePath: string, source: string): string {
  const file = path.join(ROOT, relativePath);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, source);
  written.push(file);
  return file;
}

async function lintProbe(relativePath: string, source: string): Promise<ESLint.LintResult['messages']> {
  const [result] = await eslint.lintFiles([writeProbe(relativePath, source)]);
  return result?.messages ?? [];
}

async function assertFires(relativePath: string, source: string, ruleId: string, messagePart: string) {
  const messages = await lintProbe(relativePath, source);
  const hit = messages.find((m) => m.ruleId === ruleId && m.message.includes(messagePart));
  assert.ok(
    hit,
    `expected ${ruleId} ("${messagePart}") on ${relativePath}; got ${JSON.stringify(messages.map((m) => [m.ruleId, m.message]))}`,
  );
}

after(() => {
  for (const file of written) rmSync(file, { force: true });
  rmSync(path.join(ROOT, 'traces', TAG), { recursive: true, force: true });
});

describe('the determinism rule', () => {
  const clock = 'never reads the clock';
  it('rejects new Date() in a workflow', () =>
    assertFires(
      `workflows/${TAG}.ts`,
      'export const now = (): Date => new Date();\n',
      'no-restricted-syntax',
      clock,
    ));
  it('rejects globalThis.Date.now() in a workflow', () =>
    assertFires(
      `workflows/${TAG}-global.ts`,
      'export const now = (): number => globalThis.Date.now();\n',
      'no-restricted-syntax',
      'through globalThis',
    ));
  it('rejects Date.now() and Math.random() at the root of a domain folder', async () => {
    await assertFires(
      `release/${TAG}.ts`,
      'export const t = (): number => Date.now();\n',
      'no-restricted-properties',
      clock,
    );
    await assertFires(
      `release/${TAG}-random.ts`,
      'export const r = (): number => Math.random();\n',
      'no-restricted-properties',
      'seeded PRNG',
    );
  });
  it('rejects Node built-ins in an optimizer', () =>
    assertFires(
      `optimizers/${TAG}.ts`,
      "import { readFileSync } from 'node:fs';\nexport const f = (): string => readFileSync('x', 'utf8');\n",
      'no-restricted-imports',
      'Node built-ins',
    ));
});

describe('the layer rules', () => {
  it('keeps the root of a domain folder pure: no store value imports', () =>
    assertFires(
      `traces/${TAG}.ts`,
      "import { copyInsert } from './store/trace-writer.js';\nexport const w = copyInsert;\n",
      'no-restricted-imports',
      'as types only',
    ));
  it('keeps schemas/ at the bottom', () =>
    assertFires(
      `schemas/${TAG}.ts`,
      "import { passHatK } from '../release/pass-at-k.js';\nexport const p = passHatK;\n",
      'no-restricted-imports',
      'bottom layers',
    ));
  it('keeps SQL out of activities', () =>
    assertFires(
      `activities/${TAG}.ts`,
      "import { sql } from 'kysely';\nexport const q = sql`select 1`;\n",
      'no-restricted-imports',
      'SQL lives in a domain store/',
    ));
  it('keeps SQL out of services', () =>
    assertFires(
      `registry/${TAG}-service.ts`,
      "import { sql } from 'kysely';\nexport const q = sql`select 1`;\n",
      'no-restricted-imports',
      'SQL lives in a domain store/',
    ));
  it('keeps api/ to transport: no store imports', () =>
    assertFires(
      `api/${TAG}.ts`,
      "import { copyInsert } from '../traces/store/trace-writer.js';\nexport const w = copyInsert;\n",
      'no-restricted-imports',
      'only through a domain service',
    ));
  it('keeps the CLI off stores too', () =>
    assertFires(
      `scripts/${TAG}.ts`,
      "import { copyInsert } from '../traces/store/trace-writer.js';\nexport const w = copyInsert;\n",
      'no-restricted-imports',
      'only through a domain service',
    ));
  it('keeps notifications out of stores', () =>
    assertFires(
      `registry/store/${TAG}.ts`,
      "import { createWebhookSender } from '../../notify/webhook-sender.js';\nexport const s = createWebhookSender;\n",
      'no-restricted-imports',
      'belong in a service',
    ));
  it('keeps services out of stores', () =>
    assertFires(
      `registry/store/${TAG}-up.ts`,
      "import { listPromptSummaries } from '../prompt-service.js';\nexport const l = listPromptSummaries;\n",
      'no-restricted-imports',
      'belong in a service',
    ));
  it('keeps domains out of db/', () =>
    assertFires(
      `db/${TAG}.ts`,
      "import { passHatK } from '../release/pass-at-k.js';\nexport const p = passHatK;\n",
      'no-restricted-imports',
      'imports no domain',
    ));
  it('keeps migrations frozen', () =>
    assertFires(
      `db/migrations/${TAG}.ts`,
      "import type { Database } from '../database.js';\nexport type D = Database;\n",
      'no-restricted-imports',
      'imports nothing from the app',
    ));
});

describe('import cycles', () => {
  it('are rejected', async () => {
    writeProbe(
      `traces/${TAG}/b.ts`,
      "import { a } from './a.js';\nexport const b = (): number => (a() > 0 ? 1 : 0);\n",
    );
    await assertFires(
      `traces/${TAG}/a.ts`,
      "import { b } from './b.js';\nexport const a = (): number => b();\n",
      'import-x/no-cycle',
      'Dependency cycle',
    );
  });
});
