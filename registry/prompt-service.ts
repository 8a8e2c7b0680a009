import type { z } from 'zod';
import { unifiedDiff } from './text-diff.js';
import { diffableText } from './shipped-prompt.js';
import { agentConfig } from './store/agent-repository.js';
import type { Db } from '../db/connection.js';
import type { PromptVersion } from '../db/database.js';
import {
  createVersion,
  rollbackLabel,
  setLabel,
  type LabelMoveOptions,
  type LabelMoveResult,
} from './label-move-service.js';
import {
  labelsByVersion,
  listPrompts,
  promptVersion,
  promptVersionList,
  type PromptSummary,
} from './store/prompt-repository.js';
import { labelMoveHistory, type LabelMoveRecord } from './store/prompt-labels.js';
import {
  ChatMessage,
  CreatePromptRequest,
  LabelName,
  PromptConfig,
  PromptName,
  RollbackRequest,
  SetLabelRequest,
  type PromptRecord,
} from '../schemas/prompt.js';
import { formatIssues } from '../schemas/format-issues.js';
import { NotFoundError, UserError } from '../schemas/user-error.js';

/**
 * The registry's operations as the HTTP API and the CLI share them: input validated by the
 * schemas; registry refusals are user errors with their status.
 */

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UserError(`Invalid ${what}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

export function toRecord(v: PromptVersion, labels: string[]): PromptRecord {
  return {
    id: v.id,
    name: v.name,
    agent: v.agent_id,
    type: v.type,
    prompt: v.type === 'chat' ? ChatMessage.array().parse(v.messages) : v.text,
    config: PromptConfig.parse(v.config),
    version: v.version,
    labels,
    tags: v.tags,
    commitMessage: v.commit_message,
    createdBy: v.created_by,
    createdAt: new Date(v.created_at).toISOString(),
  };
}

export async function listPromptSummaries(db: Db, agent?: string): Promise<PromptSummary[]> {
  return listPrompts(db, agent);
}

/** One version in a prompt's list: what it is, who made it and which labels point at it. */
export interface PromptVersionEntry {
  id: string;
  version: number;
  type: PromptRecord['type'];
  source: PromptVersion['source'];
  tags: string[];
  commitMessage: string | null;
  createdBy: string;
  createdAt: string;
  /** The optimizer candidate it was made from; null for versions people registered. */
  candidateId: string | null;
  labels: string[];
}

async function existingPrompt(db: Db, name: string): Promise<void> {
  parse(PromptName, name, 'prompt name');
  if (!(await promptVersion(db, name, { label: 'latest' })))
    throw new NotFoundError(
      `No prompt named "${name}"; list them with \`flywheel prompt list\` or GET /api/prompts.`,
    );
}

/** Every version of a prompt, newest first, with its labels (`latest` included). */
export async function listPromptVersions(
  db: Db,
  name: string,
): Promise<{ name: string; agent: string; versions: PromptVersionEntry[] }> {
  await existingPrompt(db, name);
  const [rows, labels] = await Promise.all([promptVersionList(db, name), labelsByVersion(db, name)]);
  return {
    name,
    agent: rows[0]?.agent_id ?? '',
    versions: rows.map((r) => ({
      id: r.id,
      version: r.version,
      type: r.type,
      source: r.source,
      tags: r.tags,
      commitMessage: r.commit_message,
      createdBy: r.created_by,
      createdAt: new Date(r.created_at).toISOString(),
      candidateId: r.candidate_id,
      labels: labels.get(r.id) ?? [],
    })),
  };
}

export const LABEL_MOVES_LIMIT = 200;

/** The audited moves of a prompt's labels, newest first: who moved which label where, and why. */
export async function promptLabelMoves(
  db: Db,
  name: string,
  limit = LABEL_MOVES_LIMIT,
): Promise<{ name: string; moves: LabelMoveRecord[] }> {
  await existingPrompt(db, name);
  return { name, moves: await labelMoveHistory(db, name, limit) };
}

