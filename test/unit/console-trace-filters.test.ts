import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FEEDBACK,
  filtersOf,
  OUTCOMES,
  pageSearchOf,
  queryFiltersOf,
  searchOf,
  searchStateOf,
  STATUSES,
  TIME_RANGES,
} from '../../console/src/api/trace-filters.js';
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

describe('console trace search: time presets', () => {
  const now = Date.parse('2026-03-08T12:00:00.000Z');

  it('keeps a preset in the address and turns it into a window that ends when the page opened', () => {
    const state = searchStateOf('agent=demo&range=24h&from=2026-01-01T00:00:00.000Z&status=error');
    assert.deepEqual(state, { filters: { agent: 'demo', status: 'error' }, range: '24h' });
    assert.deepEqual(queryFiltersOf(state, now), {
      agent: 'demo',
      status: 'error',
      from: '2026-03-07T12:00:00.000Z',
    });
    assert.equal(queryFiltersOf(searchStateOf('range=1h'), now).from, '2026-03-08T11:00:00.000Z');
    assert.equal(queryFiltersOf(searchStateOf('range=7d'), now).from, '2026-03-01T12:00:00.000Z');
  });

  it('writes a preset after the filters and drops the custom window it replaces; a custom window stays as it is', () => {
    assert.equal(
      pageSearchOf({
        filters: { status: 'ok', agent: 'demo', from: '2026-01-01T00:00:00.000Z' },
        range: '7d',
      }),
      '?agent=demo&status=ok&range=7d',
    );
    assert.equal(pageSearchOf({ filters: {}, range: '1h' }), '?range=1h');
    const custom = searchStateOf('from=2026-03-01T09:00:00.000Z&to=2026-03-02T00:00:00.000Z');
    assert.equal(custom.range, undefined);
    assert.deepEqual(queryFiltersOf(custom, now), {
      from: '2026-03-01T09:00:00.000Z',
      to: '2026-03-02T00:00:00.000Z',
    });
    assert.equal(searchStateOf('range=2h').range, undefined, 'an unknown preset is dropped');
  });

  it('every preset gives a query GET /api/traces parses', () => {
    for (const range of Object.keys(TIME_RANGES) as (keyof typeof TIME_RANGES)[]) {
      const query = queryFiltersOf({ filters: { agent: 'demo' }, range }, now);
      const filter = parseTraceListQuery(new URLSearchParams(searchOf(query)));
      assert.equal(Date.parse(filter.from ?? ''), now - TIME_RANGES[range].ms);
      assert.equal(filter.to, undefined);
    }
  });
});
