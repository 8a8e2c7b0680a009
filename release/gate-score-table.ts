import { COMPOSITE_DIMENSION, type GateConfig } from '../schemas/gate-config.js';

/** One example's scores for one prompt (candidate or production) in a gate. */
export interface ExampleScores {
  id: string;
  split: 'eval' | 'holdout';
  /** Slice tags of the dataset example (`adversarial`, `category:policy`, …). */
  slices: readonly string[];
  /**
   * Score in [0, 1] per dimension. A dimension missing here was not measured on this
   * example (the rubric did not apply, or the evaluator failed) and is left out of means.
   */
  scores: Readonly<Record<string, number>>;
  /** Every run's score of a repeated (noisy) dimension; the dimension's score is their mean. */
  runs?: Readonly<Record<string, readonly number[]>>;
}

export const meanOf = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;

export function scoreOf(example: ExampleScores, dimension: string): number | undefined {
  const runs = example.runs?.[dimension];
  if (runs && runs.length > 0) return meanOf(runs)!;
  return example.scores[dimension];
}

/** Dimensions scored on any example of either table, the code dimension first. */
export function measuredDimensions(...tables: readonly (readonly ExampleScores[])[]): string[] {
  const dims = new Set<string>();
  for (const table of tables)
    for (const e of table)
      for (const d of [...Object.keys(e.scores), ...Object.keys(e.runs ?? {})]) dims.add(d);
  dims.delete(COMPOSITE_DIMENSION);
  return [...dims].sort((a, b) =>
    a === 'outcome_match' ? -1 : b === 'outcome_match' ? 1 : a.localeCompare(b),
  );
}

/**
 * Composite weights: the weighting policy's, over the assertions' own weights; with none
 * given, every measured dimension weighs the same. Only measured dimensions keep a weight.
 */
export function compositeWeights(config: GateConfig, measured: readonly string[]): Record<string, number> {
  const explicit: Record<string, number> = {};
  for (const a of config.assertions)
    if (a.weight !== undefined && a.dimension !== COMPOSITE_DIMENSION) explicit[a.dimension] = a.weight;
  Object.assign(explicit, config.weighting.weights);
  const named = Object.keys(explicit).length > 0;
  return Object.fromEntries(
    measured.map((d) => [d, named ? (explicit[d] ?? 0) : 1] as const).filter(([, w]) => w > 0),
  );
}

/** Weighted mean of the dimensions this example was scored on (weights renormalised). */
export function compositeOf(
  example: ExampleScores,
  weights: Readonly<Record<string, number>>,
): number | undefined {
  let sum = 0;
  let total = 0;
  for (const [d, w] of Object.entries(weights)) {
    const s = scoreOf(example, d);
    if (s === undefined) continue;
    sum += w * s;
    total += w;
  }
  return total > 0 ? sum / total : undefined;
}

/** The table with the composite added as a dimension, so every test treats it alike. */
export function withComposite(
  table: readonly ExampleScores[],
  weights: Readonly<Record<string, number>>,
): ExampleScores[] {
  return table.map((e) => {
    const c = compositeOf(e, weights);
    return c === undefined ? e : { ...e, scores: { ...e.scores, [COMPOSITE_DIMENSION]: c } };
  });
}

export interface PairedScores {
  candidate: number[];
  baseline: number[];
  /** candidate − baseline per example scored on the dimension by both. */
  deltas: number[];
}

/** Scores of the examples both prompts were scored on, matched by example id. */
export function pairScores(
  candidate: readonly ExampleScores[],
  baseline: readonly ExampleScores[],
  dimension: string,
  keep: (e: ExampleScores) => boolean,
): PairedScores {
  const base = new Map(baseline.map((e) => [e.id, e]));
  const out: PairedScores = { candidate: [], baseline: [], deltas: [] };
  for (const c of candidate) {
    const b = base.get(c.id);
    if (!b || !keep(c)) continue;
    const cs = scoreOf(c, dimension);
    const bs = scoreOf(b, dimension);
    if (cs === undefined || bs === undefined) continue;
    out.candidate.push(cs);
    out.baseline.push(bs);
    out.deltas.push(cs - bs);
  }
  return out;
}

/** Mean per dimension over the examples scored on it. */
export function dimensionMeans(
  table: readonly ExampleScores[],
  dimensions: readonly string[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of dimensions) {
    const m = meanOf(
      table.flatMap((e) => {
        const s = scoreOf(e, d);
        return s === undefined ? [] : [s];
      }),
    );
    if (m !== null) out[d] = m;
  }
  return out;
}

/** Each example's runs of a dimension: its repeated runs, or its one score as a single run. */
export function runsOf(table: readonly ExampleScores[], dimension: string): number[][] {
  return table.flatMap((e) => {
    const runs = e.runs?.[dimension];
    if (runs && runs.length > 0) return [[...runs]];
    const s = e.scores[dimension];
    return s === undefined ? [] : [[s]];
  });
}
