import type { z } from 'zod';
import type { MiproSettings as Settings } from '../schemas/optimizer-config.js';
type MiproSettings = z.infer<typeof Settings>;
import { nextInt } from './prng.js';
import {
  candidateIdOf,
  meanOf,
  sampleWithoutReplacement,
  shuffled,
  type Candidate,
  type Optimizer,
  type SearchContext,
} from './prompt-search.js';
import { addTpeTrial, askTpe, initTpe, tellTpe } from './tpe.js';

/**
 * MIPRO-style Bayesian search (DSPy `MIPROv2`): bootstrap few-shot demo sets from examples
 * the baseline already gets right, summarize the train split and the failures seen, have
 * the teacher propose instructions grounded in that summary (each with a random prompting
 * tip), then search the categorical (instruction, demo set) space
 * with multivariate TPE on minibatch scores, periodically scoring the most promising
 * combination on the full validation set. Full-evaluation scores pick the winner.
 *
 * One such round makes every instruction a single rewrite of the baseline, so no candidate
 * fixes more failure modes than one teacher answer does. With `rounds` (absent from settings
 * recorded before it, which replay as one round) a further round proposes rewrites of the
 * best program so far, grounded in its failures on the validation set, and searches them
 * with the demo sets again, until the rounds or the budget run out.
 */

export function miproTrials(settings: MiproSettings): number {
  if (settings.numTrials !== null) return settings.numTrials;
  const v = 2;
  return Math.floor(Math.max(2 * v * Math.log2(settings.numCandidates), 1.5 * settings.numCandidates));
}

/**
 * The `k` examples the proposer reads: the program's known failures first, then examples it
 * passed, then ones it was not run on (which cost a rollout each), each group in `order`.
 */
export function failuresFirst(
  ctx: Pick<SearchContext, 'cached'>,
  program: Candidate,
  order: readonly string[],
  k: number,
): string[] {
  const rank = (id: string) => {
    const score = ctx.cached(program, id);
    return score === undefined ? 2 : score < 1 ? 0 : 1;
  };
  return [0, 1, 2].flatMap((r) => order.filter((id) => rank(id) === r)).slice(0, k);
}