/** `version` is a version number or a label (`latest` included); absent: `production`, as Langfuse does. */
export async function findPromptVersion(
  db: Db,
  name: string,
  selector: { version?: string | number | null; label?: string | null },
): Promise<PromptVersion> {
  parse(PromptName, name, 'prompt name');
  if (selector.version != null && selector.label != null)
    throw new UserError('Pass either a version or a label, not both.');
  let v: PromptVersion | undefined;
  if (selector.version != null) {
    const n = Number(selector.version);
    if (!Number.isInteger(n) || n < 1)
      throw new UserError(`version must be a positive whole number, got "${selector.version}".`);
    v = await promptVersion(db, name, { version: n });
  } else {
    const label = parse(LabelName, selector.label ?? 'production', 'label');
    v = await promptVersion(db, name, { label });
  }
  if (v) return v;
  const exists = await promptVersion(db, name, { label: 'latest' });
  if (!exists)
    throw new NotFoundError(
      `No prompt named "${name}"; list them with \`flywheel prompt list\` or GET /api/prompts.`,
    );
  throw new NotFoundError(
    selector.version != null
      ? `Prompt "${name}" has no version ${selector.version}; its versions are 1 to ${exists.version}.`
      : `No version of prompt "${name}" has the label "${selector.label ?? 'production'}"; pass a version or label=latest.`,
  );
}

export async function showPrompt(
  db: Db,
  name: string,
  selector: { version?: string | number | null; label?: string | null },
): Promise<PromptRecord> {
  const v = await findPromptVersion(db, name, selector);
  return toRecord(v, (await labelsByVersion(db, name)).get(v.id) ?? []);
}

export async function createPrompt(db: Db, body: unknown, options: LabelMoveOptions = {}) {
  const input = parse(CreatePromptRequest, body, 'prompt');
  const { version, moves } = await createVersion(
    db,
    {
      name: input.name,
      ...(input.agent ? { agent: input.agent } : {}),
      type: input.type,
      prompt: input.prompt,
      config: input.config,
      tags: input.tags,
      commitMessage: input.commitMessage ?? null,
      createdBy: input.actor,
      source: 'manual',
      labels: [...new Set(input.labels)],
    },
    options,
  );
  return { prompt: toRecord(version, (await labelsByVersion(db, input.name)).get(version.id) ?? []), moves };
}

const moveAnswer = (result: LabelMoveResult) =>
  result
    ? { changed: true, move: result.move, webhook: result.delivery }
    : { changed: false, move: null, webhook: null };

export async function labelPrompt(db: Db, name: string, body: unknown, options: LabelMoveOptions = {}) {
  parse(PromptName, name, 'prompt name');
  const input = parse(SetLabelRequest, body, 'label request');
  return moveAnswer(
    await setLabel(
      db,
      { name, label: input.label, version: input.version, actor: input.actor, reason: input.reason ?? '' },
      options,
    ),
  );
}

export async function rollbackPrompt(db: Db, name: string, body: unknown, options: LabelMoveOptions = {}) {
  parse(PromptName, name, 'prompt name');
  const input = parse(RollbackRequest, body, 'rollback request');
  return moveAnswer(
    await rollbackLabel(
      db,
      {
        name,
        label: input.label,
        ...(input.to !== undefined ? { to: input.to } : {}),
        actor: input.actor,
        reason: input.reason,
      },
      options,
    ),
  );
}

/**
 * `from` and `to` are version numbers or labels. Demos and tool descriptions in the versions'
 * configs are part of the diff (under `[demos]` and `[tool NAME]` headings), so a release that
 * changed only tool descriptions shows what it changed.
 */
export async function diffPrompt(db: Db, name: string, from: string | null, to: string | null) {
  if (!from || !to)
    throw new UserError('Pass both versions to compare: ?from=<version|label>&to=<version|label>.');
  const pick = (s: string) => (/^\d+$/.test(s) ? { version: s } : { label: s });
  const [a, b] = [await findPromptVersion(db, name, pick(from)), await findPromptVersion(db, name, pick(to))];
  const [configA, configB] = [PromptConfig.parse(a.config), PromptConfig.parse(b.config)];
  const toolNames = [
    ...new Set([
      ...Object.keys(configA.toolDescriptions ?? {}),
      ...Object.keys(configB.toolDescriptions ?? {}),
    ]),
  ].sort();
  const { tools } = toolNames.length ? await agentConfig(db, a.agent_id) : { tools: [] };
  const diff = unifiedDiff(
    diffableText({ text: a.text, config: configA }, tools, toolNames),
    diffableText({ text: b.text, config: configB }, tools, toolNames),
    { fromLabel: a.id, toLabel: b.id },
  );
  return {
    name,
    from: { id: a.id, version: a.version },
    to: { id: b.id, version: b.version },
    added: diff.added,
    removed: diff.removed,
    diff: diff.text,
  };
}

// The seeding path registers version 1 without announcing it: nothing was released yet.
export { createPromptVersion, labelledVersion } from './store/prompt-repository.js';
