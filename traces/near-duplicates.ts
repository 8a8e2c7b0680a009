import { DEFAULT_NEAR_DUPLICATE_THRESHOLD } from '../schemas/dataset-policy.js';
import { fmix32, stableHash53 } from '../optimizers/stable-hash.js';

/**
 * Exact and near-duplicate detection for sampled inputs, so reviewers and the optimizer do
 * not spend their budget on the same request asked a hundred times. MinHash estimates the
 * Jaccard similarity of two texts' shingle sets; LSH banding finds the few earlier texts
 * worth comparing, so adding an item costs about the same at 20 or 20,000 items.
 */

/** Signature length: the estimate's standard error is at most 0.5 / sqrt(128) ≈ 0.044. */
export const MINHASH_SIZE = 128;

/**
 * Calibrated on 18 paraphrase pairs (reordering, added politeness, small wording changes:
 * "I want to cancel my reservation ZFA04Y" / "Hi, please cancel my reservation ZFA04Y, I
 * want to cancel it" has Jaccard 0.86) against 17 different requests of the same kind
 * (another verb, reservation, date, seat or direction on the same kind of request: 0 to
 * 0.67, the top being one content word changed in a five-word request). Politeness and
 * reorderings land at 0.8-1.0. Over 50 seeds, 0.75 merged 0.1 of the 17 different pairs
 * per run (0.7: 0.6; 0.65: 2.3) and missed 4 of the 18 paraphrases, all real rewordings
 * at 0.54-0.69. We lean to precision: merging two different requests hides a failure
 * case, while a missed paraphrase only costs one redundant review.
 */
export { DEFAULT_NEAR_DUPLICATE_THRESHOLD };

