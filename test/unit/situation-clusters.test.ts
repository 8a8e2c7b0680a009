import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildMatrix, normalised, recall } from '../../coaching/coaching-recall.js';
import {
  assignRows,
  clustersOf,
  defaultListCount,
  initialCentroids,
  kmeansRound,
  probedRows,
  trainingSample,
} from '../../coaching/situation-clusters.js';

/** Planted groups: each row is its group's axis plus a little of the next axis. */
function planted(groups: number, perGroup: number, d: number) {
  const entries = [];
  for (let g = 0; g < groups; g++)
    for (let i = 0; i < perGroup; i++) {
      const v = new Array<number>(d).fill(0);
      v[g] = 1;
      v[(g + 1) % d] = (i % 5) / 20;
      entries.push({ vector: v, threshold: 0.5, tokens: 10 });
    }
  return buildMatrix(d, entries);
}

function clustered(matrix: ReturnType<typeof planted>, lists: number) {
  const sample = trainingSample(matrix.candidates.length, 1000);
  let centroids = initialCentroids(matrix, lists);
  for (let r = 0; r < 5; r++) centroids = kmeansRound(matrix, centroids, lists, sample);
  const assignment = new Int32Array(matrix.candidates.length);
  assignRows(matrix, centroids, lists, assignment, 0, assignment.length);
  return clustersOf(matrix, centroids, lists, assignment);
}

describe('situation clusters (the IVF index recall scans at scale)', () => {
  it('puts every row in exactly one list', () => {
    const matrix = planted(6, 20, 8);
    const clusters = clustered(matrix, 6);
    const all = clusters.members.flatMap((m) => [...m]).sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: 120 }, (_, i) => i),
    );
  });

  it('finds the planted groups, so probing one list recalls what the exact scan recalls', () => {
    const matrix = planted(6, 20, 8);
    const clusters = clustered(matrix, 6);
    for (let g = 0; g < 6; g++) {
      const query = new Array<number>(8).fill(0);
      query[g] = 1;
      const rows = probedRows(clusters, normalised(query), 1);
      assert.equal(rows.length, 20, `group ${g} is one list`);
      const limits = { k: 3, maxTokens: 100 };
      assert.deepEqual(recall(matrix, query, limits, rows), recall(matrix, query, limits));
    }
  });

  it('scans only the probed lists', () => {
    const matrix = planted(4, 10, 4);
    const clusters = clustered(matrix, 4);
    const query = normalised([1, 0, 0, 0]);
    assert.equal(probedRows(clusters, query, 2).length, 20);
    assert.equal(probedRows(clusters, query, 99).length, 40, 'more probes than lists scans all');
  });

  it('uses about √n lists and trains on evenly spread rows', () => {
    assert.equal(defaultListCount(10_000), 100);
    assert.equal(defaultListCount(1), 1);
    assert.deepEqual(trainingSample(10, 4), [0, 2, 5, 7]);
    assert.deepEqual(trainingSample(3, 4), [0, 1, 2]);
  });
});