export function mipro(settings: MiproSettings): Optimizer {
  return function* (ctx) {
    const { baseline, trainIds } = ctx.setup;
    // Settings recorded before `rounds` existed run the single round exactly as then.
    const rounded = settings.rounds !== undefined;
    const maxRounds = rounded ? (settings.rounds ?? Infinity) : 1;
    const all = shuffled(ctx.prng, trainIds);
    const nVal = all.length < 4 ? all.length : Math.min(settings.valSize, Math.floor(all.length / 2));
    let val = all.slice(0, nVal).sort();
    const demoPool = all.length < 4 ? all : all.slice(nVal);
    const n = settings.numCandidates;

    // 1. Demo sets: zero-shot, labeled-only, bootstrapped on the pool in order, then on
    //    shuffled pools with a random size. Bootstrapping keeps examples the baseline passes.
    const bootstrap = function* (pool: readonly string[], size: number) {
      const kept: string[] = [];
      for (const id of pool) {
        if (kept.length >= size) break;
        const [score] = yield* ctx.evaluate(baseline, [id], 'bootstrap demos');
        if (score! >= 1) kept.push(id);
      }
      return kept;
    };
    const demoSets: (string | null)[] = [null];
    const shownAsDemos = new Set<string>();
    if (n > 1) {
      const labeled = sampleWithoutReplacement(ctx.prng, demoPool, settings.maxLabeledDemos);
      labeled.forEach((id) => shownAsDemos.add(id));
      demoSets.push((yield* ctx.teach({ type: 'demos', exampleIds: labeled }))[0] ?? null);
    }
    for (let s = 2; s < n; s++) {
      const pool = s === 2 ? demoPool : shuffled(ctx.prng, demoPool);
      const size =
        s === 2 ? settings.maxBootstrappedDemos : 1 + nextInt(ctx.prng, settings.maxBootstrappedDemos);
      const kept = yield* bootstrap(pool, size);
      kept.forEach((id) => shownAsDemos.add(id));
      demoSets.push(
        kept.length ? ((yield* ctx.teach({ type: 'demos', exampleIds: kept }))[0] ?? null) : null,
      );
    }

    // With rounds the baseline is scored on the validation set first (the same rollouts, spent
    // earlier), so the proposer and the summary see its failures there.
    const baseScore = rounded ? meanOf(yield* ctx.evaluate(baseline, val, 'baseline full evaluation')) : 0;

    // 2. Instructions: candidate 0 is the original; the rest are grounded proposals.
    const evidenceIds = rounded
      ? failuresFirst(ctx, baseline, shuffled(ctx.prng, all), 10)
      : sampleWithoutReplacement(ctx.prng, demoPool.length ? demoPool : val, 10);
    yield* ctx.evaluate(baseline, evidenceIds, 'grounding examples for the proposer');
    // The summary reads the whole train split batch by batch, after bootstrapping and the
    // grounding examples, so the baseline's steps on those are shown with their verdicts.
    // Checkpoints recorded before the setting existed lack it and replay without a summary.
    let summaryId: string | null = null;
    if (settings.datasetSummary) {
      for (let i = 0; i < all.length; i += settings.viewBatchSize) {
        const exampleIds = all.slice(i, i + settings.viewBatchSize);
        summaryId =
          (yield* ctx.teach({ type: 'summarize', candidate: baseline, exampleIds, priorId: summaryId }))[0] ??
          summaryId;
      }
    }
    const propose = function* (program: Candidate, exampleIds: string[]) {
      const texts: string[] = [program[settings.component]!];
      for (let i = 1; i < n; i++) {
        const tip = settings.tips[nextInt(ctx.prng, settings.tips.length)]!;
        const demosId = demoSets[nextInt(ctx.prng, demoSets.length)] ?? null;
        const [text] = yield* ctx.teach({
          type: 'instruct',
          candidate: program,
          component: settings.component,
          evidence: { candidate: program, exampleIds },
          demosId,
          tip,
          ...(summaryId ? { summaryId } : {}),
        });
        texts.push(text ?? texts[0]!);
      }
      return texts;
    };
    let instructions = yield* propose(baseline, evidenceIds);

    const build = (i: number, d: number): Candidate => {
      const c: Record<string, string> = { ...baseline, [settings.component]: instructions[i]! };
      const demos = demoSets[d];
      if (demos) c.demos = demos;
      else delete c.demos;
      return c;
    };

    // 3. TPE over (instruction, demo set), seeded with the default program's full score.
    const choices = Array.from({ length: n }, (_, i) => i);
    const space = {
      instruction: { type: 'categorical', choices },
      demos: { type: 'categorical', choices },
    } as const;
    let study = initTpe(space, { seed: ctx.setup.seed, direction: 'maximize', multivariate: true });
    const startScore = rounded
      ? baseScore
      : meanOf(yield* ctx.evaluate(baseline, val, 'baseline full evaluation'));
    addTpeTrial(study, { instruction: 0, demos: 0 }, startScore);
    let best = { candidate: baseline, score: startScore, demos: 0 };
    ctx.incumbent(baseline, startScore);
    const fullyEvaluated = new Set<string>([candidateIdOf(build(0, 0))]);
    let minibatchScores = new Map<string, { i: number; d: number; scores: number[] }>();

    const fullScore = (candidate: Candidate, d: number, score: number) => {
      if (score > best.score) best = { candidate, score, demos: d };
      ctx.incumbent(best.candidate, best.score);
    };
    const fullEvalMostPromising = function* () {
      let pick: { key: string; i: number; d: number; mean: number } | null = null;
      for (const [key, entry] of minibatchScores) {
        if (fullyEvaluated.has(key)) continue;
        const m = meanOf(entry.scores);
        if (!pick || m > pick.mean) pick = { key, i: entry.i, d: entry.d, mean: m };
      }
      if (!pick) return;
      fullyEvaluated.add(pick.key);
      const candidate = build(pick.i, pick.d);
      const score = meanOf(
        yield* ctx.evaluate(candidate, val, 'full evaluation of the best minibatch combination'),
      );
      addTpeTrial(study, { instruction: pick.i, demos: pick.d }, score);
      fullScore(candidate, pick.d, score);
    };

    const trials = miproTrials(settings);
    let mbSize = Math.min(settings.minibatchSize, val.length);
    for (let round = 1; ; round++) {
      const spent = ctx.rolloutsUsed;
      const before = best.candidate;
      for (let t = 1; t <= trials; t++) {
        const { trialNumber, params } = askTpe(study);
        const i = Number(params.instruction);
        const d = Number(params.demos);
        const candidate = build(i, d);
        const batch = sampleWithoutReplacement(ctx.prng, val, mbSize);
        const score = meanOf(yield* ctx.evaluate(candidate, batch, `trial ${t} minibatch`));
        tellTpe(study, trialNumber, score);
        const key = candidateIdOf(candidate);
        // A minibatch that is the whole validation set is a full evaluation.
        if (rounded && mbSize === val.length && !fullyEvaluated.has(key)) {
          fullyEvaluated.add(key);
          fullScore(candidate, d, score);
        }
        const entry = minibatchScores.get(key) ?? { i, d, scores: [] };
        entry.scores.push(score);
        minibatchScores.set(key, entry);
        if (t % (settings.minibatchFullEvalSteps + 1) === 0 || t === trials) yield* fullEvalMostPromising();
      }
      // A round that found nothing to run (every combination it picked was scored before)
      // would be followed by another like it.
      if (round >= maxRounds || (round > 1 && ctx.rolloutsUsed === spent)) return;

      // 4. Next round: rewrites of the best program, grounded in its failures on the val set.
      const parent = best.candidate;
      if (parent === before || best.score >= 1) {
        // The round found nothing better, or nothing is left to fix on the validation set: the
        // rest of the train split may show failure modes the validation set lacks. Those the
        // best program fails there join the validation set (never an example a demo set shows,
        // which would grade a demo on itself).
        const rest = trainIds.filter((id) => !val.includes(id) && !shownAsDemos.has(id));
        const scores = yield* ctx.evaluate(parent, rest, 'best program on the rest of the train split');
        const missed = rest.filter((_, k) => scores[k]! < 1);
        if (missed.length > 0) {
          val = [...val, ...missed].sort();
          mbSize = Math.min(settings.minibatchSize, val.length);
          best.score = meanOf(yield* ctx.evaluate(parent, val, 'best program on the grown validation set'));
          ctx.incumbent(parent, best.score);
        }
      }
      const failures = val.filter((id) => (ctx.cached(parent, id) ?? 1) < 1);
      if (failures.length === 0) return;
      const known = new Set(instructions);
      instructions = yield* propose(parent, sampleWithoutReplacement(ctx.prng, failures, 10));
      // A teacher with nothing new to say has nothing left to search.
      if (instructions.every((text) => known.has(text))) return;
      study = initTpe(space, { seed: ctx.setup.seed + round, direction: 'maximize', multivariate: true });
      addTpeTrial(study, { instruction: 0, demos: best.demos }, best.score);
      minibatchScores = new Map();
    }
  };
}
