import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  appliedCoaching,
  appliedTracesSearch,
  behaviourSummary,
  differenceText,
  rateText,
  stepOfHash,
  thresholdText,
} from '../../console/src/api/coaching-figures.js';
import { filtersOf, searchOf } from '../../console/src/api/trace-filters.js';
import { compareRates, successRate } from '../../coaching/coaching-effect.js';
import { parseTraceListQuery } from '../../schemas/trace-list-query.js';

describe('console coaching pages and the "coaching applied" trace filter', () => {
  it('parses the coaching filter: a coaching (any version), one version, any or none; anything else is refused with what to send', () => {
    const coaching = (value: string) => parseTraceListQuery({ coaching: value }).coaching;
    assert.deepEqual(coaching('coa_0123456789ab'), { id: 'coa_0123456789ab' });
    assert.deepEqual(coaching('coa_0123456789ab@3'), { id: 'coa_0123456789ab', version: 3 });
    assert.equal(coaching('any'), 'any');
    assert.equal(coaching('none'), 'none');
    assert.equal(parseTraceListQuery({}).coaching, undefined);
    for (const bad of ['coa_x@0', 'coa_x@', 'coa x', '@3', 'coa_x@1@2'])
      assert.throws(
        () => coaching(bad),
        /coaching must be a coaching id \(coa_…\), one of its versions \(coa_…@3\), any .* or none/,
        bad,
      );
  });

  it('carries the coaching filter in the page address, and links a coaching to its traces with a search the API parses', () => {
    assert.deepEqual(filtersOf('agent=demo&coaching=coa_1'), { agent: 'demo', coaching: 'coa_1' });
    const search = appliedTracesSearch('demo', 'coa_0123456789ab');
    assert.equal(search, '?agent=demo&coaching=coa_0123456789ab');
    assert.deepEqual(parseTraceListQuery(new URLSearchParams(search)), {
      limit: 50,
      agent: 'demo',
      coaching: { id: 'coa_0123456789ab' },
    });
    assert.equal(searchOf(filtersOf(search.slice(1))), search);
  });

  it('words a behaviour in one line and shows the author’s threshold only when marks moved it', () => {
    assert.equal(
      behaviourSummary({ kind: 'reply', text: 'Basic economy cannot be changed.' }),
      'Reply: “Basic economy cannot be changed.”',
    );
    assert.equal(
      behaviourSummary({
        kind: 'tool_call',
        tool: 'cancel_reservation',
        arguments: { reservation_id: 'ZX9' },
      }),
      'Call cancel_reservation({"reservation_id":"ZX9"})',
    );
    assert.equal(
      behaviourSummary({ kind: 'transfer', reason: 'refund over $500' }),
      'Transfer to a human: refund over $500',
    );
    assert.equal(
      behaviourSummary({ kind: 'ask_confirmation', text: 'x'.repeat(10) }, 5),
      'Ask for confirmation: “xxxx…”',
    );
    assert.equal(thresholdText({ threshold: 0.32, authorThreshold: 0.32 }), '0.32');
    assert.equal(
      thresholdText({ threshold: 0.41, authorThreshold: 0.32 }),
      '0.41 (author’s 0.32, moved by marks)',
    );
  });

  it('writes success rates with their intervals, and says when a side has no trace', () => {
    const withIt = successRate([true, true, true, false]);
    const without = successRate([false, false]);
    assert.equal(rateText(withIt), '75% (3 of 4; 95% interval 30%–95%)');
    assert.equal(rateText(successRate([null])), 'no trace with this signal');
    // A handful of traces: the interval says the difference could be nothing.
    assert.equal(differenceText(compareRates(withIt, without)), '+75 pts (95% interval −5 pts to +95 pts)');
    assert.equal(differenceText(compareRates(withIt, successRate([]))), 'not measured (a side has no trace)');
  });

  it('reads the step a trace page link points at and the coaching a trace applied', () => {
    assert.equal(stepOfHash('#step-3'), 3);
    assert.equal(stepOfHash('#step-x'), null);
    assert.equal(stepOfHash(''), null);
    assert.deepEqual(appliedCoaching({ 'flywheel.coaching.ids': ['coa_a@1', ' coa_b@2 ', 7, 'nope'] }), [
      { tag: 'coa_a@1', id: 'coa_a' },
      { tag: 'coa_b@2', id: 'coa_b' },
    ]);
    assert.deepEqual(appliedCoaching({ 'flywheel.coaching.ids': 'coa_a@4' }), [
      { tag: 'coa_a@4', id: 'coa_a' },
    ]);
    assert.deepEqual(appliedCoaching({}), []);
  });
});
