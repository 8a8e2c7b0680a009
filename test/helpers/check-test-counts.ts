import path from 'node:path';
import type { TestEvent } from 'node:test/reporters';

export interface TestCountVerdict {
  ok: boolean;
  /** One line each, for the run's closing diagnostics. */
  lines: string[];
}

/**
 * The file of a test that ran, or null for anything else: suites, skipped and todo tests, and
 * the stand-in node reports, named after the file, for a file that produced no tests at all
 * (it counts that one as a passing test).
 */
export function ranTestFile(event: TestEvent): string | null {
  if (event.type !== 'test:pass' && event.type !== 'test:fail') return null;
  const { data } = event;
  if (!data.file || data.details.type === 'suite') return null;
  if (data.nesting === 0 && data.name === data.file) return null;
  if (data.skip || data.todo) return null;
  return path.resolve(data.file);
}

/**
 * Every file (absolute path) must have run a test, and a folder (relative to `root`) whose
 * test files all ran must have run at least its floor of tests.
 */
export function checkTestCounts(input: {
  root: string;
  ranPerFile: ReadonlyMap<string, number>;
  floors: Readonly<Record<string, number>>;
  /** The `*.test.ts` file names in a folder. */
  folderFiles: (folder: string) => string[];
}): TestCountVerdict {
  const lines: string[] = [];
  let ok = true;
  for (const [file, count] of input.ranPerFile) {
    if (count > 0) continue;
    ok = false;
    lines.push(
      `FAIL ${path.relative(input.root, file)} ran no tests (did its process exit before they ran?)`,
    );
  }
  for (const [folder, floor] of Object.entries(input.floors)) {
    const files = input.folderFiles(folder).map((name) => path.resolve(input.root, folder, name));
    if (files.length === 0 || !files.every((f) => input.ranPerFile.has(f))) continue;
    const ran = files.reduce((sum, f) => sum + (input.ranPerFile.get(f) ?? 0), 0);
    if (ran < floor) {
      ok = false;
      lines.push(
        `FAIL ${folder} ran ${ran} tests, below its floor of ${floor} in test/test-count-floor.json`,
      );
    } else if (ran > floor) {
      lines.push(
        `${folder} ran ${ran} tests, above its floor of ${floor}: raise it in test/test-count-floor.json`,
      );
    } else {
      lines.push(`${folder} ran ${ran} tests (its floor)`);
    }
  }
  const total = [...input.ranPerFile.values()].reduce((a, b) => a + b, 0);
  lines.push(`test counts ${ok ? 'ok' : 'FAILED'}: ${total} tests ran in ${input.ranPerFile.size} files`);
  return { ok, lines };
}
