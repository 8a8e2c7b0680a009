import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundedMap } from '../../llm/bounded-map.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('boundedMap', () => {
  it('keeps input order with at most `limit` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await boundedMap([5, 1, 4, 2, 3], 2, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await sleep(n * 3);
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(peak, 2);
  });

  it('after a failure starts nothing new, and rejects only once the calls in flight have settled', async () => {
    const finished: number[] = [];
    const started: number[] = [];
    const run = boundedMap([0, 1, 2, 3, 4, 5], 3, async (n) => {
      started.push(n);
      if (n === 0) {
        await sleep(5);
        throw new Error('the database went away');
      }
      await sleep(40);
      finished.push(n);
      return n;
    });
    await assert.rejects(run, /the database went away/);
    // Items 1 and 2 were in flight when item 0 failed: their answers were kept (cached) before
    // the rejection; items 3-5 never started.
    assert.deepEqual(finished.sort(), [1, 2]);
    assert.deepEqual(started.sort(), [0, 1, 2]);
  });
});
