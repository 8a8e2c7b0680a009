import type { z } from 'zod';
import type { GepaSettings as Settings } from '../schemas/optimizer-config.js';
type GepaSettings = z.infer<typeof Settings>;
import { frontFrequencies, instanceFronts, nonDominatedPrograms } from './pareto.js';
import { paretoSubsample } from './pareto-subsample.js';
import { nextFloat, nextInt } from './prng.js';
import {
  candidateIdOf,
  meanOf,
  shuffled,
  withComponent,
  type Candidate,
  type Optimizer,
  type SearchContext,
} from './prompt-search.js';

/**
 * GEPA (Agrawal et al. 2025, gepa-ai/gepa `core/engine.py`): a pool of programs scored
 * per instance on a Pareto set; each iteration samples a parent from the Pareto fronts,
 * runs it on a small feedback minibatch, asks the teacher to reflect on the traces and
 * rewrite one component, and accepts the child only if it strictly beats the parent on
 * the same minibatch — then scores it on the whole Pareto set. Optional merge combines
 * two descendants of a common ancestor component by component.
 */

interface Program {
  candidate: Candidate;
  /** candidateIdOf(candidate), computed once: lookups ran it for every program on every iteration. */
  id: string;
  parents: number[];
  scores: number[];
  aggregate: number;
  /** Mean over the whole train split, once a tie for the best aggregate made it worth paying for. */
  trainMean?: number;
  /**
   * Left out of selection for good: it was dominated when the Pareto set grew, so it was not
   * scored on the examples added then (`growParetoSet`).
   */
  retired?: true;
}

/**
 * Feedback and Pareto sets. Reflection minibatches come from the whole train split; the
 * Pareto set is a fixed-size, seeded, stratified subsample of it (upstream's separate
 * valset), or the whole split when `paretoSetSize` is null (upstream's valset = trainset).
 * The two overlap on purpose: a rule whose only examples sit in the Pareto set can still be
 * reflected on, and scores already paid for are reused.
 */
export function splitForGepa(
  ctx: SearchContext,
  paretoSetSize: number | null,
): { feedback: string[]; pareto: string[] } {
  const { trainIds, seed, strata } = ctx.setup;
  return {
    feedback: shuffled(ctx.prng, trainIds),
    pareto: paretoSubsample(trainIds, paretoSetSize, seed, strata),
  };
}

