import { slackMessage, type SlackMessage } from '../notify/slack-message.js';

export interface LabelMove {
  auditId: string;
  action: 'prompt.label.move' | 'prompt.label.rollback';
  /** The prompt's name and the agent that owns it. */
  name: string;
  agent: string;
  label: string;
  from: { id: string; version: number } | null;
  to: { id: string; version: number } | null;
  actor: string;
  reason: string;
  at: string;
}

const describe = (v: LabelMove['from']) => (v ? `v${v.version}` : 'nothing');

/** The chat notice of a label move: who moved which label of which prompt, from where to where, and why. */
export function labelMoveMessage(move: LabelMove): SlackMessage {
  const verb = move.action === 'prompt.label.rollback' ? 'rolled back' : move.to ? 'moved' : 'removed';
  return slackMessage({
    event: 'prompt_label_moved',
    title: `${move.name}: label "${move.label}" ${verb} ${describe(move.from)} → ${describe(move.to)}`,
    lines: [`by ${move.actor}`, ...(move.reason ? [`why: ${move.reason}`] : [])],
    context: `agent ${move.agent} · audit #${move.auditId} · ${move.at}`,
    data: { ...move },
  });
}
