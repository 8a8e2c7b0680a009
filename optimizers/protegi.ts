import type { z } from 'zod';
import type { ProtegiSettings as Settings } from '../schemas/optimizer-config.js';
type ProtegiSettings = z.infer<typeof Settings>;
import { raceArms } from './arm-race.js';
import { selectArms } from './bandits.js';
import {
  candidateIdOf,
  meanOf,
  sampleWithoutReplacement,
  withComponent,
  type Candidate,
  type Optimizer,
} from './prompt-search.js';

/**
 * ProTeGi (Pryzant et al. 2023, LMOps `prompt_optimization`): beam search over prompts
 * where each expansion turns minibatch errors into textual "gradients" (critiques), applies
 * each with an edit, widens the set with Monte-Carlo paraphrases, and a best-arm bandit
 * decides which successors survive into the beam.
 */

/**
 * LMOps `main.py` defaults, except selection: a race on shared examples (`selection`) rather
 * than brute force (`bf`); settings recorded before `selection` existed select with the
 * bandit, as they ran.
 */

export function protegi(settings: ProtegiSettings): Optimizer {
  return function* (ctx) {
    const { baseline, trainIds } = ctx.setup;
    const component = settings.component;
    const incumbent = { score: meanOf(yield* ctx.evaluate(baseline, trainIds, 'baseline on train')) };
    ctx.incumbent(baseline, incumbent.score);
    const race = settings.selection === 'race';
    let beam: Candidate[] = [baseline];
    for (let round = 1; round <= settings.rounds; round++) {
      // Expand every beam member.
      const successors: Candidate[] = [];
      for (const parent of beam) {
        const minibatch = sampleWithoutReplacement(ctx.prng, trainIds, settings.minibatchSize);
        const scores = yield* ctx.evaluate(parent, minibatch, 'minibatch for errors');
        const errors = minibatch.filter((_, i) => scores[i]! < settings.errorThreshold);
        if (errors.length === 0) continue;
        const sections: string[] = [];
        for (let g = 0; g < settings.nGradients; g++) {
          const shown = sampleWithoutReplacement(ctx.prng, errors, settings.errorsPerGradient);
          const evidence = { candidate: parent, exampleIds: shown };
          const critiques = yield* ctx.teach({
            type: 'critique',
            candidate: parent,
            component,
            evidence,
            count: settings.gradientsPerError,
          });
          for (const critiqueId of critiques) {
            sections.push(
              ...(yield* ctx.teach({
                type: 'edit',
                candidate: parent,
                component,
                evidence,
                critiqueId,
                count: settings.stepsPerGradient,
              })),
            );
          }
        }
        const paraphrases: string[] = [];
        for (const textId of [...sections, parent[component]!]) {
          if (settings.mcSamplesPerStep > 0) {
            paraphrases.push(
              ...(yield* ctx.teach({ type: 'paraphrase', textId, count: settings.mcSamplesPerStep })),
            );
          }
        }
        let texts = [...new Set([...sections, ...paraphrases])].filter((t) => t !== parent[component]);
        if (texts.length > settings.maxExpansionFactor) {
          texts = sampleWithoutReplacement(ctx.prng, texts, settings.maxExpansionFactor);
        }
        successors.push(...texts.map((t) => withComponent(parent, component, t)));
      }
      const arms = dedupe([...beam, ...successors]);
      if (arms.length === beam.length) break; // no member had errors left to learn from
      if (race) {
        const ranked = yield* raceArms(ctx, arms, settings.beamSize, settings.raceFirstExamples, incumbent);
        beam = ranked.slice(0, settings.beamSize).map((r) => arms[r.index]!);
        continue;
      }
      const estimates = yield* selectArms(ctx, arms, settings.beamSize, settings.bandit);
      const ranked = arms.map((c, i) => ({ c, s: estimates[i]!, i })).sort((a, b) => b.s - a.s || a.i - b.i);
      beam = ranked.slice(0, settings.beamSize).map((r) => r.c);
      ctx.incumbent(ranked[0]!.c, ranked[0]!.s);
    }
  };
}

function dedupe(candidates: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((c) => {
    const id = candidateIdOf(c);
    return !seen.has(id) && (seen.add(id), true);
  });
}
