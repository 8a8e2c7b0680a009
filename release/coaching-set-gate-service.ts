import type { ReplayCoaching } from '../coaching/coaching-replay-service.js';
import {
  attributeCoachingSet,
  scoreDelta,
  type RecalledExample,
  type SetAttribution,
} from '../coaching/coaching-set-attribution.js';
import type { CoachingSet } from '../schemas/coaching.js';
import { OUTCOME_DIMENSION } from '../schemas/gate-config.js';
import type { GateReport } from '../schemas/gate-report.js';
import type { GateDecisionInput } from './gate-decision.js';
import type { ExampleScores } from './gate-score-table.js';
import type { GateOutput } from './gate-scoring-service.js';
import type { Example } from './served-replay-service.js';

/**
 * A candidate coaching set at the gate, member by member, shared by a cycle's gate and
 * `flywheel eval --coaching candidates` so both decide alike (only the cycle retires).
 * 1. Each member is judged on the eval examples that recalled it, the candidate's score with
 *    the set against its score without it (coaching-set-attribution.ts).
 * 2. The examples that recalled a member left out are replayed with the rest of the set, and
 *    their outputs and scores replace the first ones: what is decided is what would ship.
 * 3. When only coaching changed, the decision's scope is the eval examples that recall a
 *    kept member: nothing else can differ between the arms.
 */

/** One split as the candidate's arm replayed it, with the coaching each conversation recalled. */
export interface ReplayedSplit {
  split: ExampleScores['split'];
  examples: readonly Example[];
  candidate: GateOutput[];
}

export interface SetGateInput {
  set: CoachingSet;
  /** The candidate's arm; outputs re-run without a left-out member are replaced in place. */
  replayed: ReplayedSplit[];
  /** The candidate's scores, replaced in place likewise. */
  candidate: ExampleScores[];
  /** Production's scores (the same prompt with the active coaching when only coaching changed). */
  baseline: readonly ExampleScores[];
  /** Whether the candidate's prompt differs from production's. */
  promptChanged: boolean;
  active: ReplayCoaching;
  /** The active coaching with only these candidates. */
  withMembers: (ids: readonly string[]) => Promise<ReplayCoaching>;
  /** The candidate's prompt replayed with `coaching` on `examples`, and judged. */
  run: (
    split: ExampleScores['split'],
    coaching: ReplayCoaching,
    examples: readonly Example[],
  ) => Promise<{ outputs: GateOutput[]; scores: ExampleScores[] }>;
  /** Score differences within it are noise (the gate's non-regression tolerance). */
  tolerance: number;
  /**
   * Recent conversations the agent answered well (the cycle's judge-passed sample): a member
   * recalled into one whose answer the judge then rejects misfires.
   */
  traffic?: readonly Example[];
  /** The active coaching with every candidate (what recalls the set into a conversation). */
  withCandidates?: ReplayCoaching;
}

export interface SetGateResult {
  attribution: SetAttribution;
  /** The decision's scope when only coaching changed and some member is kept; else absent. */
  scope?: NonNullable<GateDecisionInput['improvementScope']>;
}

const key = (split: string, id: string) => `${split}\u0000${id}`;

export async function gateCoachingSet(input: SetGateInput): Promise<SetGateResult> {
  const members = new Set(input.set.map((m) => m.id));
  const recalledBy = (o: GateOutput, ids: ReadonlySet<string>) =>
    (o.recalled ?? []).filter((id) => ids.has(id));

  // 1. Each member on the eval examples that recalled it.
  const evalRun = input.replayed.find((r) => r.split === 'eval');
  const touched = (evalRun?.candidate ?? []).flatMap((o) => {
    const mine = recalledBy(o, members);
    return mine.length ? [{ id: o.exampleId, members: mine }] : [];
  });
  // The candidate's prompt with the active coaching only, on those examples: kept, since it is
  // also what those examples become when every member is left out.
  const withoutRun =
    input.promptChanged && touched.length > 0 && evalRun
      ? await input.run(
          'eval',
          input.active,
          touched.map((t) => exampleOf(evalRun, t.id)),
        )
      : null;
  const without = withoutRun?.scores ?? input.baseline;
  const scoresOf = (xs: readonly ExampleScores[]) =>
    new Map(xs.filter((e) => e.split === 'eval').map((e) => [e.id, e.scores]));
  const withSet = scoresOf(input.candidate);
  const withoutSet = scoresOf(without);
  const recalled: RecalledExample[] = touched.map((t) => {
    const a = withSet.get(t.id);
    const b = withoutSet.get(t.id);
    if (!a || !b) throw new Error(`Gate example ${t.id} was replayed but not scored on both arms.`);
    return { ...t, split: 'eval', delta: scoreDelta(a, b) };
  });
  recalled.push(...(await misfires(input, members)));
  const attribution = attributeCoachingSet(input.set, recalled, input.tolerance);

  // 2. Without the members left out, where they were recalled.
  if (attribution.dropped.length > 0) {
    const left = new Set(attribution.dropped.map((m) => m.id));
    // Built on first use: when every split reuses the run without the set, it is never needed.
    let keptArm: ReplayCoaching | undefined;
    const keptCoaching = async () => (keptArm ??= await input.withMembers(attribution.kept.map((m) => m.id)));
    const at = new Map(input.candidate.map((e, i) => [key(e.split, e.id), i]));
    for (const r of input.replayed) {
      const again = r.candidate
        .filter((o) => recalledBy(o, left).length > 0)
        .map((o) => exampleOf(r, o.exampleId));
      if (again.length === 0) continue;
      const reused =
        attribution.kept.length === 0 && r.split === 'eval' && withoutRun
          ? subsetOf(withoutRun, again)
          : null;
      const rerun = reused ?? (await input.run(r.split, await keptCoaching(), again));
      for (const o of rerun.outputs)
        r.candidate[r.candidate.findIndex((x) => x.exampleId === o.exampleId)] = o;
      for (const e of rerun.scores) {
        const i = at.get(key(r.split, e.id));
        if (i === undefined)
          throw new Error(`Gate example ${e.id} was re-scored but has no score to replace.`);
        input.candidate[i] = e;
      }
    }
  }

  // 3. Where a kept member is recalled now, when nothing else changed.
  if (input.promptChanged || attribution.kept.length === 0) return { attribution };
  const kept = new Set(attribution.kept.map((m) => m.id));
  const ids = new Set(
    (evalRun?.candidate ?? []).filter((o) => recalledBy(o, kept).length > 0).map((o) => o.exampleId),
  );
  return { attribution, scope: { ids, what: 'recalled a member of the coaching set' } };
}

