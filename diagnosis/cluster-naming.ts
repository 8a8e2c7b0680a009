import { STOPWORDS, tokenizeText } from './text-embedding.js';

/**
 * Short names for clusters of failure descriptions, from the words that set each cluster
 * apart from the others: class-based TF-IDF (Grootendorst 2022, BERTopic's c-TF-IDF). A word
 * frequent in one cluster and rare in the rest names it ("confirm · cancel_reservation ·
 * without"); a word frequent everywhere ("agent", "user") names none. A reviewer reads the
 * name first, so it should say what differs, not what all failures share.
 */

export interface ClusterNamingOptions {
  /** Words per name. */
  terms?: number;
  separator?: string;
}

export interface ClusterTerm {
  /** The spelling most members use. */
  term: string;
  score: number;
}

/**
 * A light suffix-stripper, so "confirm", "confirmed", "confirming" and "confirms" count as
 * one term. Crude on purpose: it only decides which tokens are the same term; the name shows
 * a spelling the members used. Tokens with digits and identifiers with underscores keep
 * their spelling.
 */
function stem(word: string): string {
  if (/[\p{N}_]/u.test(word)) return word;
  let w = word;
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  if (w.length > 3 && w[w.length - 1] === w[w.length - 2]) w = w.slice(0, -1);
  return w;
}

interface Candidate {
  key: string;
  score: number;
  /** Used by at least twice the share of this cluster's texts as of the other clusters' texts. */
  overRepresented: boolean;
}

const byKey = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
const best = (x: Candidate, y: Candidate) =>
  Number(y.overRepresented) - Number(x.overRepresented) || y.score - x.score || byKey(x.key, y.key);

/**
 * The most distinctive terms of each cluster, best first. A term's frequency in a cluster is
 * the number of member texts that use it (a text repeating a word says it once), weighted
 * by log(1 + A / f), with A the average number of term uses per cluster and f the term's
 * uses across all clusters. That weight only discounts words used everywhere ("judge",
 * "agent" in every rationale) by a log, so a word used in every text can still outscore a
 * word used in half of one cluster's texts. So terms a cluster uses at least twice as often
 * (by share of texts) as the other clusters come first, and the others only fill a name
 * that has too few. Ties go to the alphabetically first term.
 */
export function distinctiveTerms(
  clusters: readonly (readonly string[])[],
  options: Pick<ClusterNamingOptions, 'terms'> = {},
): ClusterTerm[][] {
  const limit = options.terms ?? 3;
  // Per cluster: stem → number of member texts using it; per stem: spelling → uses.
  const frequencies = clusters.map(() => new Map<string, number>());
  const spellings = new Map<string, Map<string, number>>();
  const totals = new Map<string, number>();
  clusters.forEach((texts, c) => {
    const tf = frequencies[c] as Map<string, number>;
    for (const text of texts) {
      const seen = new Set<string>();
      for (const token of tokenizeText(text)) {
        if (token.length < 2 || STOPWORDS.has(token)) continue;
        const key = stem(token);
        let forms = spellings.get(key);
        if (!forms) spellings.set(key, (forms = new Map<string, number>()));
        forms.set(token, (forms.get(token) ?? 0) + 1);
        if (seen.has(key)) continue;
        seen.add(key);
        tf.set(key, (tf.get(key) ?? 0) + 1);
        totals.set(key, (totals.get(key) ?? 0) + 1);
      }
    }
  });
  let uses = 0;
  for (const f of totals.values()) uses += f;
  const average = clusters.length === 0 ? 0 : uses / clusters.length;
  const texts = clusters.reduce((sum, c) => sum + c.length, 0);

  const spellingOf = (key: string) =>
    [...(spellings.get(key) as Map<string, number>)].sort((x, y) => y[1] - x[1] || byKey(x[0], y[0]))[0]![0];
  return frequencies.map((tf, c) =>
    [...tf]
      .map(([key, count]): Candidate => {
        const total = totals.get(key) as number;
        const size = (clusters[c] as readonly string[]).length;
        return {
          key,
          score: count * Math.log(1 + average / total),
          overRepresented: texts > size && count / size >= (2 * (total - count)) / (texts - size),
        };
      })
      .sort(best)
      .slice(0, limit)
      .map(({ key, score }) => ({ term: spellingOf(key), score })),
  );
}

/** A name per cluster from its distinctive terms, e.g. "confirm · cancel_reservation · without"; '' for a cluster without words. */
export function nameClusters(
  clusters: readonly (readonly string[])[],
  options: ClusterNamingOptions = {},
): string[] {
  const separator = options.separator ?? ' · ';
  return distinctiveTerms(clusters, options).map((terms) => terms.map((t) => t.term).join(separator));
}
