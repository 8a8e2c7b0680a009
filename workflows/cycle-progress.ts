import { setCurrentDetails, upsertSearchAttributes, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { CycleStage } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';
import { renderCycleDetails } from './cycle-details.js';
import { FlywheelAgent, FlywheelOutcome, FlywheelStage } from './search-attributes.js';

/**
 * A cycle's stage bookkeeping, kept in three places that must agree: the search attributes
 * (so the Temporal UI can filter by stage), the cycles row (stage timings from the database
 * clock), and the status the query returns, rendered as the workflow's current details.
 */
export class CycleProgress {
  constructor(
    readonly status: CycleStatus,
    private readonly activities: ActivityInterfaceFor<Pick<Activities, 'updateCycleStage'>>,
  ) {}

  async enter(stage: CycleStage, summary?: string): Promise<void> {
    const { status } = this;
    status.stage = stage;
    upsertSearchAttributes([
      { key: FlywheelAgent, value: status.agent },
      { key: FlywheelStage, value: stage },
      { key: FlywheelOutcome, value: status.outcome },
    ]);
    const { at } = await this.activities.updateCycleStage.executeWithOptions(
      { summary: `stage → ${stage}` },
      [{ cycleId: status.cycleId, stage, outcome: status.outcome }],
    );
    status.stages.push({ stage, startedAt: at, ...(summary ? { summary } : {}) });
    this.show();
  }

  /** Refreshes the Temporal UI's current details from the status. */
  show(): void {
    setCurrentDetails(renderCycleDetails(this.status));
  }
}
