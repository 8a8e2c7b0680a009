import { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { PromptVersion } from '../db/database.js';
import type { LlmClient } from '../llm/llm-client.js';
import { askCheckedJson } from '../llm/repair-round.js';
import { agentConfig } from '../registry/store/agent-repository.js';
import {
  agentPromptVersion,
  createVersion,
  labelledVersion,
  versionById,
} from '../registry/store/prompt-repository.js';
import { formatIssues } from '../schemas/format-issues.js';
import { NotFoundError, ServiceUnavailable, UserError } from '../schemas/user-error.js';
import { createCoaching, type CoachingDeps, type CoachingView } from './coaching-service.js';
import {
  checkMigrationAnswer,
  instructionMigrationPrompt,
  INSTRUCTION_MIGRATION_SCHEMA,
  migrationRepairPrompt,
  promptWithout,
  type MigratedInstruction,
} from './instruction-migration.js';

/**
 * Migrates a prompt version's contextual instructions into coaching, as
 * `POST /api/agents/:id/coaching/migrate` and `flywheel coaching migrate` do. The teacher
 * model finds them (the role that reads and writes the agent's guidance); its answer is
 * checked against the prompt and repaired once. Applied, the migration saves each as a
 * candidate coaching and the prompt without them as a new version, neither served yet: gate
 * them together (`flywheel eval --version N --coaching candidates`) and release them together
 * (`flywheel rollout start AGENT N --coaching candidates`, or the next cycle's
 * gate takes the candidates with its own candidate).
 */

export const MigrateInstructionsRequest = z.object({
  version: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("The prompt version to migrate from (default: the agent's production version)"),
  dryRun: z.boolean().optional().describe('Only say what would be migrated; nothing is stored'),
  reason: z.string().trim().min(1).max(2000).optional(),
});

export interface MigrationResult {
  agent: string;
  from: { id: string; version: number };
  dryRun: boolean;
  instructions: MigratedInstruction[];
  /** The prompt without the migrated instructions. */
  prompt: string;
  /** The version holding that prompt; null on a dry run or when nothing was found. */
  created: { id: string; version: number } | null;
  /** The candidate coaching created, one per instruction, in order; empty on a dry run. */
  coaching: CoachingView[];
}

export interface MigrationDeps extends CoachingDeps {
  /** The teacher model; absent: the route answers 503. */
  teacher?: LlmClient | null;
}

async function sourceVersion(db: Db, agent: string, version: number | undefined): Promise<PromptVersion> {
  const named = version === undefined ? undefined : await agentPromptVersion(db, agent, version);
  const found =
    version === undefined
      ? await labelledVersion(db, agent, 'production')
      : named
        ? await versionById(db, named.id)
        : undefined;
  if (!found)
    throw new NotFoundError(
      version === undefined
        ? `Agent ${agent} has no production prompt to migrate from; name a version with --version.`
        : `Agent ${agent} has no prompt version ${version}; list them with \`flywheel prompt list\`.`,
    );
  if (found.type !== 'text')
    throw new UserError(
      `Prompt version ${found.version} of ${agent} is a chat prompt; migration reads a text system prompt. Migrate by hand with \`flywheel coaching create\`.`,
    );
  return found;
}

export async function migrateContextualInstructions(
  deps: MigrationDeps,
  agent: string,
  input: unknown,
  actor: string,
): Promise<MigrationResult> {
  const parsed = MigrateInstructionsRequest.safeParse(input ?? {});
  if (!parsed.success)
    throw new UserError(
      `The migration request is not valid (${formatIssues(parsed.error)}); nothing was stored.`,
    );
  const req = parsed.data;
  const [source, config] = await Promise.all([
    sourceVersion(deps.db, agent, req.version),
    agentConfig(deps.db, agent),
  ]);
  // What to migrate is checked before the model is needed: a wrong version is said first.
  if (!deps.teacher)
    throw new ServiceUnavailable(
      'Migrating instructions needs the teacher model (FLYWHEEL_LLM_BASE_URL, FLYWHEEL_TEACHER_MODEL); nothing was stored.',
    );
  const text = source.text;
  const tools = config.tools.map((t) => ({ name: t.name, description: t.description }));
  const checked = await askCheckedJson(deps.teacher, {
    jsonSchema: INSTRUCTION_MIGRATION_SCHEMA,
    prompt: instructionMigrationPrompt(text, tools),
    check: (content) =>
      checkMigrationAnswer(
        content,
        text,
        tools.map((t) => t.name),
      ),
    repairPrompt: migrationRepairPrompt,
  }).catch((error: unknown) => {
    throw new ServiceUnavailable(
      `The teacher model failed (${error instanceof Error ? error.message.slice(0, 300) : String(error)}); nothing was stored. Try again.`,
    );
  });
  if (!checked.ok)
    throw new ServiceUnavailable(
      `The teacher model's answer could not be used (${checked.error.slice(0, 500)}); nothing was stored. Try again, or migrate by hand with \`flywheel coaching create --candidate\`.`,
    );
  const instructions = checked.instructions;
  const prompt = promptWithout(
    text,
    instructions.map((i) => i.instruction),
  );
  const from = { id: source.id, version: source.version };
  const plan: MigrationResult = {
    agent,
    from,
    dryRun: req.dryRun ?? false,
    instructions,
    prompt,
    created: null,
    coaching: [],
  };
  if (req.dryRun || instructions.length === 0) return plan;

  const reason = req.reason ?? `migrated from prompt v${source.version}`;
  const { version } = await createVersion(deps.db, {
    name: source.name,
    agent,
    type: 'text',
    prompt,
    config: source.config,
    commitMessage: `v${source.version} without ${instructions.length} contextual instruction(s) migrated into candidate coaching: ${reason}`,
    createdBy: actor,
    source: 'manual',
  });
  const coaching: CoachingView[] = [];
  for (const item of instructions) {
    const { coaching: view } = await createCoaching(
      deps,
      agent,
      {
        situation: item.situation,
        behaviour: item.behaviour,
        candidate: true,
        reason: `${reason}: "${item.instruction.slice(0, 300)}" (prompt v${version.version} leaves it out)`,
      },
      actor,
    );
    coaching.push(view);
  }
  return { ...plan, created: { id: version.id, version: version.version }, coaching };
}
