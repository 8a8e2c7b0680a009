import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adjustedRandIndex } from '../../diagnosis/adjusted-rand-index.js';
import { assignClusterIds, type PreviousCluster } from '../../diagnosis/cluster-identity.js';
import { distinctiveTerms, nameClusters } from '../../diagnosis/cluster-naming.js';
import { hdbscan, type HdbscanResult } from '../../diagnosis/hdbscan.js';
import { embedTexts, fitTfidf, tfidfEmbeddings } from '../../diagnosis/text-embedding.js';
import { centroid, cosineSimilarity, l2normalize, norm } from '../../diagnosis/vector-math.js';
import { nextFloat, nextInt, seedPrng, type PrngState } from '../../optimizers/prng.js';

/** Four planted failure modes, written as a judge would describe them: ids, names and wording vary. */
const FAMILIES: string[][] = [
  [
    'user asked to cancel reservation ABC123; agent called cancel_reservation without confirming; judge: missing confirmation',
    'User wants to cancel booking ZK91QF. Agent invoked cancel_reservation immediately, never asked the user to confirm. Judge: no explicit confirmation before a write action.',
    'customer requested cancellation of reservation 4WQ150; the assistant cancelled it right away without asking for a yes; judge: missing confirmation',
    'user (mia_li_3668) asked to cancel trip H8Q2KD; agent ran cancel_reservation before getting confirmation; verdict: confirmation missing',
    'Cancellation request for reservation MXP004: agent called cancel_reservation with no confirmation step. Judge flagged missing user confirmation.',
    "user said 'please cancel my flight LKJ223'; agent cancelled it without confirming the details with the user; judge: skipped confirmation",
    'agent executed cancel_reservation for 9HG7TT without asking the customer to confirm; judge: policy requires explicit confirmation',
    'User Noah Kim wanted reservation P0Q1R2 cancelled. The agent did not confirm before calling cancel_reservation. Judge: missing confirmation.',
    'user asked to cancel two reservations (AB12CD, EF34GH); agent cancelled both without a confirmation; judge: no confirmation obtained',
    'request to cancel booking YY7781; agent skipped confirming and called cancel_reservation directly; judge: write action without confirmation',
  ],
  [
    'user asked for a refund to the original credit card for reservation QW12ER; agent issued a travel certificate instead; judge: wrong payment method',
    'Customer wanted the $320 refund back on their Visa; agent refunded to a gift card; judge: refund sent to the wrong payment method',
    'user requested refund of 145 dollars to card ending 4242; agent put it on a travel certificate; judge: incorrect refund method',
    'refund for cancelled flight HAT136 should go to the original payment; the assistant chose gift_card_7781 instead; judge: wrong payment method',
    'User Ava Lopez asked to be refunded to her Mastercard; agent used a certificate; verdict: refund destination wrong',
    'agent processed the refund for reservation TT55UU to travel credit although the user asked for the credit card; judge: wrong payment method',
    "user: 'refund it to my card please'; agent refunded 89.50 to a gift card; judge: ignored requested payment method",
    'Refund of $1,020 for booking 8KJ3LM went to a travel certificate rather than the original credit card. Judge: wrong refund payment method.',
    'customer asked for money back on the card used for booking; agent issued certificate_4411; judge: refund to wrong method',
    'user wanted refund on original payment method for trip ZZ09XY; agent refunded to gift card instead; judge: payment method mismatch',
  ],
  [
    'user asked how many free checked bags a gold member gets; agent said 4, policy allows 3; judge: incorrect baggage allowance',
    'Customer (silver status) asked about baggage allowance; the agent claimed 2 free bags in basic economy, which the policy does not allow; judge: hallucinated policy',
    'user asked about checked bag fees for reservation NM45OP; agent invented a $25 fee not in the policy; judge: wrong baggage policy',
    'agent told the user that economy passengers get 3 free checked bags; policy says 1; judge: incorrect baggage allowance',
    'User Liam Chen asked if his regular membership includes free bags; agent stated unlimited free luggage; judge: policy hallucination about baggage',
    'question about carry-on and checked baggage limits; agent gave an allowance of 5 bags, contradicting the policy; judge: incorrect baggage info',
    'user wanted to add 2 checked bags to booking RT67YU; agent said they are free for all members; judge: wrong baggage allowance',
    'Agent misstated the free checked baggage allowance for a business class gold member (said 5, policy 4). Judge: incorrect policy statement.',
    'user asked about baggage; the assistant quoted an allowance that does not exist in the airline policy; judge: fabricated baggage rule',
    'user asked: how many bags can I check for free in basic economy? agent said 2; correct answer is 0; judge: incorrect baggage allowance',
  ],
  [
    'user wanted to change flight date for reservation DF34GH; agent transferred to a human agent instead of handling it; judge: unnecessary transfer',
    'Agent escalated to a human representative even though the flight change was within policy. Judge: premature transfer_to_human_agents',
    'user asked to update the passenger name on booking 5TY6UI; agent called transfer_to_human_agents right away; judge: unnecessary escalation',
    'customer requested a seat upgrade on flight UA902; assistant handed the conversation to a human; judge: should not have transferred',
    'user Emma Davis asked to modify her return date; agent transferred the call to a human agent without trying; judge: unnecessary transfer',
    'user asked to add a bag to reservation OP90AS; agent transferred to human agents instead of using update_reservation_baggages; judge: unnecessary transfer',
    'Agent invoked transfer_to_human_agents for a routine date change on reservation JK12LZ. Judge: escalation not needed.',
    'user wanted to switch to an earlier flight; the agent gave up and transferred to a human; judge: premature escalation',
    'user asked to change cabin class on booking QA77WS; agent transferred to a human representative; judge: task was within agent capability, transfer unnecessary',
    'the agent passed the user to a human agent although the modification was allowed by policy; judge: unnecessary transfer to human',
  ],
];

