import { fmix32 } from '../optimizers/stable-hash.js';

/**
 * A deterministic local text embedder: hashed TF-IDF over word and character n-grams. It is
 * the fallback for failure clustering when no embedding model is configured, so it needs no
 * network, no vocabulary file and gives the same vectors on every machine and in workflow
 * code. Texts are short failure descriptions ("agent called cancel_reservation without
 * confirming"); words carry the meaning, character grams catch inflections and typos
 * ("confirm", "confirming", "confirmation") that word features alone would keep apart.
 */

export interface TfidfOptions {
  /** Hash buckets per vector, the output dimension. */
  dimensions?: number;
  /** Word n-gram lengths, inclusive; [1, 2] is unigrams and bigrams, [0, 0] turns words off. */
  wordNgrams?: readonly [number, number];
  /** Character n-gram lengths within words (with boundary marks), inclusive; [0, 0] turns them off. */
  charNgrams?: readonly [number, number];
  /**
   * Share of the word features in the cosine similarity of two vectors, in [0, 1]; the
   * characters get the rest. See `embedTexts` for why this is a share.
   */
  wordWeight?: number;
  /** What to do with tokens that contain a digit (ids, amounts, dates): see `DigitTokens`. */
  digits?: DigitTokens;
  /** Leave out common English function words (negations stay: "without", "not"). */
  stopwords?: boolean;
  /** Hash seed; vectors from different seeds are not comparable. */
  seed?: number;
}

/**
 * 'keep' them as written; 'shape' replaces them by their shape ("ZFA04Y" → "a0a"); 'drop'
 * leaves them out.
 */
export type DigitTokens = 'keep' | 'shape' | 'drop';

export type ResolvedTfidfOptions = Required<TfidfOptions>;

/** A fitted embedder: plain data, so it can be stored with a cycle and reused to embed more texts. */
export interface TfidfModel {
  options: ResolvedTfidfOptions;
  documentCount: number;
  /** Smoothed IDF per hash bucket of the word features, then of the character features. */
  wordIdf: number[];
  charIdf: number[];
}

/**
 * Chosen on planted failure descriptions (four airline failure modes written judge-style,
 * five retail ones paraphrased freely; mean ARI over a grid of HDBSCAN minClusterSize and
 * minSamples). Differences are small on sets this size, so the choices lean on reasons too.
 * Characters get the larger share: wordWeight 0.2-0.3 scored 0.66 on the two sets pooled,
 * 0.5 scored 0.61. Stopwords out: 0.95 against 0.94 judge-style, 0.47 against 0.38 free.
 * Digit tokens: keeping them scored best judge-style (0.97 against 0.94 dropped, 0.93 as
 * shapes) and worst on the free set (0.40 against 0.45 dropped); dropping them also keeps
 * two traces of one customer or reservation from looking alike for that reason alone.
 */
export const DEFAULT_TFIDF_OPTIONS: ResolvedTfidfOptions = {
  dimensions: 1024,
  wordNgrams: [1, 2],
  charNgrams: [3, 5],
  wordWeight: 0.3,
  digits: 'drop',
  stopwords: true,
  seed: 0,
};

function resolve(options: TfidfOptions = {}): ResolvedTfidfOptions {
  const o = { ...DEFAULT_TFIDF_OPTIONS, ...options };
  if (!Number.isInteger(o.dimensions) || o.dimensions < 1) {
    throw new Error(`dimensions must be a positive integer, got ${o.dimensions}`);
  }
  for (const [name, [lo, hi]] of [
    ['wordNgrams', o.wordNgrams],
    ['charNgrams', o.charNgrams],
  ] as const) {
    const off = lo === 0 && hi === 0;
    if (!off && !(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi >= lo)) {
      throw new Error(
        `${name} must be [min, max] with 1 <= min <= max, or [0, 0] for none; got [${lo}, ${hi}]`,
      );
    }
  }
  if (!(o.wordWeight >= 0 && o.wordWeight <= 1))
    throw new Error(`wordWeight must be in [0, 1], got ${o.wordWeight}`);
  return {
    ...o,
    wordNgrams: [o.wordNgrams[0], o.wordNgrams[1]],
    charNgrams: [o.charNgrams[0], o.charNgrams[1]],
  };
}

/**
 * Lowercased, NFKC-normalised word tokens. Letters, digits and underscores make a token, so
 * tool names such as `cancel_reservation` stay whole; apostrophes join ("don't" → "dont");
 * everything else separates.
 */
export function tokenizeText(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/['’‘`]/g, '')
      .match(/[\p{L}\p{M}\p{N}_]+/gu) ?? []
  );
}

/**
 * Common English function words. Negations are not here: "without confirming" is often the
 * whole failure.
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but if then so as of to in on at by for from with into onto about over ' +
    'is am are was were be been being do does did done have has had having ' +
    'i me my we our you your he him his she her it its they them their this that these those ' +
    'there here which who whom what when where why how all any both each some such own same ' +
    'than too very can will would should could may might must shall just also only again ' +
    'up down out off once further yet still even'
  ).split(' '),
);

/** "zfa04y" → "a0a": runs of letters become "a", runs of digits "0". */
function digitShape(token: string): string {
  return token.replace(/\p{N}+/gu, '0').replace(/[\p{L}\p{M}_]+/gu, 'a');
}