/** Of a run, the outputs and scores of `examples`; null unless it ran every one of them. */
function subsetOf(
  run: { outputs: GateOutput[]; scores: ExampleScores[] },
  examples: readonly Example[],
): { outputs: GateOutput[]; scores: ExampleScores[] } | null {
  const ids = new Set(examples.map((e) => e.id));
  const outputs = run.outputs.filter((o) => ids.has(o.exampleId));
  const scores = run.scores.filter((e) => ids.has(e.id));
  return outputs.length === ids.size && scores.length === ids.size ? { outputs, scores } : null;
}

function exampleOf(r: ReplayedSplit, id: string): Example {
  const example = r.examples.find((e) => e.id === id);
  if (!example) throw new Error(`Gate example ${id} is not among the ${r.split} examples replayed.`);
  return example;
}

/** The assertion a coaching set gated alone fails when every member of it was left out. */
export const COACHING_SET_KEPT = 'coaching_set_kept';

/**
 * The decision on a set gated alone whose every member was left out: what is left is
 * production itself, so it fails whatever the other assertions say (an unchanged candidate
 * would otherwise pass a gate that requires no improvement).
 */
export function emptiedSetReport(decided: GateReport, productionId: string): GateReport {
  return {
    ...decided,
    passed: false,
    verdict: 'fail',
    failingAssertion: COACHING_SET_KEPT,
    assertions: [
      {
        name: COACHING_SET_KEPT,
        passed: false,
        kind: COACHING_SET_KEPT,
        detail:
          'every member of the coaching set made more of the eval examples that recalled it worse than better, so ' +
          `all were left out; without them the candidate is production ${productionId} itself, so nothing is released`,
      },
      ...decided.assertions,
    ],
  };
}

/**
 * The set on recent passing conversations: those that recall a member are replayed with the
 * set and without it (the active coaching only) and judged. A member misfires where the judge
 * rejects the answer with the set but accepts the one without: it changed a good answer into
 * a bad one. Only the judge decides here, not a match with the step the agent took then: a
 * judge-passed conversation may hold a failure the judge missed, and a coaching that fixes it
 * changes that step for the better (bench:flywheel synthetic-12: matching the old step left
 * out 9 of 21 correct memories). Without a judge dimension, the step match decides. Only the
 * conversations that recall a member cost model calls.
 */
async function misfires(input: SetGateInput, members: ReadonlySet<string>): Promise<RecalledExample[]> {
  const { traffic, withCandidates } = input;
  if (!traffic?.length || !withCandidates) return [];
  const recalling: { example: Example; members: string[] }[] = [];
  for (const example of traffic) {
    const ids = (await withCandidates.recall(example.messages)).coaching
      .map((c) => c.id)
      .filter((id) => members.has(id));
    if (ids.length) recalling.push({ example, members: ids });
  }
  if (recalling.length === 0) return [];
  const examples = recalling.map((r) => r.example);
  const withSet = (await input.run('eval', withCandidates, examples)).scores;
  const without = (await input.run('eval', input.active, examples)).scores;
  const judged = (scores: Readonly<Record<string, number>>) => {
    const dims = Object.keys(scores).filter((d) => d !== OUTCOME_DIMENSION);
    return dims.length ? Object.fromEntries(dims.map((d) => [d, scores[d]!])) : scores;
  };
  return recalling.map((r, i) => ({
    id: r.example.id,
    split: 'traffic' as const,
    members: r.members,
    delta: scoreDelta(judged(withSet[i]!.scores), judged(without[i]!.scores)),
  }));
}