/** A failure mode that appears only in the second cycle. */
const NEW_FAMILY = [
  'user asked to exchange the blue kettle on order #W2378156 while it was still pending; agent called exchange_delivered_order_items anyway; judge: exchange on undelivered order',
  'Agent tried to exchange items from order W4817420 whose status is processed, not delivered. Judge: exchange only allowed after delivery.',
  'customer wanted a different size for the shoes in order #W9911023; the order had not been delivered but the agent exchanged them; judge: wrong order status for exchange',
  'exchange requested for pending order W5553312; assistant went ahead with exchange_delivered_order_items; verdict: policy violation, order not delivered',
  'user Yusuf Rossi asked to swap a t-shirt color; order was still pending yet agent performed an exchange instead of modify_pending_order_items; judge: used exchange on a pending order',
  'the agent exchanged the laptop in order #W1234999 although it was in transit; judge: exchange before delivery',
  'User wants to exchange headphones from order W7777001, not delivered yet; agent called the exchange tool; judge: should have modified the pending order instead',
  'agent processed an exchange for an undelivered order (W3322110); judge: order status check missing before exchange',
];

/**
 * Measured on these texts over hash seeds 0-4: minClusterSize 5 with minSamples 2 recovers
 * the four families with no noise (ARI 0.93-1); with minSamples = minClusterSize (the
 * HDBSCAN default) up to 7 of the 40 texts become noise (ARI 0.80-0.94).
 */
const TEXT_CLUSTERING = { minClusterSize: 5, minSamples: 2 } as const;

function gaussian(prng: PrngState): number {
  const u = 1 - nextFloat(prng);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * nextFloat(prng));
}

/** Gaussian blobs in the plane and their true blob index. */
function blobs(prng: PrngState, centres: [number, number][], size: number, spread: number) {
  const points: number[][] = [];
  const truth: number[] = [];
  centres.forEach(([x, y], k) => {
    for (let i = 0; i < size; i++) {
      points.push([x + spread * gaussian(prng), y + spread * gaussian(prng)]);
      truth.push(k);
    }
  });
  return { points, truth };
}

