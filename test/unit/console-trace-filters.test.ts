import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEEDBACK, filtersOf, OUTCOMES, searchOf, STATUSES } from '../../console/src/api/trace-filters.js';
import { parseTraceListQuery, TRACE_FEEDBACK_FILTERS } from '../../schemas/trace-list-query.js';

describe('console trace search: the filters in the page address', () => {
  it('keeps the filters a page address carries and drops a choice the API does not take', () => {
    assert.deepEqual(
      filtersOf(
        'agent=demo&status=error&feedback=negative&outcome=maybe&q=%20ZX9%20&promptVersion=3&cluster=',
      ),
      { agent: 'demo', status: 'error', feedback: 'negative', q: 'ZX9', promptVersion: '3' },
    );
    assert.deepEqual(filtersOf(''), {});
  });

  it('writes a search in one order without empty values, so equal searches are one link and one cache entry', () => {
    assert.equal(
      searchOf({ q: 'seat', agent: 'demo', status: 'ok', cluster: '  ' }),
      searchOf({ status: 'ok', agent: 'demo', q: 'seat' }),
    );
    assert.equal(searchOf({ agent: 'demo', q: 'a&b' }), '?agent=demo&q=a%26b');
    assert.equal(searchOf({}), '');
  });

  it('offers the choices GET /api/traces takes, and every search it writes is one the API parses', () => {
    assert.deepEqual([...FEEDBACK], [...TRACE_FEEDBACK_FILTERS]);
    const search = searchOf(
      filtersOf(
        'agent=demo&from=2026-03-01T09:00:00.000Z&to=2026-03-02T00:00:00.000Z&status=error&outcome=failure&feedback=none&cluster=demo-fc001&promptName=demo&promptVersion=2&q=seat',
      ),
    );
    const filter = parseTraceListQuery(new URLSearchParams(search));
    assert.deepEqual(filter, {
      limit: 50,
      agent: 'demo',
      from: '2026-03-01T09:00:00.000Z',
      to: '2026-03-02T00:00:00.000Z',
      status: 'error',
      outcome: 'failure',
      feedback: 'none',
      cluster: 'demo-fc001',
      promptName: 'demo',
      promptVersion: 2,
      text: 'seat',
    });
    for (const status of STATUSES) assert.equal(parseTraceListQuery({ status }).status, status);
    for (const outcome of OUTCOMES) assert.equal(parseTraceListQuery({ outcome }).outcome, outcome);
  });
});
