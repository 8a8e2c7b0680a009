import type { z } from 'zod';
import type { RandomSearchSettings as Settings } from '../schemas/optimizer-config.js';
type RandomSearchSettings = z.infer<typeof Settings>;
import { meanOf, withComponent, type Candidate, type Optimizer } from './prompt-search.js';
import { nextInt } from './prng.js';

/**
 * The control every other optimizer must beat: the teacher proposes independent rewrites
 * of the baseline from the baseline's failures (in batches, as the pool runs dry), each is
 * drawn uniformly from the pool and scored on the whole train set, and the best one wins.
 * No feedback flows from one candidate to the next — that is what makes it random search.
 */

export function randomSearch(settings: RandomSearchSettings): Optimizer {
  return function* (ctx) {
    const { baseline, trainIds } = ctx.setup;
    const baselineScores = yield* ctx.evaluate(baseline, trainIds, 'baseline on train');
    let bestScore = meanOf(baselineScores);
    ctx.incumbent(baseline, bestScore);
    const failures = trainIds.filter((_, i) => baselineScores[i]! < 1);
    if (failures.length === 0) return;
    const seen = new Set<string>([baseline[settings.component]!]);
    const pool: string[] = [];
    for (let empty = 0; empty < 3;) {
      if (pool.length === 0) {
        const texts = yield* ctx.teach({
          type: 'rewrite',
          candidate: baseline,
          component: settings.component,
          evidence: { candidate: baseline, exampleIds: failures },
          count: settings.proposalsPerCall,
        });
        const fresh = texts.filter((t) => !seen.has(t));
        fresh.forEach((t) => seen.add(t));
        pool.push(...fresh);
        // A teacher that keeps repeating itself has nothing new to offer.
        empty = fresh.length === 0 ? empty + 1 : 0;
        continue;
      }
      const [textId] = pool.splice(nextInt(ctx.prng, pool.length), 1);
      const candidate: Candidate = withComponent(baseline, settings.component, textId!);
      const score = meanOf(yield* ctx.evaluate(candidate, trainIds, 'random candidate on train'));
      if (score > bestScore) {
        bestScore = score;
        ctx.incumbent(candidate, score);
      }
    }
  };
}
