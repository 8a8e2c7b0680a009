import type { ArtifactChange } from './artifact-change-message.js';
import {
  isArtifactKind,
  ARTIFACT_KINDS,
  OPTIMIZER_SECTION,
  POLICY_SECTIONS,
  versionBefore,
} from './artifact-kinds.js';
import { updateAgentConfig, type ConfigUpdate } from './store/agent-repository.js';
import { auditArtifactChange, pinDatasetVersion, restoreConfigSection } from './store/artifact-repository.js';
import type { Db } from '../db/connection.js';
import { listPrompts } from './store/prompt-repository.js';
import { rollbackLabel } from './label-move-service.js';
import { moveRubricPointer, saveRubricVersion } from '../evaluation/store/rubric-repository.js';
import { announceArtifactChange, type ArtifactNoticeDelivery } from '../notify/artifact-change-notice.js';
import type { WebhookSender } from '../notify/webhook-sender.js';
import { AgentConfig } from '../schemas/agent-config.js';
import { coachingVersions, lockCoaching, pointAt } from '../coaching/store/coaching-repository.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';

/**
 * Changes and rollbacks of an agent's versioned artifacts, as the CLI (and any API) asks
 * for them: each is validated, written with its audit record in one transaction, then
 * announced on the agent's webhook. A failed announcement is reported, never an error.
 */

export interface ArtifactOptions {
  /** Posts announcements; absent: the real HTTP sender. */
  webhook?: WebhookSender;
}

export interface ArtifactChangeResult {
  change: ArtifactChange;
  delivery: ArtifactNoticeDelivery;
}

export interface RollbackRequest {
  kind: string;
  agent: string;
  /** Section for policy, dimension for rubric, prompt name for prompt (default: the agent's own), id for coaching. */
  name?: string | undefined;
  to?: number | undefined;
  actor: string;
  reason: string;
}

function requireWho(actor: string, reason: string): void {
  if (!actor.trim()) throw new UserError('Say who is making the change (--actor); nothing was changed.');
  if (!reason.trim()) throw new UserError('Say why (--reason); nothing was changed.');
}

function checkVersion(to: number | undefined): void {
  if (to !== undefined && !(Number.isInteger(to) && to > 0))
    throw new UserError(`--to must be a version number (1, 2, ...), not "${to}"; nothing was changed.`);
}

export type ChangeDraft = Omit<ArtifactChange, 'auditId' | 'at'> & { auditArtifact: string };

/**
 * Writes the change and its audit record in one transaction, then announces it. A write
 * that finds nothing to change returns null: no audit record, no announcement.
 */
export async function audited(
  db: Db,
  options: ArtifactOptions,
  write: (tx: Db) => Promise<ChangeDraft | null>,
): Promise<ArtifactChangeResult | null> {
  const change = await db.transaction().execute(async (tx) => {
    const draft = await write(tx);
    if (!draft) return null;
    const { auditArtifact, ...c } = draft;
    const audit = await auditArtifactChange(tx, {
      actor: c.actor,
      action: c.action,
      artifact: auditArtifact,
      detail: { agent: c.agent, from: c.from, to: c.to, reason: c.reason, ...c.detail },
    });
    return { ...c, ...audit };
  });
  return change && { change, delivery: await announceArtifactChange(db, change, options.webhook) };
}

/** A rollback always changes something (or throws), so it always has a result. */
async function auditedRollback(
  db: Db,
  options: ArtifactOptions,
  write: (tx: Db) => Promise<ChangeDraft>,
): Promise<ArtifactChangeResult> {
  const result = await audited(db, options, write);
  if (!result) throw new Error('a rollback wrote nothing');
  return result;
}