export function gepa(settings: GepaSettings): Optimizer {
  return function* (ctx) {
    const { baseline } = ctx.setup;
    const { feedback, pareto } = splitForGepa(ctx, settings.paretoSetSize);
    const mb = Math.min(settings.reflectionMinibatchSize, feedback.length);
    // gepa#375: each proposal costs two minibatches plus a full Pareto-set evaluation.
    const oneProposal = pareto.length + 2 * mb + pareto.length;
    if (ctx.setup.budget.maxRollouts < oneProposal) {
      ctx.warn(
        `GEPA: a budget of ${ctx.setup.budget.maxRollouts} rollouts cannot buy one accepted proposal ` +
          `(${oneProposal} = Pareto set ${pareto.length} + 2 × minibatch ${mb} + Pareto set); raise maxRollouts or lower paretoSetSize`,
      );
    }
    const components = settings.components.length ? settings.components : Object.keys(baseline).sort();
    const programs: Program[] = [];
    const inPareto = new Set(pareto);
    const restOfTrain = () => ctx.setup.trainIds.filter((id) => !inPareto.has(id));
    // Checkpoints recorded before a setting existed lack it and replay without it.
    const breakTies = settings.breakTiesOnTrain === true && restOfTrain().length > 0;
    const grows = settings.growParetoSet === true;
    /** The incumbent: the best Pareto-set mean, ties at a perfect score broken on the rest of the train split. */
    const pickIncumbent = function* () {
      const best = bestLive(programs);
      const top = programs[best]!.aggregate;
      // Only a saturated Pareto set is blind: below perfect, the search itself moves on.
      const tied = programs.filter((p) => !p.retired && p.aggregate === top);
      if (breakTies && tied.length > 1 && top >= settings.perfectScore) {
        const rest = restOfTrain();
        for (const p of tied) {
          if (p.trainMean !== undefined) continue;
          const more = yield* ctx.evaluate(
            p.candidate,
            rest,
            'tie for the best: the rest of the train split',
          );
          p.trainMean = (sum(p.scores) + sum(more)) / (p.scores.length + more.length);
        }
        const bestMean = Math.max(...tied.map((p) => p.trainMean!));
        const pick = preferred(tied.filter((p) => p.trainMean === bestMean));
        ctx.incumbent(pick.candidate, pick.trainMean!);
        return;
      }
      const pick = preferred(tied);
      ctx.incumbent(pick.candidate, pick.aggregate);
    };
    const tieBreak = settings.tieBreak ?? 'earliest';
    /** Of programs tied for the best (in pool order), the one `tieBreak` prefers; the earliest among equals. */
    const preferred = (tied: Program[]): Program => {
      if (tieBreak === 'earliest' || tied.length === 1) return tied[0]!;
      let key: (p: Program) => number;
      if (tieBreak === 'fewest_edits' || tieBreak === 'most_edits') {
        const sign = tieBreak === 'most_edits' ? 1 : -1;
        key = (p) => sign * ancestors(programs, programs.indexOf(p)).size;
      } else {
        const live = programs.filter((p) => !p.retired);
        const top = pareto.map((_, k) => Math.max(...live.map((p) => p.scores[k] ?? -Infinity)));
        key = (p) => top.filter((t, k) => p.scores[k] === t).length;
      }
      return tied.reduce((b, p) => (key(p) > key(b) ? p : b));
    };
    const scoreProgram = function* (candidate: Candidate, parents: number[]) {
      const scores = yield* ctx.evaluate(candidate, pareto, 'full Pareto-set evaluation');
      programs.push({ candidate, id: candidateIdOf(candidate), parents, scores, aggregate: meanOf(scores) });
    };
    const addProgram = function* (candidate: Candidate, parents: number[]) {
      yield* scoreProgram(candidate, parents);
      yield* pickIncumbent();
    };
    /**
     * `growParetoSet`: a child accepted on its minibatch that does no better than its parent
     * on the Pareto set shows that the set misses what the child fixed (a subsample can lack
     * a failure mode). The child then ties its parent, is dropped as dominated and never
     * built on, and the parent's reflections keep proposing the same fix. So the minibatch
     * examples on which the child beat its parent join the set; the programs still in the
     * running (and the child) are scored on them, and the dominated ones retire.
     */
    const growPareto = function* (examples: string[], keep: number) {
      const { survivors } = paretoSelection(programs, pareto.length);
      const alive = new Set([...survivors, keep]);
      programs.forEach((p, i) => {
        if (!alive.has(i)) p.retired = true;
      });
      for (const i of [...alive].sort((x, y) => x - y)) {
        const p = programs[i]!;
        const more = yield* ctx.evaluate(
          p.candidate,
          examples,
          'Pareto set grows: the programs in the running',
        );
        p.scores = [...p.scores, ...more];
        p.aggregate = meanOf(p.scores);
      }
      for (const e of examples) {
        pareto.push(e);
        inPareto.add(e);
      }
    };
    yield* addProgram(baseline, []);

    const tried = new Set<string>(); // gepa#379: never re-evaluate a rejected mutation
    /**
     * `avoidRepeatedReflections`: per parent and component, the failing examples on which a
     * reflection answered with the parent's own text or with a program already in the pool:
     * their fix has been found (or the teacher sees nothing to change). In the simulator every
     * repeated proposal came from a parent reflected on again, most of them re-proposing a
     * child already accepted. A minibatch whose failures are all among them is not reflected on.
     */
    const avoidRepeats = settings.avoidRepeatedReflections === true;
    const repeatedOn = new Map<string, Set<string>>();
    /**
     * `showTriedReflections`: per parent and component, the rewrites proposed from it and
     * rejected; the latest ones are shown in the reflection so the teacher writes another.
     */
    const showTried = settings.showTriedReflections ?? 0;
    /**
     * `avoidListedRepeats`: a reflection that answers with a rewrite it was shown as already
     * rejected counts as a repeat for `avoidRepeatedReflections` too. With mislabelled or
     * otherwise unfixable failures the teacher had nothing else to write.
     */
    const avoidListed = settings.avoidListedRepeats === true;
    const rejectedOf = new Map<string, string[]>();
    const rejected = (key: string, textId: string) => {
      const list = rejectedOf.get(key) ?? [];
      if (!list.includes(textId)) rejectedOf.set(key, [...list, textId]);
    };
    const moduleCursor = new Map<number, number>();
    let epoch: string[] = [];
    const nextMinibatch = () => {
      if (epoch.length < mb) epoch = [...epoch, ...shuffled(ctx.prng, feedback)];
      return epoch.splice(0, mb);
    };
    let mergesDue = 0;
    let mergesDone = 0;
    let lastFoundNew = false;
    const triedMerges = new Set<string>();

    // Iterations that spend nothing (perfect minibatches, repeated proposals) cannot go on forever.
    let idle = 0;
    let spent = -1;
    for (;;) {
      const now = ctx.rolloutsUsed;
      idle = now === spent ? idle + 1 : 0;
      spent = now;
      if (idle >= 200) return;
      if (settings.useMerge && mergesDue > 0 && lastFoundNew && mergesDone < settings.maxMergeInvocations) {
        lastFoundNew = false;
        const merged = yield* tryMerge(ctx, programs, pareto, settings, triedMerges);
        if (merged) {
          mergesDue--;
          mergesDone++;
          yield* addProgram(merged.candidate, merged.parents);
          continue;
        }
      }
      lastFoundNew = false;
      const k = selectCandidate(ctx, programs, settings, pareto.length);
      const parent = programs[k]!;
      const batch = nextMinibatch();
      const before = yield* ctx.evaluate(parent.candidate, batch, 'reflection minibatch (parent)');
      if (settings.skipPerfectScore && before.every((s) => s >= settings.perfectScore)) continue;
      const cursor = moduleCursor.get(k) ?? 0;
      const component = components[cursor % components.length]!;
      moduleCursor.set(k, cursor + 1);
      const key = `${k}|${component}`;
      const failed = avoidRepeats ? batch.filter((_, i) => before[i]! < settings.perfectScore) : [];
      const exhausted = repeatedOn.get(key);
      if (exhausted && failed.length > 0 && failed.every((e) => exhausted.has(e))) continue;
      const repeated = () => {
        if (!avoidRepeats) return;
        repeatedOn.set(key, new Set([...(repeatedOn.get(key) ?? []), ...failed]));
      };
      const triedIds = showTried > 0 ? (rejectedOf.get(key) ?? []).slice(-showTried) : [];
      const [textId] = yield* ctx.teach({
        type: 'reflect',
        candidate: parent.candidate,
        component,
        evidence: { candidate: parent.candidate, exampleIds: batch },
        ...(triedIds.length > 0 ? { triedIds } : {}),
      });
      if (!textId || textId === parent.candidate[component]) {
        repeated();
        continue;
      }
      const child = withComponent(parent.candidate, component, textId);
      const childId = candidateIdOf(child);
      if (programs.some((p) => p.id === childId)) {
        repeated();
        continue;
      }
      // A rejected text proposed again costs a teacher call too, but the failures may still
      // get their fix from another sample: no memory of them.
      if (tried.has(childId)) {
        // Shown as already tried and written again all the same: no better answer is coming.
        if (avoidListed && triedIds.includes(textId)) repeated();
        rejected(key, textId);
        continue;
      }
      tried.add(childId);
      const after = yield* ctx.evaluate(child, batch, 'reflection minibatch (child)');
      if (sum(after) <= sum(before)) {
        rejected(key, textId);
        continue; // strict-improvement acceptance
      }
      if (grows) {
        yield* scoreProgram(child, [k]);
        const c = programs.length - 1;
        const gained = [...new Set(batch.filter((e, i) => after[i]! > before[i]! && !inPareto.has(e)))];
        if (gained.length > 0 && programs[c]!.aggregate <= parent.aggregate) yield* growPareto(gained, c);
        yield* pickIncumbent();
      } else yield* addProgram(child, [k]);
      lastFoundNew = true;
      if (settings.useMerge && mergesDone + mergesDue < settings.maxMergeInvocations) mergesDue++;
    }
  };
}

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

