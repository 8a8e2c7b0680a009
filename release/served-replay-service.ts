import type { Db } from '../db/connection.js';
import type { PromptVersion } from '../db/database.js';
import { gateExamples } from '../datasets/store/optimizer-examples.js';
import { outcomeMatch } from '../evaluation/evaluator.js';
import { runAgentStep } from '../llm/agent-step.js';
import { boundedMap } from '../llm/bounded-map.js';
import type { LlmRoles } from '../llm/llm-client.js';
import type { AgentConfig } from '../schemas/agent-config.js';
import { formatIssues } from '../schemas/format-issues.js';
import { PromptConfig, promptForAgent, type PromptBody } from '../schemas/prompt.js';
import { AgentAction, ChatMessage } from '../schemas/trace.js';
import { UserError } from '../schemas/user-error.js';
import type { ReplayCoaching } from '../coaching/coaching-replay-service.js';
import type { GateOutput } from './gate-scoring-service.js';
import type { ExampleScores } from './gate-score-table.js';
import type { CoachingSet } from '../schemas/coaching.js';
import {
  attributeCoachingSet,
  scoreDelta,
  type RecalledExample,
  type SetAttribution,
} from '../coaching/coaching-set-attribution.js';

/**
 * Step replay of a prompt as it is served: its body and config, with the coaching its
 * agents would recall inserted per conversation. `flywheel eval` gates with it, and so does
 * a cycle's gate whenever the agent has coaching (active, or candidates it gates as a set).
 */

export interface Served {
  prompt: PromptBody;
  config: PromptConfig;
}

export const servedOf = (v: PromptVersion): Served => ({
  prompt: v.text,
  config: PromptConfig.parse(v.config),
});

/** A dataset version's examples of one split, ready to replay; a malformed example is named. */
export async function examplesOf(db: Db, datasetVersionId: string, split: 'eval' | 'holdout') {
  const rows = await gateExamples(db, datasetVersionId, split);
  return rows.map((r) => {
    const messages = ChatMessage.array().safeParse((r.input as { messages?: unknown } | null)?.messages);
    const expected = AgentAction.safeParse(r.expected);
    if (!messages.success || !expected.success)
      throw new UserError(
        `Dataset example ${r.id} cannot be replayed (${formatIssues((messages.error ?? expected.error)!, { root: 'example' })}); retire it with \`flywheel dataset retire\`.`,
      );
    return { id: r.id, messages: messages.data, expected: expected.data, slices: r.slices };
  });
}

export type Example = Awaited<ReturnType<typeof examplesOf>>[number];

/**
 * Step replay of one prompt on the examples, scored against each example's expected step.
 * The coaching set's memories that the conversation recalls are inserted as an agent
 * inserts them; the judge sees the conversation as the user wrote it.
 */
export async function replay(
  deps: { llm: LlmRoles; concurrency: number },
  served: Served,
  coaching: ReplayCoaching | null,
  agent: AgentConfig,
  examples: readonly Example[],
  seed: number,
): Promise<GateOutput[]> {
  const { systemPrompt, tools } = promptForAgent(
    served,
    agent.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
  );
  return boundedMap(examples, deps.concurrency, async (ex) => {
    const recalled = coaching && coaching.size > 0 ? await coaching.recall(ex.messages) : null;
    const { step } = await runAgentStep(deps.llm.agent, {
      systemPrompt,
      messages: ex.messages,
      fewShot: recalled?.messages ?? [],
      tools,
      seed,
    });
    return {
      exampleId: ex.id,
      messages: ex.messages,
      step,
      score: outcomeMatch(ex.expected, step).value,
      slices: ex.slices,
      ...(recalled ? { recalled: recalled.coaching.map((c) => c.id) } : {}),
    };
  });
}

/** One split as the gate replayed it, kept for the coaching set's per-member evidence. */
export interface ReplayedSplit {
  split: ExampleScores['split'];
  examples: readonly Example[];
  /** The candidate's arm, with the recalled coaching of each conversation. */
  candidate: readonly GateOutput[];
}

/** The eval examples whose conversation recalled a member of the set in the candidate's arm. */
export const recalledSet = (replayed: readonly ReplayedSplit[], set: CoachingSet): Set<string> => {
  const members = new Set(set.map((m) => m.id));
  return new Set(
    replayed
      .filter((r) => r.split === 'eval')
      .flatMap((r) =>
        r.candidate.filter((o) => o.recalled?.some((id) => members.has(id))).map((o) => o.exampleId),
      ),
  );
};

export const exampleOf = (r: ReplayedSplit, id: string): Example => r.examples.find((e) => e.id === id)!;

/**
 * Scores each member of the set on the examples that recalled it: the candidate's score with
 * the set against the score `without` it on the same examples.
 */
export async function attributeSet(input: {
  set: CoachingSet;
  replayed: readonly ReplayedSplit[];
  candidate: readonly ExampleScores[];
  without: (split: ExampleScores['split'], examples: readonly Example[]) => Promise<ExampleScores[]>;
}): Promise<SetAttribution> {
  const members = new Set(input.set.map((m) => m.id));
  const recalled: RecalledExample[] = [];
  for (const r of input.replayed) {
    const touched = r.candidate.flatMap((o) => {
      const mine = (o.recalled ?? []).filter((id) => members.has(id));
      return mine.length ? [{ id: o.exampleId, members: mine }] : [];
    });
    if (touched.length === 0) continue;
    const scored = (xs: readonly ExampleScores[]) =>
      new Map(xs.filter((e) => e.split === r.split).map((e) => [e.id, e.scores]));
    const withSet = scored(input.candidate);
    const without = scored(
      await input.without(
        r.split,
        touched.map((t) => exampleOf(r, t.id)),
      ),
    );
    for (const t of touched) {
      const a = withSet.get(t.id);
      const b = without.get(t.id);
      if (a && b) recalled.push({ ...t, split: r.split, delta: scoreDelta(a, b) });
    }
  }
  return attributeCoachingSet(input.set, recalled);
}
