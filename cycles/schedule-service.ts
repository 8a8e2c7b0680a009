import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { CycleInput, type CycleInputArg } from '../schemas/cycle-input.js';
import { cycleWorkflow } from '../workflows/cycle-workflow.js';
import { FlywheelAgent, FlywheelOutcome, FlywheelStage } from '../workflows/search-attributes.js';
import { scheduleId, scheduledCyclePrefix } from '../workflows/workflow-ids.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';

export interface ScheduleSpecInput {
  agent: string;
  cron: string;
  timezone?: string;
  taskQueue: string;
  input?: Omit<CycleInputArg, 'agent'>;
}

function options(
  spec: ScheduleSpecInput,
): ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof cycleWorkflow>> {
  const parsed = CycleInput.safeParse({ ...spec.input, agent: spec.agent });
  if (!parsed.success) throw new UserError(`Invalid cycle input for the schedule: ${parsed.error.message}`);
  if (spec.cron.trim().split(/\s+/).length !== 5 && !spec.cron.startsWith('@')) {
    throw new UserError(
      `"${spec.cron}" is not a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. '0 9 * * MON'.`,
    );
  }
  return {
    scheduleId: scheduleId(spec.agent),
    spec: { cronExpressions: [spec.cron], ...(spec.timezone ? { timezone: spec.timezone } : {}) },
    action: {
      type: 'startWorkflow',
      workflowType: cycleWorkflow,
      args: [parsed.data],
      taskQueue: spec.taskQueue,
      // The server appends the scheduled time, so every weekly cycle has its own ID.
      workflowId: scheduledCyclePrefix(spec.agent),
      staticSummary: `Weekly improvement cycle for ${spec.agent}`,
      typedSearchAttributes: [
        { key: FlywheelAgent, value: spec.agent },
        { key: FlywheelStage, value: 'starting' },
        { key: FlywheelOutcome, value: 'in_progress' },
      ],
    },
    // Never two cycles of one agent at once; a missed week is not worth a late catch-up.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  };
}

/** Idempotent: creates the schedule, or updates it in place (keeping its paused state). */
export async function upsertSchedule(
  client: Client,
  spec: ScheduleSpecInput,
): Promise<{ scheduleId: string; created: boolean }> {
  const opts = options(spec);
  try {
    await client.schedule.create(opts);
    return { scheduleId: opts.scheduleId, created: true };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule
      .getHandle(opts.scheduleId)
      .update((previous) => ({ ...previous, spec: opts.spec, action: opts.action, policies: opts.policies }));
    return { scheduleId: opts.scheduleId, created: false };
  }
}

async function withSchedule<T>(
  client: Client,
  agent: string,
  fn: (h: ReturnType<Client['schedule']['getHandle']>) => Promise<T>,
): Promise<T> {
  try {
    return await fn(client.schedule.getHandle(scheduleId(agent)));
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) {
      throw new NotFoundError(
        `Agent ${agent} has no schedule. Create one with: flywheel schedule create --agent ${agent} --cron '0 9 * * MON'`,
      );
    }
    throw error;
  }
}

export const pauseSchedule = (client: Client, agent: string, note?: string) =>
  withSchedule(client, agent, (h) => h.pause(note));
export const unpauseSchedule = (client: Client, agent: string, note?: string) =>
  withSchedule(client, agent, (h) => h.unpause(note));
export const deleteSchedule = (client: Client, agent: string) =>
  withSchedule(client, agent, (h) => h.delete());
/** trigger() defaults to ALLOW_ALL; SKIP keeps "run now" from overlapping a running cycle. */
export const triggerSchedule = (client: Client, agent: string) =>
  withSchedule(client, agent, (h) => h.trigger(ScheduleOverlapPolicy.SKIP));
export const describeSchedule = (client: Client, agent: string) =>
  withSchedule(client, agent, (h) => h.describe());

export async function listSchedules(
  client: Client,
): Promise<{ scheduleId: string; paused: boolean; cron: string[]; next: Date | undefined }[]> {
  const out = [];
  for await (const s of client.schedule.list()) {
    // Weekly cycles and the daily trace retention; other schedules of the namespace are not ours.
    if (!s.scheduleId.startsWith('flywheel-')) continue;
    out.push({
      scheduleId: s.scheduleId,
      paused: s.state.paused,
      cron: (s.spec?.calendars ?? []).map((c) => c.comment ?? JSON.stringify(c)),
      next: s.info.nextActionTimes[0],
    });
  }
  return out;
}
