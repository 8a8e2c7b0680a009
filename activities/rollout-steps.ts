import { sql } from 'kysely';
import { analyseStep, type AnalysisResult } from '../core/rollout-analysis.js';
import { moveLabel, versionById } from '../db/prompt-repository.js';
import type { RolloutAnalysis } from '../schemas/cycle-input.js';
import type { ActivityDeps } from './activity-deps.js';

export interface StartRolloutInput {
  rolloutId: string;
  cycleId: string;
  agent: string;
  decisionId: string;
  baselineVersionId: string;
  candidateVersionId: string;
}

/** A trace counts as failed on negative feedback or a failure/error outcome. */
const failed = sql<number>`count(*) filter (where feedback < 0 or outcome in ('failure', 'error'))::int`;

export function createRolloutActivities({ db }: ActivityDeps) {
  return {
    async startRollout(args: StartRolloutInput): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const existing = await tx
          .selectFrom('rollouts')
          .select('id')
          .where('id', '=', args.rolloutId)
          .executeTakeFirst();
        if (existing) return;
        // One live rollout per agent: an older one still running is superseded, not mixed in.
        await tx
          .updateTable('rollouts')
          .set({
            status: 'rolled_back',
            weight: 0,
            reason: `superseded by ${args.rolloutId}`,
            ended_at: new Date(),
          })
          .where('agent_id', '=', args.agent)
          .where('status', '=', 'running')
          .execute();
        await tx
          .insertInto('rollouts')
          .values({
            id: args.rolloutId,
            cycle_id: args.cycleId,
            agent_id: args.agent,
            release_decision_id: args.decisionId,
            baseline_version_id: args.baselineVersionId,
            candidate_version_id: args.candidateVersionId,
            weight: 0,
            status: 'running',
          })
          .execute();
      });
    },

    /** Returns the database time the weight took effect: analysis counts traffic from then on. */
    async setRolloutWeight(args: { rolloutId: string; weight: number }): Promise<{ since: string }> {
      const row = await db
        .updateTable('rollouts')
        .set({ weight: args.weight })
        .where('id', '=', args.rolloutId)
        .where('status', '=', 'running')
        .returning(sql<Date>`now()`.as('now'))
        .executeTakeFirstOrThrow();
      return { since: new Date(row.now).toISOString() };
    },

    async analyseRolloutStep(args: {
      rolloutId: string;
      stepIndex: number;
      round: number;
      weight: number;
      since: string;
      analysis: RolloutAnalysis;
    }): Promise<AnalysisResult & { candidateSamples: number; baselineSamples: number }> {
      const rollout = await db
        .selectFrom('rollouts')
        .selectAll()
        .where('id', '=', args.rolloutId)
        .executeTakeFirstOrThrow();
      const [candidate, baseline] = await Promise.all([
        versionById(db, rollout.candidate_version_id),
        versionById(db, rollout.baseline_version_id),
      ]);
      const metrics = async (version: number, since: Date) => {
        const row = await db
          .selectFrom('traces')
          .select([sql<number>`count(*)::int`.as('samples'), failed.as('failures')])
          .where('agent_id', '=', rollout.agent_id)
          .where('prompt_version', '=', version)
          .where('ingested_at', '>=', since)
          .executeTakeFirstOrThrow();
        return { samples: row.samples, failures: row.failures };
      };
      // The candidate is judged on traffic since this step began; the baseline on all of
      // the rollout's traffic, so it still has a reference when the candidate serves 100%.
      const c = await metrics(candidate.version, new Date(args.since));
      const b = await metrics(baseline.version, new Date(rollout.started_at));
      const result = analyseStep(c, b, args.analysis);
      await db
        .insertInto('rollout_steps')
        .values({
          rollout_id: args.rolloutId,
          step_index: args.stepIndex,
          round: args.round,
          weight: args.weight,
          verdict: result.verdict,
          metrics: JSON.stringify({ candidate: c, baseline: b, ...result }),
        })
        .onConflict((oc) => oc.columns(['rollout_id', 'step_index', 'round']).doNothing())
        .execute();
      return { ...result, candidateSamples: c.samples, baselineSamples: b.samples };
    },

    /**
     * Completion moves `production` to the candidate; rollback sets the weight to 0 and
     * leaves `production` on the baseline. Either way the `candidate` label is cleared.
     */
    async finishRollout(args: {
      rolloutId: string;
      status: 'completed' | 'rolled_back';
      reason: string;
    }): Promise<void> {
      const rollout = await db
        .selectFrom('rollouts')
        .selectAll()
        .where('id', '=', args.rolloutId)
        .executeTakeFirstOrThrow();
      if (args.status === 'completed') {
        await moveLabel(
          db,
          rollout.agent_id,
          'production',
          rollout.candidate_version_id,
          'flywheel',
          `rollout ${rollout.id} completed`,
        );
      } else {
        await moveLabel(
          db,
          rollout.agent_id,
          'production',
          rollout.baseline_version_id,
          'flywheel',
          `rollout ${rollout.id} rolled back: ${args.reason}`,
        );
      }
      await moveLabel(
        db,
        rollout.agent_id,
        'candidate',
        null,
        'flywheel',
        `rollout ${rollout.id} ${args.status}`,
      );
      await db
        .updateTable('rollouts')
        .set({
          status: args.status,
          weight: args.status === 'completed' ? 100 : 0,
          reason: args.reason,
          ended_at: new Date(),
        })
        .where('id', '=', args.rolloutId)
        .where('status', '=', 'running')
        .execute();
    },
  };
}
