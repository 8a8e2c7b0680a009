import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkTestCounts } from '../helpers/check-test-counts.js';

const ROOT = '/repo';
const file = (name: string) => path.join(ROOT, name);
const FOLDERS: Record<string, string[]> = { 'test/unit': ['a.test.ts', 'b.test.ts'] };
const folderFiles = (folder: string) => FOLDERS[folder] ?? [];

describe('test counts', () => {
  it('fail a file that ran no tests', () => {
    const verdict = checkTestCounts({
      root: ROOT,
      ranPerFile: new Map([
        [file('test/unit/a.test.ts'), 3],
        [file('test/unit/b.test.ts'), 0],
      ]),
      floors: {},
      folderFiles,
    });
    assert.equal(verdict.ok, false);
    assert.match(verdict.lines.join('\n'), /FAIL test\/unit\/b\.test\.ts ran no tests/);
  });

  it('fail a folder that ran fewer tests than its floor', () => {
    const verdict = checkTestCounts({
      root: ROOT,
      ranPerFile: new Map([
        [file('test/unit/a.test.ts'), 3],
        [file('test/unit/b.test.ts'), 2],
      ]),
      floors: { 'test/unit': 6 },
      folderFiles,
    });
    assert.equal(verdict.ok, false);
    assert.match(verdict.lines.join('\n'), /FAIL test\/unit ran 5 tests, below its floor of 6/);
  });

  it('pass at or above the floor, and ask to raise it when above', () => {
    const ranPerFile = new Map([
      [file('test/unit/a.test.ts'), 3],
      [file('test/unit/b.test.ts'), 4],
    ]);
    assert.equal(
      checkTestCounts({ root: ROOT, ranPerFile, floors: { 'test/unit': 7 }, folderFiles }).ok,
      true,
    );
    const above = checkTestCounts({ root: ROOT, ranPerFile, floors: { 'test/unit': 6 }, folderFiles });
    assert.equal(above.ok, true);
    assert.match(above.lines.join('\n'), /test\/unit ran 7 tests, above its floor of 6: raise it/);
  });

  it('apply a floor only when every file of its folder ran', () => {
    const verdict = checkTestCounts({
      root: ROOT,
      ranPerFile: new Map([[file('test/unit/a.test.ts'), 1]]),
      floors: { 'test/unit': 100 },
      folderFiles,
    });
    assert.equal(verdict.ok, true);
    assert.deepEqual(verdict.lines, ['test counts ok: 1 tests ran in 1 files']);
  });

  it('fail the run of a file that exits 0 before its test runs, which node reports as ok', () => {
    const tsx = path.join(import.meta.dirname, '../../node_modules/.bin/tsx');
    const runner = path.join(import.meta.dirname, '../run-tests.ts');
    const fixture = path.join(import.meta.dirname, '../fixtures/exits-before-its-test.ts');
    // Without this test's own runner context, which would make the nested run() run nothing.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const result = spawnSync(tsx, [runner, fixture], { encoding: 'utf8', env });
    assert.match(result.stdout, /^ok 1 - .*exits-before-its-test\.ts$/m);
    assert.match(result.stdout, /# FAIL .*exits-before-its-test\.ts ran no tests/);
    assert.match(result.stdout, /# test counts FAILED: 0 tests ran in 1 files\n# tests 1\n/);
    assert.equal(result.status, 1);
  });
});
