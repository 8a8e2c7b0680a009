import type { Db } from '../db/connection.js';
import { announceLabelMove } from '../notify/label-move-notice.js';
import type { WebhookDelivery, WebhookSender } from '../notify/webhook-sender.js';
import type { LabelMove } from './label-move-message.js';
import * as labels from './store/prompt-labels.js';
import * as prompts from './store/prompt-repository.js';

/**
 * Label moves as the API, the CLI and activities make them: the store moves and audits the
 * label in one transaction, then, after the commit, the move is announced on the owning
 * agent's webhook. A failed announcement is reported in the answer, never an error.
 */

export interface LabelMoveOptions {
  /** Posts the announcement; absent: the real HTTP sender. */
  webhook?: WebhookSender;
  /** false: audit only, no webhook notice (the caller announces the change itself). */
  announce?: boolean;
}

export type LabelMoveResult = { move: LabelMove; delivery: WebhookDelivery & { url: string | null } } | null;

async function announced(
  db: Db,
  move: LabelMove | null,
  options: LabelMoveOptions,
): Promise<LabelMoveResult> {
  if (!move) return null;
  const delivery =
    options.announce === false
      ? { delivered: false, status: null, error: 'not announced', url: null }
      : await announceLabelMove(db, move, options.webhook);
  return { move, delivery };
}

/** Points a label at version number `version` of prompt `name`; audited and announced. */
export async function setLabel(
  db: Db,
  args: { name: string; label: string; version: number; actor: string; reason: string },
  options: LabelMoveOptions = {},
): Promise<LabelMoveResult> {
  return announced(db, await labels.setLabel(db, args), options);
}

/**
 * Points `label` at `versionId` (null removes it); audited and announced. `agent` names the
 * agent's own prompt, which is the prompt of `versionId` when one is given.
 */
export async function moveLabel(
  db: Db,
  agent: string,
  label: string,
  versionId: string | null,
  actor: string,
  why: string,
  options: LabelMoveOptions = {},
): Promise<LabelMoveResult> {
  return announced(db, await labels.moveLabel(db, agent, label, versionId, actor, why), options);
}

/** Moves a label back (see the store's `rollbackLabel`); audited and announced. */
export async function rollbackLabel(
  db: Db,
  args: { name: string; label?: string; to?: number; actor: string; reason: string },
  options: LabelMoveOptions = {},
): Promise<LabelMoveResult> {
  return announced(db, await labels.rollbackLabel(db, args), options);
}

/** Registers a new version; the labels it was given are announced after the commit, in order. */
export async function createVersion(
  db: Db,
  input: prompts.NewPromptVersion,
  options: LabelMoveOptions = {},
): ReturnType<typeof prompts.createVersion> {
  const result = await prompts.createVersion(db, input);
  if (options.announce !== false)
    for (const move of result.moves) await announceLabelMove(db, move, options.webhook);
  return result;
}