async function rollbackPrompt(db: Db, req: RollbackRequest, options: ArtifactOptions) {
  const name = req.name ?? req.agent;
  const prompts = await listPrompts(db, req.agent);
  if (!prompts.some((p) => p.name === name)) {
    throw new NotFoundError(
      `Agent ${req.agent} has no prompt named "${name}"; nothing was changed. Its prompts: ${prompts.map((p) => p.name).join(', ') || 'none'}.`,
    );
  }
  // The prompt registry audits and announces its own label moves.
  const result = await rollbackLabel(db, { name, to: req.to, actor: req.actor, reason: req.reason }, options);
  if (!result) throw new ConflictError(`The production label of ${name} did not move; nothing was changed.`);
  const { move, delivery } = result;
  const change: ArtifactChange = {
    auditId: move.auditId,
    action: move.action,
    agent: move.agent,
    artifact: `prompt ${name} label ${move.label}`,
    from: move.from?.version ?? null,
    to: move.to?.version ?? null,
    actor: move.actor,
    reason: move.reason,
    at: move.at,
  };
  return { change, delivery };
}

function sectionOf(kind: 'policy' | 'optimizer', name: string | undefined): string {
  if (kind === 'optimizer') {
    if (name !== undefined && name !== OPTIMIZER_SECTION)
      throw new UserError(`The optimizer configuration has no parts to name ("${name}"); omit it.`);
    return OPTIMIZER_SECTION;
  }
  if (name === undefined)
    throw new UserError(`Name the policy section to roll back: one of ${POLICY_SECTIONS.join(', ')}.`);
  if (!POLICY_SECTIONS.includes(name))
    throw new UserError(
      `Unknown policy section "${name}"; nothing was changed. Sections: ${POLICY_SECTIONS.join(', ')}.`,
    );
  return name;
}

/**
 * Rolls one artifact back (or to any of its versions with `to`) on its own: a policy or
 * the optimizer restores one configuration section into a new version, a rubric or the
 * dataset moves the agent's pointer, a prompt moves its production label.
 */
export async function rollbackArtifact(
  db: Db,
  req: RollbackRequest,
  options: ArtifactOptions = {},
): Promise<ArtifactChangeResult> {
  if (!isArtifactKind(req.kind))
    throw new UserError(`Unknown artifact kind "${req.kind}"; use one of ${ARTIFACT_KINDS.join(', ')}.`);
  requireWho(req.actor, req.reason);
  checkVersion(req.to);
  const who = { agent: req.agent, actor: req.actor, reason: req.reason };
  switch (req.kind) {
    case 'prompt':
      return rollbackPrompt(db, req, options);
    case 'rubric': {
      const dimension = req.name;
      if (dimension === undefined) throw new UserError('Name the rubric dimension to roll back.');
      return auditedRollback(db, options, async (tx) => {
        const move = await moveRubricPointer(tx, req.agent, dimension, req.to, req.actor);
        return {
          ...who,
          action: 'rubric.rollback',
          artifact: `rubric ${dimension}`,
          auditArtifact: `rubric:${req.agent}/${dimension}`,
          from: move.from,
          to: move.to,
          detail: { dimension },
        };
      });
    }
    case 'dataset': {
      if (req.name !== undefined)
        throw new UserError(`The dataset is rolled back as a whole; omit "${req.name}".`);
      return auditedRollback(db, options, async (tx) => {
        const move = await pinDatasetVersion(tx, req.agent, req.to, req.actor, req.reason);
        return {
          ...who,
          action: 'dataset.rollback',
          artifact: 'dataset',
          auditArtifact: `dataset:${req.agent}`,
          from: move.from.version,
          to: move.to.version,
          detail: { fromId: move.from.id, toId: move.to.id },
        };
      });
    }
    case 'coaching': {
      const id = req.name;
      if (id === undefined) throw new UserError('Name the coaching to roll back (its id, coa_…).');
      return auditedRollback(db, options, async (tx) => {
        const record = await lockCoaching(tx, req.agent, id);
        const numbers = (await coachingVersions(tx, id)).map((v) => v.version);
        const target = req.to ?? versionBefore(numbers, record.version);
        if (target === null)
          throw new UserError(
            `Coaching ${id} has no version before v${record.version} to roll back to; retire it instead. Nothing was changed.`,
          );
        if (!numbers.includes(target))
          throw new UserError(
            `Coaching ${id} has no version ${target}; nothing was changed. Versions: ${numbers.join(', ')}.`,
          );
        if (target === record.version)
          throw new UserError(`Coaching ${id} is at version ${target} already; nothing was changed.`);
        await pointAt(tx, id, target);
        return {
          ...who,
          action: 'coaching.rollback',
          artifact: `coaching ${id}`,
          auditArtifact: `coaching:${req.agent}/${id}`,
          from: record.version,
          to: target,
          detail: { coaching: id },
        };
      });
    }
    case 'policy':
    case 'optimizer': {
      const section = sectionOf(req.kind, req.name);
      return auditedRollback(db, options, async (tx) => {
        const r = await restoreConfigSection(tx, req.agent, section, req.to, req.actor, req.reason);
        return {
          ...who,
          action: `${req.kind}.rollback`,
          artifact: req.kind === 'policy' ? `policy ${section}` : 'optimizer configuration',
          auditArtifact: req.kind === 'policy' ? `policy:${req.agent}/${section}` : `optimizer:${req.agent}`,
          from: r.from,
          to: r.to,
          detail: { section, configVersion: { from: r.update.from, to: r.update.to } },
        };
      });
    }
  }
}

