import { evaluateCandidate, teach, textIdOf, type SearchIo } from '../activities/search-executor.js';
import { MemorySearchStore } from '../optimization/memory-search-store.js';
import type { SearchExample } from '../optimization/search-store.js';
import { unitInterval } from '../optimizers/stable-hash.js';
import type { ChatTool } from '../llm/llm-client.js';
import { optimizerFor } from '../optimizers/optimizer-registry.js';
import {
  candidateIdOf,
  PromptSearch,
  type Candidate,
  type SearchOutcome,
  type SearchRequest,
  type SearchSetup,
} from '../optimizers/prompt-search.js';
import { OptimizerChoice } from '../schemas/optimizer-config.js';
import type { Scenario } from '../test/simulator/scenario.js';
import { InProcessSimulatorClient } from '../test/simulator/in-process-client.js';

/**
 * Runs the product's optimizers and request executor against the simulator in-process:
 * the same PromptSearch sessions, meta-prompts, rendering and scoring the optimize child
 * workflow uses, with memory instead of Postgres and no HTTP, so thousands of runs fit in
 * minutes. Selection never sees the test split; the harness scores incumbents on it.
 */
export interface ScenarioHarness {
  scenario: Scenario;
  io: SearchIo;
  store: MemorySearchStore;
  baseline: Candidate;
  trainIds: string[];
  testIds: string[];
  /** Test score of a candidate (memoised; not counted as rollouts). */
  testScore(candidate: Candidate): Promise<number>;
  /** The known optimum: the base prompt with one fixing phrase per rule. */
  oracle: Candidate;
}

/**
 * `feedbackRate` is the share of failing examples whose reviewer note names the broken
 * rule (the reference's q knob); the rest carry no note, only the expected step.
 */
export async function scenarioHarness(
  scenario: Scenario,
  testShare = 0.5,
  feedbackRate = 0.8,
): Promise<ScenarioHarness> {
  const examples = new Map<string, SearchExample>(
    scenario.examples.map((e) => [
      e.id,
      {
        id: e.id,
        messages: [{ role: 'user', content: e.request }],
        expected: e.expected.action === 'respond' ? { ...e.expected, content: e.reply } : e.expected,
        critique:
          e.rule !== null && unitInterval(`note|${e.id}`, scenario.seed) < feedbackRate
            ? (scenario.rules.find((r) => r.id === e.rule)?.judgeRationale ?? null)
            : null,
      },
    ]),
  );
  const store = new MemorySearchStore(examples);
  const tools: ChatTool[] = scenario.actions.filter((a) => a.name !== 'respond');
  const io: SearchIo = {
    store,
    agent: new InProcessSimulatorClient(scenario, 'sim-agent'),
    teacher: new InProcessSimulatorClient(scenario, 'sim-teacher'),
    tools,
    concurrency: 1,
    seed: 0,
  };
  const ids = [...examples.keys()].sort();
  const testIds = ids.filter((id) => unitInterval(`split|${id}`, 7) < testShare);
  const trainIds = ids.filter((id) => !testIds.includes(id));
  const put = async (text: string) => {
    await store.putTexts([{ id: textIdOf(text), text, kind: 'component' }]);
    return textIdOf(text);
  };
  const baseline: Candidate = { system: await put(scenario.basePrompt) };
  const oracleText = `${scenario.basePrompt}\n${scenario.rules.map((r) => `${r.fixingPhrases[0]}.`).join('\n')}`;
  const oracle: Candidate = { system: await put(oracleText) };
  const memo = new Map<string, number>();
  const testScore = async (candidate: Candidate) => {
    const id = candidateIdOf(candidate);
    if (!memo.has(id)) {
      const { scores } = await evaluateCandidate(io, candidate, id, testIds);
      memo.set(id, scores.reduce((s, x) => s + x, 0) / scores.length);
    }
    return memo.get(id)!;
  };
  return { scenario, io, store, baseline, trainIds, testIds, testScore, oracle };
}

/**
 * What a caller may watch in a run, each called once the request is answered and before the
 * search sees the answer (bench/probe-search.ts counts rollouts by purpose and scores proposals).
 */
export interface SearchHooks {
  evaluated?(request: Extract<SearchRequest, { kind: 'evaluate' }>): void;
  /** `io` is the run's: its store holds this run's outputs. */
  taught?(request: Extract<SearchRequest, { kind: 'teach' }>, textIds: string[], io: SearchIo): Promise<void>;
}

/**
 * One optimizer run to completion, answering every request in-process, with outputs stored
 * for this run only (texts and candidates are shared, so the harness can score the picks).
 */
export async function runSearch(
  harness: ScenarioHarness,
  choice: unknown,
  setup: Omit<SearchSetup, 'baseline' | 'trainIds'>,
  hooks: SearchHooks = {},
): Promise<{ outcome: SearchOutcome; teacherTokens: number }> {
  // The run's model calls (teacher and agent rollouts) are seeded with the run's seed, as the
  // optimize workflow seeds them with the cycle's: with one seed for every run, random search
  // (which always asks for rewrites of the same baseline from the same failures) got the same
  // proposals on every seed. The picks' test scores keep the harness's seed 0, so every run's
  // picks are scored alike.
  const io: SearchIo = { ...harness.io, store: harness.store.forRun(), seed: setup.seed };
  const search = new PromptSearch(
    { ...setup, baseline: harness.baseline, trainIds: harness.trainIds },
    optimizerFor(OptimizerChoice.parse(choice)),
  );
  let teacherTokens = 0;
  for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
    if (step.kind === 'evaluate') {
      const { scores } = await evaluateCandidate(io, step.candidate, step.candidateId, step.exampleIds);
      hooks.evaluated?.(step);
      search.respond({ kind: 'evaluated', scores });
    } else {
      const taught = await teach(io, step.task, step.sample);
      teacherTokens += taught.tokens;
      if (hooks.taught) await hooks.taught(step, taught.textIds, io);
      search.respond({ kind: 'taught', textIds: taught.textIds });
    }
  }
  return { outcome: search.outcome(), teacherTokens };
}