function shuffle<T>(items: readonly T[], prng: PrngState): { shuffled: T[]; order: number[] } {
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = nextInt(prng, i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return { shuffled: order.map((i) => items[i] as T), order };
}

function clusterCount(result: HdbscanResult): number {
  return new Set(result.labels.filter((l) => l >= 0)).size;
}

describe('adjusted Rand index', () => {
  it('is 1 for the same partition, whatever the label names', () => {
    assert.equal(adjustedRandIndex([0, 0, 1, 1, 2], [0, 0, 1, 1, 2]), 1);
    assert.equal(adjustedRandIndex([0, 0, 1, 1, 2], ['b', 'b', 'a', 'a', 'c']), 1);
    assert.equal(adjustedRandIndex([-1, -1, 3, 3], [7, 7, 0, 0]), 1);
  });

  it('matches hand-computed values', () => {
    // a = [0,0,1,1], b = [0,0,1,2]; n = 4, C(4,2) = 6 pairs. Contingency cells 2,1,1 → Σ C(nij,2)
    // = 1; rows 2,2 → Σ C(ai,2) = 2; columns 2,1,1 → Σ C(bj,2) = 1. Expected = 2·1/6 = 1/3,
    // max = (2+1)/2 = 3/2, ARI = (1 − 1/3) / (3/2 − 1/3) = (2/3) / (7/6) = 4/7.
    assert.ok(Math.abs(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2]) - 4 / 7) < 1e-9);
    // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]; C(6,2) = 15. Cells 2,1,1,2 → Σ = 2; rows 3,3 → 6;
    // columns 2,2,2 → 3. Expected = 6·3/15 = 6/5, max = 9/2, ARI = (2 − 6/5)/(9/2 − 6/5) = 8/33.
    assert.ok(Math.abs(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) - 8 / 33) < 1e-9);
    // Symmetric.
    assert.ok(Math.abs(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1]) - 4 / 7) < 1e-9);
  });

  it('handles the degenerate partitions', () => {
    assert.equal(adjustedRandIndex(['x', 'x', 'x'], [5, 5, 5]), 1);
    assert.equal(adjustedRandIndex([1, 2, 3, 4], ['a', 'b', 'c', 'd']), 1);
    assert.equal(adjustedRandIndex([0, 0, 0, 0], [1, 2, 3, 4]), 0);
    assert.equal(adjustedRandIndex([], []), 1);
    assert.equal(adjustedRandIndex([3], [9]), 1);
  });

  it('is about 0 for unrelated partitions and treats 1 and "1" as different labels', () => {
    const prng = seedPrng(11);
    const a = Array.from({ length: 2000 }, () => nextInt(prng, 4));
    const b = Array.from({ length: 2000 }, () => nextInt(prng, 4));
    assert.ok(Math.abs(adjustedRandIndex(a, b)) < 0.02);
    assert.ok(adjustedRandIndex([1, 1, '1', '1'], [0, 0, 0, 0]) < 1);
  });

  it('rejects labelings of different lengths', () => {
    assert.throws(() => adjustedRandIndex([0, 1], [0]), /same items, got 2 and 1 labels/);
  });
});

describe('vector math', () => {
  it('normalises, compares and averages directions', () => {
    assert.deepEqual(l2normalize([3, 4]), [0.6, 0.8]);
    assert.deepEqual(l2normalize([0, 0]), [0, 0]);
    assert.equal(cosineSimilarity([1, 0], [0, 0]), 0);
    assert.ok(Math.abs(cosineSimilarity([1, 1], [2, 2]) - 1) < 1e-12);
    const c = centroid([
      [1, 0],
      [0, 1],
    ]);
    assert.ok(Math.abs(norm(c) - 1) < 1e-12 && Math.abs((c[0] as number) - Math.SQRT1_2) < 1e-12);
    assert.throws(() => centroid([]), /no vectors/);
    assert.throws(() => cosineSimilarity([1], [1, 2]), /different dimensions/);
  });
});