export interface ConfigSetRequest {
  agent: string;
  /** A whole configuration, or with `section` that section's new value (null: its default). */
  value: unknown;
  section?: string | undefined;
  actor: string;
  reason: string;
}

/** Sets an agent's configuration (or one section) as a new version; null change when equal. */
export async function setAgentConfig(
  db: Db,
  req: ConfigSetRequest,
  options: ArtifactOptions = {},
): Promise<{ update: ConfigUpdate; result: ArtifactChangeResult | null }> {
  requireWho(req.actor, req.reason);
  const sections = Object.keys(AgentConfig.shape);
  if (req.section !== undefined && !sections.includes(req.section))
    throw new UserError(
      `Unknown configuration section "${req.section}"; nothing was changed. Sections: ${sections.join(', ')}.`,
    );
  if (
    req.section === undefined &&
    (typeof req.value !== 'object' || req.value === null || Array.isArray(req.value))
  )
    throw new UserError('A whole configuration must be a JSON object; nothing was changed.');
  const change = req.section === undefined ? { config: req.value } : { patch: { [req.section]: req.value } };
  let update: ConfigUpdate | undefined;
  const result = await audited(db, options, async (tx) => {
    update = await updateAgentConfig(tx, req.agent, change, req.actor, req.reason);
    if (!update.changed) return null;
    return {
      agent: req.agent,
      actor: req.actor,
      reason: req.reason,
      action: 'config.change',
      artifact: req.section === undefined ? 'configuration' : `configuration ${req.section}`,
      auditArtifact: `config:${req.agent}`,
      from: update.from,
      to: update.to,
      detail: { sections: update.sections },
    };
  });
  return { update: update!, result };
}

export interface RubricSetRequest {
  agent: string;
  dimension: string;
  rubric: unknown;
  actor: string;
  reason: string;
}

/** Saves a rubric file as the dimension's next version and makes it active; null when equal. */
export async function setRubric(
  db: Db,
  req: RubricSetRequest,
  options: ArtifactOptions = {},
): Promise<ArtifactChangeResult | null> {
  requireWho(req.actor, req.reason);
  return audited(db, options, async (tx) => {
    const move = await saveRubricVersion(tx, req.agent, req.dimension, req.rubric, req.actor, req.reason);
    if (!move.changed) return null;
    return {
      agent: req.agent,
      actor: req.actor,
      reason: req.reason,
      action: 'rubric.set',
      artifact: `rubric ${req.dimension}`,
      auditArtifact: `rubric:${req.agent}/${req.dimension}`,
      from: move.from,
      to: move.to,
      detail: { dimension: req.dimension },
    };
  });
}
