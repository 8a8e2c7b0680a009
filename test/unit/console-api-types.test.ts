import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONSOLE_API_TYPES, consoleApiTypes } from '../../scripts/console-api-types.js';

describe('the web console typed client', () => {
  it('is generated from the current OpenAPI document (npm run console:types after a route change)', async () => {
    const current = await consoleApiTypes();
    assert.ok(
      readFileSync(CONSOLE_API_TYPES, 'utf8') === current,
      'console/src/api/schema.d.ts is older than the route table: run `npm run console:types` and typecheck the console',
    );
  });
});