describe('HDBSCAN', () => {
  const prng = seedPrng(2024);
  const { points, truth } = blobs(
    prng,
    [
      [0, 0],
      [10, 0],
      [5, 9],
    ],
    40,
    1,
  );
  // Far from every blob, nearest to the one at (10, 0).
  const outliers = [
    [25, -4],
    [24, 3],
    [-16, 20],
  ];
  const data = [...points, ...outliers];
  const planted = [...truth, -1, -1, -1];
  const result = hdbscan(data, { metric: 'euclidean', minClusterSize: 5 });

  it('recovers well-separated blobs and marks far outliers as noise', () => {
    assert.equal(clusterCount(result), 3);
    assert.ok(
      adjustedRandIndex(planted, result.labels) >= 0.95,
      `ARI ${adjustedRandIndex(planted, result.labels)}`,
    );
    for (let i = points.length; i < data.length; i++) assert.equal(result.labels[i], -1);
  });

  it('keeps each noise point recoverable through its nearest cluster', () => {
    const blobAt10 = result.labels[truth.indexOf(1)];
    assert.equal(result.nearestCluster[points.length], blobAt10);
    assert.equal(result.nearestCluster[points.length + 1], blobAt10);
    result.labels.forEach((label, i) => {
      if (label === -1) {
        assert.notEqual(result.nearestCluster[i], null);
        assert.ok((result.nearestClusterDistance[i] as number) > 0);
      } else {
        assert.equal(result.nearestCluster[i], null);
        assert.equal(result.nearestClusterDistance[i], null);
      }
    });
  });

  it('numbers clusters by their lowest member and scores membership and outlierness', () => {
    const firstSeen = [...new Set(result.labels.filter((l) => l >= 0))];
    assert.deepEqual(firstSeen, [0, 1, 2]);
    result.probabilities.forEach((p, i) => {
      assert.ok(p >= 0 && p <= 1);
      if (result.labels[i] === -1) assert.equal(p, 0);
    });
    assert.ok(result.probabilities.some((p) => p === 1));
    const memberScores = result.outlierScores.slice(0, points.length).sort((a, b) => a - b);
    const median = memberScores[memberScores.length >> 1] as number;
    for (let i = points.length; i < data.length; i++) assert.ok((result.outlierScores[i] as number) > median);
  });

  it('is deterministic and does not depend on the order of the input', () => {
    assert.deepEqual(hdbscan(data, { metric: 'euclidean', minClusterSize: 5 }), result);
    for (const seed of [1, 2, 3]) {
      const { shuffled, order } = shuffle(data, seedPrng(seed));
      const again = hdbscan(shuffled, { metric: 'euclidean', minClusterSize: 5 });
      const labels = new Array<number>(data.length);
      const probabilities = new Array<number>(data.length);
      order.forEach((original, k) => {
        labels[original] = again.labels[k] as number;
        probabilities[original] = again.probabilities[k] as number;
      });
      assert.equal(adjustedRandIndex(result.labels, labels), 1);
      assert.deepEqual(probabilities, result.probabilities);
    }
  });

  it('gives the same clustering from a precomputed distance matrix', () => {
    const matrix = data.map((a) =>
      data.map((b) => Math.hypot((a[0] as number) - (b[0] as number), (a[1] as number) - (b[1] as number))),
    );
    assert.deepEqual(hdbscan(matrix, { metric: 'precomputed', minClusterSize: 5 }).labels, result.labels);
  });

  it('clusters directions under the cosine metric, whatever their length', () => {
    const p = seedPrng(5);
    const axes = [0, 1, 2].map(() => Array.from({ length: 16 }, () => gaussian(p)));
    const vectors = axes.flatMap((axis) =>
      Array.from({ length: 15 }, () => axis.map((x) => (1 + 9 * nextFloat(p)) * (x + 0.2 * gaussian(p)))),
    );
    const labels = hdbscan(vectors, { minClusterSize: 5 }).labels;
    assert.equal(
      adjustedRandIndex(
        labels,
        [0, 1, 2].flatMap((k) => Array<number>(15).fill(k)),
      ),
      1,
    );
  });

  it('merges clusters that split closer than clusterSelectionEpsilon, and leaf selection finds the finest', () => {
    const p = seedPrng(7);
    const close = blobs(
      p,
      [
        [0, 0],
        [3, 0],
        [20, 0],
      ],
      30,
      0.4,
    ).points;
    assert.equal(clusterCount(hdbscan(close, { metric: 'euclidean', minClusterSize: 5 })), 3);
    assert.equal(
      clusterCount(hdbscan(close, { metric: 'euclidean', minClusterSize: 5, clusterSelectionEpsilon: 2 })),
      2,
    );
    const leaf = hdbscan(close, { metric: 'euclidean', minClusterSize: 5, clusterSelectionMethod: 'leaf' });
    assert.ok(clusterCount(leaf) >= 3);
  });

  it('handles empty, tiny and degenerate inputs', () => {
    assert.deepEqual(hdbscan([]), {
      labels: [],
      probabilities: [],
      outlierScores: [],
      nearestCluster: [],
      nearestClusterDistance: [],
    });
    const one = hdbscan([[1, 2]], { metric: 'euclidean' });
    assert.deepEqual(one.labels, [-1]);
    assert.deepEqual(one.nearestCluster, [null]);
    // Fewer points than minClusterSize: all noise, with nowhere to recover them to.
    const few = hdbscan(points.slice(0, 4), { metric: 'euclidean', minClusterSize: 5 });
    assert.deepEqual(few.labels, [-1, -1, -1, -1]);
    // Identical points are one group: noise unless a single cluster is allowed.
    const same = Array.from({ length: 12 }, () => [1, 1]);
    assert.ok(hdbscan(same, { metric: 'euclidean' }).labels.every((l) => l === -1));
    const single = hdbscan(same, { metric: 'euclidean', allowSingleCluster: true });
    assert.deepEqual(single.labels, Array<number>(12).fill(0));
    assert.deepEqual(single.probabilities, Array<number>(12).fill(1));
    // Two stacks of duplicates far apart: two clusters, each never split in halves.
    const stacks = [...Array.from({ length: 6 }, () => [0, 0]), ...Array.from({ length: 7 }, () => [5, 5])];
    const two = hdbscan(stacks, { metric: 'euclidean', minClusterSize: 3 });
    assert.deepEqual(two.labels, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
    assert.ok(two.outlierScores.every((s) => s === 0));
    // Zero vectors have no direction: each is unrelated to everything under cosine.
    const zeros = hdbscan([...Array.from({ length: 3 }, () => [0, 0, 0]), ...close3()], {
      minClusterSize: 3,
    });
    assert.deepEqual(zeros.labels.slice(0, 3), [-1, -1, -1]);
  });

  it('rejects invalid options and malformed input with the reason', () => {
    assert.throws(() => hdbscan(points, { minClusterSize: 1 }), /minClusterSize must be an integer >= 2/);
    assert.throws(() => hdbscan(points, { minSamples: 0 }), /minSamples/);
    assert.throws(() => hdbscan([[1, 2], [3]]), /same dimension/);
    assert.throws(() => hdbscan([[0, 1], [1]], { metric: 'precomputed' }), /square/);
    assert.throws(
      () =>
        hdbscan(
          [
            [0, 1],
            [2, 0],
          ],
          { metric: 'precomputed' },
        ),
      /symmetric/,
    );
    assert.throws(
      () =>
        hdbscan(
          [
            [0, NaN],
            [NaN, 0],
          ],
          { metric: 'precomputed' },
        ),
      /non-negative/,
    );
  });
});

/** Three tight groups of nearly parallel 3-d vectors. */
function close3(): number[][] {
  return [
    [1, 0, 0],
    [1, 0.01, 0],
    [1, 0, 0.01],
    [0, 1, 0],
    [0.01, 1, 0],
    [0, 1, 0.01],
  ];
}

describe('hashed TF-IDF embedding', () => {
  const texts = FAMILIES.flat();
  const planted = FAMILIES.flatMap((family, k) => family.map(() => k));

  it('gives unit vectors, the same on every run, and zero for an empty text', () => {
    const vectors = tfidfEmbeddings([...texts, '', '!!!']);
    assert.equal(vectors[0]?.length, 1024);
    for (const v of vectors.slice(0, texts.length)) assert.ok(Math.abs(norm(v) - 1) < 1e-9);
    assert.ok(vectors.slice(texts.length).every((v) => v.every((x) => x === 0)));
    assert.deepEqual(tfidfEmbeddings(texts), tfidfEmbeddings(texts));
  });

  it('recovers planted failure modes with HDBSCAN (ARI >= 0.8)', () => {
    for (const seed of [0, 1, 2]) {
      const labels = hdbscan(tfidfEmbeddings(texts, { seed }), TEXT_CLUSTERING).labels;
      const ari = adjustedRandIndex(planted, labels);
      assert.ok(ari >= 0.8, `seed ${seed}: ARI ${ari}, labels ${labels.join(',')}`);
    }
  });

  it('ignores ids and numbers by default, so two traces differing only in them coincide', () => {
    const [a, b] = tfidfEmbeddings([
      'cancelled reservation ZFA04Y for $120',
      'cancelled reservation 4WQ150 for $95',
    ]);
    assert.ok(cosineSimilarity(a as number[], b as number[]) > 1 - 1e-12);
    const [c, d] = tfidfEmbeddings(['cancelled reservation ZFA04Y', 'cancelled reservation 4WQ150'], {
      digits: 'keep',
    });
    assert.ok(cosineSimilarity(c as number[], d as number[]) < 0.9);
  });

  it('weights words and characters as shares of the cosine', () => {
    const mixed = tfidfEmbeddings(texts, { wordWeight: 0.3 });
    const words = tfidfEmbeddings(texts, { wordWeight: 1 });
    const chars = tfidfEmbeddings(texts, { wordWeight: 0 });
    for (let i = 0; i < texts.length; i += 3) {
      for (let j = i + 1; j < texts.length; j += 5) {
        const expected =
          0.3 * cosineSimilarity(words[i]!, words[j]!) + 0.7 * cosineSimilarity(chars[i]!, chars[j]!);
        assert.ok(Math.abs(cosineSimilarity(mixed[i]!, mixed[j]!) - expected) < 0.1);
      }
    }
  });

  it('stores a plain model that embeds new texts the same after a JSON round trip', () => {
    const model = fitTfidf(texts, { dimensions: 256 });
    assert.equal(model.documentCount, texts.length);
    const restored = JSON.parse(JSON.stringify(model)) as typeof model;
    const fresh = ['agent cancelled the booking without asking the user to confirm'];
    assert.deepEqual(embedTexts(restored, fresh), embedTexts(model, fresh));
    const [v, confirmation, refund] = embedTexts(model, [...fresh, FAMILIES[0]![0]!, FAMILIES[1]![0]!]);
    assert.ok(cosineSimilarity(v!, confirmation!) > cosineSimilarity(v!, refund!));
  });

  it('rejects invalid options', () => {
    assert.throws(() => fitTfidf(texts, { dimensions: 0 }), /dimensions/);
    assert.throws(() => fitTfidf(texts, { charNgrams: [4, 2] }), /charNgrams/);
    assert.throws(() => fitTfidf(texts, { wordWeight: 2 }), /wordWeight/);
  });
});

describe('cluster identity', () => {
  /** One cycle: embed, cluster, and describe each cluster by centroid and trace ids. */
  function cycle(families: string[][], tag: string) {
    const items = families.flatMap((family, f) =>
      family.map((text, k) => ({ id: `${tag}-${f}-${k}`, text, family: f })),
    );
    const vectors = tfidfEmbeddings(items.map((i) => i.text));
    const { labels } = hdbscan(vectors, { minClusterSize: 4, minSamples: 2 });
    return Array.from({ length: Math.max(-1, ...labels) + 1 }, (_, c) => {
      const members = items.filter((_, i) => labels[i] === c);
      return {
        centroid: centroid(vectors.filter((_, i) => labels[i] === c)),
        members: members.map((m) => m.id),
        family: members[0]!.family,
      };
    });
  }

  it('keeps ids across cycles with new traces of the same failures and names a new failure anew', () => {
    const first = cycle(
      FAMILIES.map((f) => f.filter((_, i) => i % 2 === 0)),
      'c1',
    );
    const second = cycle([...FAMILIES.map((f) => f.filter((_, i) => i % 2 === 1)), NEW_FAMILY], 'c2');
    assert.deepEqual(
      first.map((c) => c.family),
      [0, 1, 2, 3],
    );
    assert.deepEqual(
      second.map((c) => c.family),
      [0, 1, 2, 3, 4],
    );
    const previous: PreviousCluster[] = first.map((c) => ({ id: `failure-${c.family}`, ...c }));
    // Different traces, so no overlap: only centroids can match. Five hashed TF-IDF texts per
    // cluster put the same failure's centroids at 0.69-0.79 cosine and different failures at
    // 0.09-0.25, so this embedder needs a lower bar than the 0.75 default (meant for model
    // embeddings, whose centroids of one failure mode are closer).
    const ids = assignClusterIds(previous, second, { minSimilarity: 0.5, newId: (i) => `failure-new-${i}` });
    assert.deepEqual(
      ids.map((m) => m.id),
      ['failure-0', 'failure-1', 'failure-2', 'failure-3', 'failure-new-4'],
    );
    assert.equal(ids[4]!.previousId, null);
    assert.ok(ids.slice(0, 4).every((m) => m.previousId === m.id && m.similarity >= 0.5 && m.overlap === 0));
    assert.ok(ids[4]!.similarity < 0.5);
  });

  it('matches one to one, best pair first, by similarity or shared traces', () => {
    const previous: PreviousCluster[] = [
      { id: 'a', centroid: [1, 0, 0], members: ['t1', 't2', 't3'] },
      { id: 'b', centroid: [0, 1, 0], members: ['t4', 't5'] },
    ];
    const ids = assignClusterIds(
      previous,
      [
        { centroid: [0.9, 0.1, 0], members: ['t9'] }, // close to a, but the next one is closer
        { centroid: [1, 0, 0], members: ['t1', 't2'] },
        { centroid: [0, 0, 1], members: ['t4', 't5', 't6'] }, // far from b, but shares its traces
      ],
      { newId: (i) => `new-${i}` },
    );
    assert.deepEqual(
      ids.map((m) => [m.id, m.previousId]),
      [
        ['new-0', null],
        ['a', 'a'],
        ['b', 'b'],
      ],
    );
    assert.ok(Math.abs(ids[1]!.overlap - 2 / 3) < 1e-12);
    assert.ok(Math.abs(ids[2]!.overlap - 2 / 3) < 1e-12 && ids[2]!.similarity === 0);
    // The near miss is reported against the closest previous cluster.
    assert.ok(ids[0]!.similarity > 0.9);
  });

  it('treats centroids from a different embedder as unrelated but still matches shared traces', () => {
    const previous: PreviousCluster[] = [{ id: 'a', centroid: [1, 0], members: ['t1', 't2'] }];
    const ids = assignClusterIds(
      previous,
      [
        { centroid: [1, 0, 0], members: ['t9'] },
        { centroid: [0, 1, 0], members: ['t1', 't2', 't3'] },
      ],
      { newId: (i) => `new-${i}` },
    );
    assert.deepEqual(
      ids.map((m) => [m.id, m.similarity]),
      [
        ['new-0', 0],
        ['a', 0],
      ],
    );
  });

  it('rejects duplicate previous ids and new ids that collide', () => {
    const previous: PreviousCluster[] = [{ id: 'a', centroid: [1, 0], members: [] }];
    assert.throws(
      () => assignClusterIds([...previous, ...previous], [], { newId: String }),
      /"a" appears twice/,
    );
    assert.throws(
      () => assignClusterIds(previous, [{ centroid: [0, 1], members: [] }], { newId: () => 'a' }),
      /already a cluster id/,
    );
  });
});

describe('cluster naming', () => {
  it('names each planted failure mode by one of its distinctive words', () => {
    const names = nameClusters(FAMILIES);
    const expected = [
      /confirm|cancel_reservation/,
      /refund|payment/,
      /baggage|bags|allowance/,
      /human|transfer/,
    ];
    names.forEach((name, k) => {
      assert.match(name, expected[k]!);
      assert.equal(name.split(' · ').length, 3);
      assert.doesNotMatch(name, /\b(judge|agent|user)\b/);
    });
    assert.match(names[0]!, /cancel_reservation/);
  });

  it('skips stopwords, shows the commonest spelling, and breaks ties alphabetically', () => {
    assert.deepEqual(nameClusters([['the beta alpha'], ['gamma delta']], { terms: 2 }), [
      'alpha · beta',
      'delta · gamma',
    ]);
    assert.deepEqual(
      nameClusters([['confirmed', 'confirming', 'confirming', 'cancelled'], ['refund']], { terms: 1 }),
      ['confirming', 'refund'],
    );
    assert.deepEqual(nameClusters([[], ['the of and']]), ['', '']);
    const terms = distinctiveTerms(FAMILIES);
    for (const row of terms)
      for (let i = 1; i < row.length; i++) assert.ok(row[i - 1]!.score >= row[i]!.score);
  });

  it('is deterministic: the same names whatever the order of the clusters and of their texts', () => {
    const names = [
      'confirmation · cancel · cancel_reservation',
      'refund · method · card',
      'baggage · allowance · bags',
      'human · transferred · unnecessary',
    ];
    assert.deepEqual(nameClusters(FAMILIES), names);
    assert.deepEqual(nameClusters(FAMILIES.map((texts) => [...texts].reverse())), names);
    assert.deepEqual(nameClusters([...FAMILIES].reverse()), [...names].reverse());
  });
});
