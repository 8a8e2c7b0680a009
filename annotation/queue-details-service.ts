import { agreementReport, type AgreementReport, type Rating } from './inter-annotator-agreement.js';
import { queueLabels, queueProgress } from './store/annotation-reads.js';
import type { Db } from '../db/connection.js';
import { scoreConfigsByIds } from './store/score-config-repository.js';
import type { ScoreConfig } from '../schemas/score-config.js';
import { requireQueue } from './annotation-service.js';
import { suggestionUptake } from './suggestion-uptake.js';
import { labelsWithSuggestions } from './store/label-suggestion-repository.js';

export interface QueueAgreement {
  verdict: AgreementReport;
  /** Per score config name: nominal statistics for categories and booleans, interval α for numbers. */
  scores: Record<string, AgreementReport>;
}

/** Agreement between reviewers on the verdict and on each score config of the queue. */
export async function queueAgreement(
  db: Db,
  queueId: string,
  configs: ScoreConfig[],
): Promise<QueueAgreement> {
  const labels = await queueLabels(db, queueId);
  const verdict = agreementReport(
    labels.map((l) => ({ item: l.item_id, rater: l.reviewer, value: l.verdict })),
    'nominal',
  );
  const scores: Record<string, AgreementReport> = {};
  for (const config of configs) {
    const rated = labels.filter((l) => config.name in l.scores);
    if (config.dataType === 'NUMERIC') {
      const ratings: Rating<number>[] = rated
        .map((l) => ({ item: l.item_id, rater: l.reviewer, value: l.scores[config.name] }))
        .filter((r): r is Rating<number> => typeof r.value === 'number');
      scores[config.name] = agreementReport(ratings, 'interval');
    } else {
      scores[config.name] = agreementReport(
        rated.map((l) => ({ item: l.item_id, rater: l.reviewer, value: l.scores[config.name]! })),
        'nominal',
      );
    }
  }
  return { verdict, scores };
}

/** GET /api/queues/:id and `flywheel queue show`: the queue, progress per reviewer, agreement, configs. */
export async function queueDetails(db: Db, queueIdOrCycleId: string) {
  const queue = await requireQueue(db, queueIdOrCycleId);
  const scoreConfigs = await scoreConfigsByIds(db, queue.score_config_ids);
  const progress = await queueProgress(db, queue.id);
  if (!progress) throw new Error(`queue ${queue.id} vanished while it was read`);
  return {
    queue: {
      id: queue.id,
      agent: queue.agent_id,
      cycleId: queue.cycle_id,
      name: queue.name,
      status: queue.status,
      reviewersPerItem: queue.reviewers_per_item,
      quorum: queue.quorum,
      claimSeconds: queue.claim_seconds,
      createdAt: queue.created_at,
      completedAt: queue.completed_at,
      notifiedAt: queue.notified_at,
    },
    progress,
    agreement: await queueAgreement(db, queue.id, scoreConfigs),
    // How often labels equal the teacher's suggestion: a queue where nearly every label does
    // may be rubber-stamping it, and its examples are only as good as the teacher.
    suggestions: suggestionUptake(await labelsWithSuggestions(db, queue.id)),
    scoreConfigs,
  };
}