/**
 * The Pareto selection's fronts, survivors and frequencies depend only on the programs,
 * which are only ever appended (their scores never change), so they are computed once per
 * program count. Recomputing them on every iteration, including the many that spend
 * nothing, made replaying a 2,663-step checkpoint take 1.5 s, beyond the workflow sandbox's
 * limit on a loaded machine.
 */
const selectionCache = new WeakMap<
  Program[],
  { count: number; size: number; survivors: number[]; freq: Map<number, number>; total: number }
>();

/** Per-instance fronts over the programs not retired, as indices into `programs`. */
function liveFronts(programs: Program[]): number[][] {
  const live = programs.flatMap((p, i) => (p.retired ? [] : [i]));
  return instanceFronts(live.map((i) => programs[i]!.scores)).map((f) => f.map((j) => live[j]!));
}

/** Index of the earliest program with the best aggregate among those not retired. */
function bestLive(programs: Program[]): number {
  let best = -1;
  programs.forEach((p, i) => {
    if (!p.retired && (best < 0 || p.aggregate > programs[best]!.aggregate)) best = i;
  });
  return best;
}

function paretoSelection(programs: Program[], size: number) {
  const cached = selectionCache.get(programs);
  if (cached?.count === programs.length && cached.size === size) return cached;
  const fronts = liveFronts(programs);
  const survivors = nonDominatedPrograms(
    fronts,
    programs.map((p) => p.aggregate),
  );
  const freq = frontFrequencies(fronts, survivors);
  const total = [...freq.values()].reduce((s, x) => s + x, 0);
  const entry = { count: programs.length, size, survivors, freq, total };
  selectionCache.set(programs, entry);
  return entry;
}