function features(
  text: string,
  o: ResolvedTfidfOptions,
): { words: Map<string, number>; chars: Map<string, number> } {
  const tokens = tokenizeText(text)
    .filter((t) => !(o.stopwords && STOPWORDS.has(t)))
    .flatMap((t) =>
      o.digits === 'keep' || !/\p{N}/u.test(t) ? [t] : o.digits === 'shape' ? [digitShape(t)] : [],
    );
  const words = new Map<string, number>();
  const chars = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const [wLo, wHi] = o.wordNgrams;
  if (wHi > 0) {
    for (let i = 0; i < tokens.length; i++) {
      for (let n = wLo; n <= wHi && i + n <= tokens.length; n++)
        count(words, tokens.slice(i, i + n).join(' '));
    }
  }
  const [cLo, cHi] = o.charNgrams;
  if (cHi > 0) {
    for (const token of tokens) {
      // Boundary marks make prefixes and suffixes their own grams ("<can" is not "scan").
      const marked = [...`<${token}>`];
      for (let n = cLo; n <= cHi; n++) {
        for (let i = 0; i + n <= marked.length; i++) count(chars, marked.slice(i, i + n).join(''));
      }
    }
  }
  return { words, chars };
}

/** FNV-1a over UTF-16 code units, then murmur3's finalizer so every output bit depends on every input bit. */
function hash32(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

type Group = 'words' | 'chars';

/**
 * Bucket and sign of a feature. The sign (from a second hash) makes two features that share
 * a bucket cancel on average instead of always adding up, so collisions add noise to the
 * similarities but no bias (Weinberger et al. 2009). Each group hashes with its own seed, so
 * the word "bag" and the character gram "bag" of "baggage" do not always land together.
 */
function bucketOf(feature: string, group: Group, o: ResolvedTfidfOptions): { bucket: number; sign: 1 | -1 } {
  const seed = group === 'words' ? o.seed : o.seed ^ 0x9e3779b9;
  return {
    bucket: hash32(feature, seed) % o.dimensions,
    sign: hash32(feature, seed ^ 0x5bd1e995) & 1 ? -1 : 1,
  };
}

function documentFrequencies(
  documents: Map<string, number>[],
  group: Group,
  o: ResolvedTfidfOptions,
): number[] {
  const df = new Array<number>(o.dimensions).fill(0);
  for (const features of documents) {
    const seen = new Set<number>();
    for (const feature of features.keys()) seen.add(bucketOf(feature, group, o).bucket);
    for (const b of seen) df[b] = (df[b] as number) + 1;
  }
  // Smoothed as in scikit-learn: as if one more document contained every feature, so an
  // unseen bucket gets a finite weight and a bucket in every document still counts a little.
  return df.map((d) => Math.log((1 + documents.length) / (1 + d)) + 1);
}

/** Fits the IDF weights on a corpus: the failure descriptions of this cycle. */
export function fitTfidf(texts: readonly string[], options?: TfidfOptions): TfidfModel {
  const o = resolve(options);
  const all = texts.map((t) => features(t, o));
  return {
    options: o,
    documentCount: texts.length,
    wordIdf: documentFrequencies(
      all.map((f) => f.words),
      'words',
      o,
    ),
    charIdf: documentFrequencies(
      all.map((f) => f.chars),
      'chars',
      o,
    ),
  };
}

/** Sublinear TF × IDF of one feature group, hashed and L2-normalised. */
function groupVector(
  features: Map<string, number>,
  group: Group,
  idf: readonly number[],
  o: ResolvedTfidfOptions,
): number[] {
  const v = new Array<number>(o.dimensions).fill(0);
  for (const [feature, tf] of features) {
    const { bucket, sign } = bucketOf(feature, group, o);
    v[bucket] = (v[bucket] as number) + sign * (1 + Math.log(tf));
  }
  let squares = 0;
  for (let i = 0; i < v.length; i++) {
    v[i] = (v[i] as number) * (idf[i] as number);
    squares += (v[i] as number) ** 2;
  }
  const length = Math.sqrt(squares);
  return length === 0 ? v : v.map((x) => x / length);
}

/**
 * Unit vectors for `texts` under a fitted model. Each feature group is normalised on its own
 * and the two are added with weights √w and √(1−w), then the sum is normalised. Because the
 * signed hashing makes word and character features nearly orthogonal, the cosine of two
 * such vectors is close to w·cos(words) + (1−w)·cos(characters): without the per-group
 * normalisation the character grams, about ten times as many per text, would decide alone.
 * A text with no features of a group (or none at all) gets zero there; an empty text embeds
 * as the zero vector.
 */
export function embedTexts(model: TfidfModel, texts: readonly string[]): number[][] {
  const o = model.options;
  const ww = Math.sqrt(o.wordWeight);
  const wc = Math.sqrt(1 - o.wordWeight);
  return texts.map((text) => {
    const { words, chars } = features(text, o);
    const w = groupVector(words, 'words', model.wordIdf, o);
    const c = groupVector(chars, 'chars', model.charIdf, o);
    const sum = w.map((x, i) => ww * x + wc * (c[i] as number));
    let squares = 0;
    for (const x of sum) squares += x * x;
    const length = Math.sqrt(squares);
    return length === 0 ? sum : sum.map((x) => x / length);
  });
}

/** Fits on `texts` and embeds them: the usual call for one cycle's failures. */
export function tfidfEmbeddings(texts: readonly string[], options?: TfidfOptions): number[][] {
  return embedTexts(fitTfidf(texts, options), texts);
}