/** Lowercase, NFKC, punctuation and symbols out, whitespace collapsed. Idempotent. */
export function normalizeForDedup(text: string): string {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      // Apostrophes join ("I'd" → "id", "don't" → "dont"); other punctuation separates.
      .replace(/['’‘`]/g, '')
      .replace(/[\p{P}\p{S}]+/gu, ' ')
      .replace(/\s+/gu, ' ')
      .trim()
  );
}

/** Equal for texts that normalize to the same string (106 bits of hash). */
export function exactKey(text: string): string {
  const normalized = normalizeForDedup(text);
  return `${stableHash53(normalized, 0x5eed).toString(36)}.${stableHash53(normalized, 0xdec0de).toString(36)}`;
}

/**
 * Words that carry no request of their own: function words, politeness and request
 * framing ("hi", "please", "I'd like to", "could you"). Short requests are mostly made of
 * them, so keeping them lets "hi, please ..." look like a different text. Negations
 * (not, no, dont, cant) stay: they flip a request.
 */
const STOPWORDS = new Set(
  (
    'a an the i me my mine myself we our ours us you your yours it its this that these those ' +
    'is am are was were be been being do does did doing have has had to of in on at for from with by ' +
    'about into onto and or but so if then than as also just too very really quite ' +
    'please pls plz hi hello hey there dear thanks thank thx ok okay yes sure ' +
    'would could can will shall should may might must id im ive ill youre ' +
    'want wanted wants need needs needed like would love wish hoping hope help assist ' +
    'some any get got'
  ).split(' '),
);

/**
 * A light suffix-stripper, so "cancel / cancelled / canceled / cancelling" or "bag / bags"
 * agree. Crude on purpose: both sides of a comparison are stemmed the same way, and only
 * agreement matters, not dictionary words. Tokens with digits (ids, dates, flight numbers)
 * keep their spelling, apart from ordinal suffixes ("20th" → "20").
 */
function stem(word: string): string {
  if (/\d/.test(word)) return word.replace(/^(\d+)(?:st|nd|rd|th)$/, '$1');
  let w = word;
  if (w.length > 4 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 3 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  if (w.length > 3 && w[w.length - 1] === w[w.length - 2]) w = w.slice(0, -1);
  return w;
}

/**
 * The shingles of a text: stemmed content-word unigrams plus ordered bigrams, and one extra
 * shingle per token containing a digit.
 *
 * Why words rather than character 5-grams: on short requests, character grams are
 * dominated by the politeness around the request and barely see "May 20" vs "May 24" (one
 * character). On the calibration pairs (see the threshold), 5-grams scored different
 * requests up to 0.92 and politeness-only paraphrases down to 0.45; these shingles keep
 * different requests at or below 0.67 and put politeness and reorderings at 0.8-1.0. Unigrams make
 * reorderings cheap, bigrams keep direction ("Texas to Newark" vs "Newark to Texas"), and
 * the digit weight makes a different reservation, flight or date count as a different
 * request. A text of only stopwords falls back to all its words.
 */
export function dedupShingles(text: string): string[] {
  const all = normalizeForDedup(text).split(' ').filter(Boolean);
  const content = all.filter((w) => !STOPWORDS.has(w));
  const words = (content.length > 0 ? content : all).map(stem);
  const out = new Set<string>();
  words.forEach((w, i) => {
    out.add(w);
    if (i > 0) out.add(`${words[i - 1]} ${w}`);
    if (/\d/.test(w)) out.add(`#${w}`);
  });
  return [...out];
}

/**
 * The hash family: h_i(x) = fmix32(x ^ s_i) with per-seed, per-index salts. One string
 * hash per shingle, then 128 cheap integer mixes, instead of 128 string hashes.
 */
function salts(seed: number): Uint32Array {
  // Recomputed per signature: 256 integer mixes, noise next to hashing the shingles.
  const out = new Uint32Array(MINHASH_SIZE);
  for (let i = 0; i < MINHASH_SIZE; i++)
    out[i] = fmix32(fmix32(seed ^ 0x3c6ef372) + Math.imul(i + 1, 0x9e3779b9));
  return out;
}

/** MinHash signature of a text's shingles; deterministic for a seed. */
export function minHashSignature(text: string, seed = 0): Uint32Array {
  const sig = new Uint32Array(MINHASH_SIZE).fill(0xffffffff);
  const s = salts(seed);
  for (const shingle of dedupShingles(text)) {
    const base = stableHash53(shingle, seed) >>> 0;
    for (let i = 0; i < MINHASH_SIZE; i++) {
      const h = fmix32(base ^ (s[i] as number));
      if (h < (sig[i] as number)) sig[i] = h;
    }
  }
  return sig;
}

/** Share of positions where two signatures agree: an unbiased Jaccard estimate. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) throw new Error('Signatures of different lengths.');
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same += 1;
  return a.length === 0 ? 0 : same / a.length;
}

/**
 * The number of bands for a threshold: the fewest-candidates banding (most rows per band)
 * that still makes a pair at the threshold a candidate with probability ≥ 0.99. For 0.75
 * that is 32 bands of 4 rows.
 */
export function defaultBands(threshold: number): number {
  let choice = MINHASH_SIZE;
  for (let rows = 1; rows <= MINHASH_SIZE; rows++) {
    if (MINHASH_SIZE % rows !== 0) continue;
    const bands = MINHASH_SIZE / rows;
    if (1 - (1 - threshold ** rows) ** bands >= 0.99) choice = bands;
  }
  return choice;
}

export interface NearDuplicateOptions {
  /** Estimated Jaccard at or above which a text duplicates an earlier one, in (0, 1]. */
  threshold: number;
  /** LSH bands; must divide 128. Defaults from the threshold (see `defaultBands`). */
  bands?: number;
  seed?: number;
}

/**
 * First-come deduplication: `add` returns the id of the earlier kept item a text
 * duplicates (exactly after normalization, or by estimated Jaccard ≥ threshold, most
 * similar first), or null and keeps it. Only kept items are indexed, so a chain of small
 * edits cannot drift away from the item it is compared against.
 */
export class NearDuplicateIndex {
  readonly threshold: number;
  readonly bands: number;
  readonly seed: number;
  private readonly rows: number;
  private readonly exact = new Map<string, string>();
  private readonly ids: string[] = [];
  private readonly signatures: Uint32Array[] = [];
  /** Per band: band hash → ordinals of kept items with that band. */
  private readonly buckets: Map<number, number[]>[];

  constructor(options: NearDuplicateOptions) {
    const { threshold } = options;
    if (!(threshold > 0 && threshold <= 1)) throw new Error(`threshold must be in (0, 1], got ${threshold}`);
    const bands = options.bands ?? defaultBands(threshold);
    if (!Number.isInteger(bands) || bands < 1 || MINHASH_SIZE % bands !== 0) {
      throw new Error(`bands must divide ${MINHASH_SIZE}, got ${bands}`);
    }
    this.threshold = threshold;
    this.bands = bands;
    this.rows = MINHASH_SIZE / bands;
    this.seed = options.seed ?? 0;
    this.buckets = Array.from({ length: bands }, () => new Map<number, number[]>());
  }

  get size(): number {
    return this.ids.length;
  }

  add(id: string, text: string): string | null {
    const key = exactKey(text);
    const same = this.exact.get(key);
    if (same !== undefined) return same;

    const sig = minHashSignature(text, this.seed);
    const keys = this.bandKeys(sig);
    const seen = new Set<number>();
    let best: { ordinal: number; similarity: number } | null = null;
    // Stop comparing once more positions disagree than the threshold allows.
    const maxMismatch = Math.floor((1 - this.threshold) * MINHASH_SIZE + 1e-9);
    for (let b = 0; b < this.bands; b++) {
      const bucket = (this.buckets[b] as Map<number, number[]>).get(keys[b] as number);
      if (!bucket) continue;
      for (const ordinal of bucket) {
        if (seen.has(ordinal)) continue;
        seen.add(ordinal);
        const similarity = similarityAtLeast(sig, this.signatures[ordinal] as Uint32Array, maxMismatch);
        if (similarity === null) continue;
        if (!best || similarity > best.similarity) best = { ordinal, similarity };
      }
    }
    if (best) return this.ids[best.ordinal] as string;

    const ordinal = this.ids.length;
    this.ids.push(id);
    this.signatures.push(sig);
    this.exact.set(key, id);
    for (let b = 0; b < this.bands; b++) {
      const bandMap = this.buckets[b] as Map<number, number[]>;
      const k = keys[b] as number;
      const bucket = bandMap.get(k);
      if (bucket) bucket.push(ordinal);
      else bandMap.set(k, [ordinal]);
    }
    return null;
  }

  /** A 32-bit hash of each band's rows; a collision only costs one extra comparison. */
  private bandKeys(sig: Uint32Array): Uint32Array {
    const keys = new Uint32Array(this.bands);
    for (let b = 0; b < this.bands; b++) {
      let h = b + 1;
      for (let r = 0; r < this.rows; r++)
        h = fmix32(Math.imul(h, 0x01000193) ^ (sig[b * this.rows + r] as number));
      keys[b] = h;
    }
    return keys;
  }
}

/** Estimated Jaccard when at most `maxMismatch` positions differ; null otherwise. */
function similarityAtLeast(a: Uint32Array, b: Uint32Array, maxMismatch: number): number | null {
  let mismatch = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && ++mismatch > maxMismatch) return null;
  }
  return (a.length - mismatch) / a.length;
}