function selectCandidate(
  ctx: SearchContext,
  programs: Program[],
  settings: GepaSettings,
  paretoSize: number,
): number {
  const bestIndex = bestLive(programs);
  if (settings.candidateSelection === 'current_best') return bestIndex;
  if (settings.candidateSelection === 'epsilon_greedy') {
    if (nextFloat(ctx.prng) >= settings.epsilon) return bestIndex;
    const live = programs.flatMap((p, i) => (p.retired ? [] : [i]));
    return live[nextInt(ctx.prng, live.length)]!;
  }
  const { survivors, freq, total } = paretoSelection(programs, paretoSize);
  let u = nextFloat(ctx.prng) * total;
  for (const [p, f] of freq) {
    if ((u -= f) < 0) return p;
  }
  return survivors[survivors.length - 1] ?? bestIndex;
}

function ancestors(programs: Program[], i: number): Set<number> {
  const out = new Set<number>();
  const stack = [...programs[i]!.parents];
  while (stack.length) {
    const a = stack.pop()!;
    if (!out.has(a)) {
      out.add(a);
      stack.push(...programs[a]!.parents);
    }
  }
  return out;
}

/**
 * System-aware merge (`proposer/merge.py`): two Pareto programs, neither an ancestor of the
 * other, with a common ancestor no better than either; per component take the descendant's
 * text where only one changed it, the stronger descendant's where both did. Accepted when
 * it matches the better parent on a stratified sample of the Pareto set.
 */
function* tryMerge(
  ctx: SearchContext,
  programs: Program[],
  pareto: string[],
  settings: GepaSettings,
  triedMerges: Set<string>,
) {
  const fronts = liveFronts(programs);
  const survivors = nonDominatedPrograms(
    fronts,
    programs.map((p) => p.aggregate),
  );
  const pairs: [number, number, number][] = [];
  for (const i of survivors)
    for (const j of survivors) {
      if (j <= i) continue;
      const ai = ancestors(programs, i);
      const aj = ancestors(programs, j);
      if (ai.has(j) || aj.has(i)) continue;
      for (const a of [...ai].filter((x) => aj.has(x)).sort((x, y) => x - y)) {
        const anc = programs[a]!;
        if (anc.aggregate > programs[i]!.aggregate || anc.aggregate > programs[j]!.aggregate) continue;
        const names = Object.keys(anc.candidate);
        const changedI = names.filter((c) => programs[i]!.candidate[c] !== anc.candidate[c]);
        const changedJ = names.filter((c) => programs[j]!.candidate[c] !== anc.candidate[c]);
        const onlyOne = names.some((c) => changedI.includes(c) !== changedJ.includes(c));
        if (onlyOne && !triedMerges.has(`${i}|${j}|${a}`)) pairs.push([i, j, a]);
      }
    }
  if (pairs.length === 0) return null;
  const [i, j, a] = pairs[nextInt(ctx.prng, pairs.length)]!;
  triedMerges.add(`${i}|${j}|${a}`);
  const pi = programs[i]!;
  const pj = programs[j]!;
  const anc = programs[a]!;
  const merged: Record<string, string> = {};
  for (const c of Object.keys(anc.candidate)) {
    const ci = pi.candidate[c] !== anc.candidate[c];
    const cj = pj.candidate[c] !== anc.candidate[c];
    if (ci && !cj) merged[c] = pi.candidate[c]!;
    else if (cj && !ci) merged[c] = pj.candidate[c]!;
    else if (ci && cj) merged[c] = (pi.aggregate >= pj.aggregate ? pi : pj).candidate[c]!;
    else merged[c] = pi.candidate[c]!;
  }
  const id = candidateIdOf(merged);
  if (programs.some((p) => p.id === id)) return null;
  // Stratified subsample: instances where i wins, where j wins, and ties.
  const iWins = pareto.filter((_, k) => pi.scores[k]! > pj.scores[k]!);
  const jWins = pareto.filter((_, k) => pj.scores[k]! > pi.scores[k]!);
  const ties = pareto.filter((_, k) => pi.scores[k] === pj.scores[k]);
  const per = Math.ceil(settings.mergeValOverlapFloor / 3);
  const sample = [
    ...shuffled(ctx.prng, iWins).slice(0, per),
    ...shuffled(ctx.prng, jWins).slice(0, per),
    ...shuffled(ctx.prng, ties),
  ].slice(0, settings.mergeValOverlapFloor);
  const scores = yield* ctx.evaluate(merged, sample, 'merge subsample');
  const parentSum = (p: Program) => sample.reduce((s, e) => s + p.scores[pareto.indexOf(e)]!, 0);
  if (sum(scores) < Math.max(parentSum(pi), parentSum(pj))) return null;
  return { candidate: merged as Candidate, parents: [i, j] };
}
