import { condition, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AnnotationPolicy } from '../schemas/annotation-policy.js';
import type { CycleInput } from '../schemas/cycle-input.js';
import type { CycleStatus } from '../schemas/cycle-status.js';

type ReviewerNotice =
  'annotation_requested' | 'annotation_reminder' | 'annotation_escalation' | 'annotation_deadline';

export interface ReviewerWait {
  cycleId: string;
  input: Pick<
    CycleInput,
    'agent' | 'annotationDeadlineSeconds' | 'annotationEscalationSeconds' | 'annotationReminderSeconds'
  >;
  policy: AnnotationPolicy | undefined;
  /** Reminder and escalation counts are written here for the status query. */
  annotation: NonNullable<CycleStatus['annotation']>;
  /** Set by the annotations signal once the queue reaches its quorum. */
  quorum: () => boolean;
  activities: ActivityInterfaceFor<Pick<Activities, 'notifyCycle'>>;
  /** Called after each reminder round, so the Temporal UI shows the counts. */
  showProgress: () => void;
}

/**
 * Waits for the queue's quorum (one signal from the API), reminding reviewers with open
 * items every reminder interval and escalating once; at the deadline the agent's policy
 * decides between the judge's labels and stopping the cycle. Timers are workflow time, so
 * a worker restart neither loses nor repeats a reminder.
 */
export async function waitForReviewers(w: ReviewerWait): Promise<'quorum' | 'deadline' | 'stopped'> {
  const { input, annotation } = w;
  // Offsets from the start of the wait. A condition that times out has waited exactly its
  // timeout, so elapsed time is the sum of the timeouts: no clock reading needed.
  const deadline = input.annotationDeadlineSeconds * 1000;
  const escalateAt = input.annotationEscalationSeconds * 1000;
  let nextReminder = input.annotationReminderSeconds * 1000;
  let elapsed = 0;
  annotation.reminders = 0;
  annotation.escalated = false;
  const notify = (notice: ReviewerNotice, detail?: string) =>
    w.activities.notifyCycle.executeWithOptions({ summary: notice.replace('annotation_', 'reviewers: ') }, [
      {
        cycleId: w.cycleId,
        agent: input.agent,
        notice,
        ...(notice === 'annotation_escalation' ? { escalateTo: w.policy?.escalateTo ?? [] } : {}),
        ...(detail ? { detail } : {}),
      },
    ]);
  await notify('annotation_requested');
  for (;;) {
    const next = Math.min(deadline, nextReminder, annotation.escalated ? Infinity : escalateAt);
    const quorum = await condition(w.quorum, Math.max(1, next - elapsed), {
      summary: `wait for the review quorum (deadline ${input.annotationDeadlineSeconds}s)`,
    });
    if (quorum) return 'quorum';
    elapsed = Math.max(elapsed + 1, next);
    if (elapsed >= deadline) {
      const stop = w.policy?.onDeadline === 'stop_cycle';
      await notify(
        'annotation_deadline',
        stop ? 'The agent policy stops the cycle.' : 'Proceeding on the judge labels.',
      );
      return stop ? 'stopped' : 'deadline';
    }
    if (!annotation.escalated && elapsed >= escalateAt) {
      annotation.escalated = true;
      await notify('annotation_escalation');
    }
    if (elapsed >= nextReminder) {
      annotation.reminders++;
      nextReminder += input.annotationReminderSeconds * 1000;
      await notify('annotation_reminder');
    }
    w.showProgress();
  }
}
