/**
 * `npm test`: node's test runner over the given files, with its usual output (TAP, or spec on
 * a terminal), plus two checks its exit code does not make:
 * - every file ran at least one test. A file whose process exits 0 early (as one did when an
 *   exit hook called process.exit(0) while a `before()` was pending) is otherwise "ok";
 * - when every `*.test.ts` of a folder ran, the folder ran at least its floor of tests from
 *   test/test-count-floor.json, so tests cannot quietly disappear.
 * The verdict is printed as diagnostics just before node's closing summary (`# tests N`, ...)
 * and a failed check makes the exit code 1. When a folder runs more tests than its floor the
 * run says so: raise the floor to the new count in the change that adds the tests.
 *
 * Usage: tsx test/run-tests.ts [--concurrency N] <files...>
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { run } from 'node:test';
import { spec, tap, type TestEvent } from 'node:test/reporters';
import { z } from 'zod';
import { checkTestCounts, ranTestFile } from './helpers/check-test-counts.js';

const FLOOR_FILE = fileURLToPath(new URL('test-count-floor.json', import.meta.url));
const floorSchema = z.record(z.string(), z.number().int().nonnegative());

const { values, positionals } = parseArgs({
  options: { concurrency: { type: 'string' } },
  allowPositionals: true,
});
if (positionals.length === 0) throw new Error('Usage: tsx test/run-tests.ts [--concurrency N] <files...>');
const root = process.cwd();
const files = positionals.map((f) => path.resolve(root, f));
const floors = floorSchema.parse(JSON.parse(readFileSync(FLOOR_FILE, 'utf8')));
const ranPerFile = new Map(files.map((f) => [f, 0]));

function* verdict(): Generator<TestEvent> {
  const { ok, lines } = checkTestCounts({
    root,
    ranPerFile,
    floors,
    folderFiles: (folder) => readdirSync(path.resolve(root, folder)).filter((n) => n.endsWith('.test.ts')),
  });
  if (!ok) process.exitCode = 1;
  for (const message of lines) yield { type: 'test:diagnostic', data: { message, nesting: 0 } };
}

async function* checked(events: AsyncIterable<TestEvent>): AsyncGenerator<TestEvent, void> {
  let verdictGiven = false;
  for await (const event of events) {
    const file = ranTestFile(event);
    if (file) ranPerFile.set(file, (ranPerFile.get(file) ?? 0) + 1);
    // As node's own CLI: any failure (a cancelled test is one) fails the run, a todo does not.
    if (event.type === 'test:fail' && !event.data.todo) process.exitCode = 1;
    yield event;
    // The run's own plan follows every file's results and precedes its summary lines.
    if (event.type === 'test:plan' && event.data.file === undefined && !verdictGiven) {
      verdictGiven = true;
      yield* verdict();
    }
  }
  if (!verdictGiven) yield* verdict();
}

const concurrency = values.concurrency === undefined ? true : Number(values.concurrency);
const events = run({ files, concurrency });
// Node's own defaults: spec on a terminal, TAP otherwise (CI reads TAP's closing `# tests N`).
if (process.stdout.isTTY) await pipeline(events, checked, new spec(), process.stdout);
else await pipeline(events, (source: AsyncIterable<TestEvent>) => tap(checked(source)), process.stdout);
