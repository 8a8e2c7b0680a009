import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildMatrix,
  chooseHits,
  dotProduct,
  firstInOrder,
  normalised,
  passingHits,
  type RecallHit,
} from '../../coaching/coaching-recall.js';
import { probedRows, type SituationClusters } from '../../coaching/situation-clusters.js';
import { vectorScan } from '../../coaching/vector-scan.js';
import { seededRandom } from '../helpers/seeded-random.js';

const randomVector = (next: () => number, d: number) => Array.from({ length: d }, () => next() * 2 - 1);

/** chooseHits as it was: sort every passing hit, then take the k most similar that fit. */
function chosenBySort(passing: RecallHit[], k: number, budget: number): number[] {
  const sorted = [...passing].sort((a, b) => b.similarity - a.similarity || a.row - b.row);
  const out: number[] = [];
  let spent = 0;
  for (const h of sorted) {
    if (out.length === k) break;
    if (spent + h.tokens > budget) continue;
    out.push(h.row);
    spent += h.tokens;
  }
  return out;
}

describe('coaching recall scan: faster, same answers', () => {
  it('gives exactly the similarities dotProduct gives, any row count and dimension (WebAssembly kernel or JavaScript loop)', () => {
    const next = seededRandom(7);
    for (const [rows, d] of [
      [1, 4],
      [2, 5],
      [7, 6],
      [10, 256],
      [33, 31],
    ] as const) {
      const matrix = buildMatrix(
        d,
        Array.from({ length: rows }, (_, i) => ({
          vector: randomVector(next, d),
          threshold: i % 3 === 0 ? -1 : 0.1,
          tokens: 5,
        })),
      );
      const q = normalised(randomVector(next, d));
      const expected = Array.from({ length: rows }, (_, r) => dotProduct(matrix.vectors, r * d, q, d));
      const hits = passingHits(matrix, q);
      for (const h of hits) assert.equal(h.similarity, expected[h.row], `row ${h.row} of ${rows}×${d}`);
      assert.deepEqual(
        hits.map((h) => h.row).sort((a, b) => a - b),
        expected.flatMap((s, r) => (s >= matrix.thresholds[r]! ? [r] : [])),
      );
      // A subset of rows, as an IVF probe gives them, in any order.
      const subset = Int32Array.from({ length: rows }, (_, i) => rows - 1 - i).filter((r) => r % 2 === 0);
      assert.deepEqual(
        passingHits(matrix, q, subset, 1).map((h) => [h.row, h.source]),
        [...subset].filter((r) => expected[r]! >= matrix.thresholds[r]!).map((r) => [r, 1]),
      );
    }
  });

  it('keeps the first m in order as a full sort would, ties included', () => {
    const next = seededRandom(11);
    for (let trial = 0; trial < 200; trial++) {
      const items = Array.from({ length: Math.floor(next() * 40) }, (_, i) => ({
        i,
        v: Math.floor(next() * 8),
      }));
      const before = (a: (typeof items)[number], b: (typeof items)[number]) => b.v - a.v || a.i - b.i;
      const m = Math.floor(next() * 12);
      assert.deepEqual(firstInOrder(items, m, before), [...items].sort(before).slice(0, m));
    }
  });

  it('chooses the same hits as sorting every passing hit, when the budget skips some or many', () => {
    const next = seededRandom(13);
    for (let trial = 0; trial < 300; trial++) {
      const passing: RecallHit[] = Array.from({ length: Math.floor(next() * 60) }, (_, row) => ({
        row,
        similarity: Math.round(next() * 20) / 20,
        tokens: 1 + Math.floor(next() * 200),
        source: 0,
      }));
      const k = 1 + Math.floor(next() * 4);
      const maxTokens = 50 + Math.floor(next() * 400);
      assert.deepEqual(
        chooseHits([...passing], { k, maxTokens }).map((h) => h.row),
        chosenBySort(passing, k, maxTokens),
        `trial ${trial}`,
      );
    }
  });

  it('probes the most similar lists, ties to the lower list, as sorting every list would', () => {
    const next = seededRandom(17);
    const d = 8;
    for (let trial = 0; trial < 50; trial++) {
      const lists = 1 + Math.floor(next() * 30);
      // Rounded centroids so some lists tie.
      const centroids = Float32Array.from({ length: lists * d }, () => Math.round(next() * 4) / 4);
      const members = Array.from({ length: lists }, (_, c) => Int32Array.of(c * 10, c * 10 + 1));
      const clusters: SituationClusters = { lists, dimensions: d, centroids, members };
      // The same clusters as clustersOf builds them, with the centroids in a kernel scan.
      const centroidScan = vectorScan(lists, d);
      centroidScan.vectors.set(centroids);
      assert.equal(centroidScan.kernel, 'wasm-simd');
      const q = normalised(randomVector(next, d));
      const probes = Math.floor(next() * 10);
      const sims = Array.from({ length: lists }, (_, c) => dotProduct(centroids, c * d, q, d));
      const order = [...sims.keys()].sort((a, b) => sims[b]! - sims[a]! || a - b).slice(0, probes);
      for (const probed of [clusters, { ...clusters, centroidScan }])
        assert.deepEqual(
          [...probedRows(probed, q, probes)],
          order.flatMap((c) => [...members[c]!]),
        );
    }
  });
});
