import { slackMessage, type SlackMessage } from '../notify/slack-message.js';

/** One audited change of a versioned artifact: a configuration change, a new rubric, a rollback. */
export interface ArtifactChange {
  auditId: string;
  /** e.g. `policy.rollback`, `config.change`, `rubric.set`, `dataset.rollback`. */
  action: string;
  agent: string;
  /** What changed, e.g. `policy sampling`, `rubric task_completion`, `dataset`. */
  artifact: string;
  from: number | null;
  to: number | null;
  actor: string;
  reason: string;
  at: string;
  /** Anything else worth showing (the new configuration version, the sections changed). */
  detail?: Record<string, unknown>;
}

const describe = (v: number | null) => (v === null ? 'nothing' : `v${v}`);

/** The chat notice of an artifact change: who changed what, from which version to which, and why. */
export function artifactChangeMessage(change: ArtifactChange): SlackMessage {
  const verb = change.action.endsWith('.rollback') ? 'rolled back' : 'changed';
  return slackMessage({
    event: 'artifact_changed',
    title: `${change.agent}: ${change.artifact} ${verb} ${describe(change.from)} → ${describe(change.to)}`,
    lines: [`by ${change.actor}`, ...(change.reason ? [`why: ${change.reason}`] : [])],
    context: `${change.action} · audit #${change.auditId} · ${change.at}`,
    data: { ...change },
  });
}
