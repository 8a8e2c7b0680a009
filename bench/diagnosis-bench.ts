/**
 * bench:diagnosis — does failure clustering recover planted failure modes, do cluster ids
 * survive from one cycle to the next, and how many judge calls does the cascade save?
 *
 * Two simulated weeks of traffic from the airline scenario (6 planted failure modes plus
 * agent noise) go through the product's own code: code evaluators, the cascade, rubric
 * judging (the simulator's judge, in process), failure texts, embeddings (the local
 * TF-IDF fallback and the simulator's embedding model), HDBSCAN with noise attached, and
 * the stable-id matcher. The truth for the adjusted Rand index is each failing trace's
 * planted rule (noise-induced failures are their own class).
 *
 *   npm run bench:diagnosis [-- --traces 600 --seed 1 --dimensions task_completion,tool_selection]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { judgedSteps } from '../evaluation/agent-trajectory.js';
import { judgeWithRubric } from '../llm/rubric-judge.js';
import { adjustedRandIndex } from '../diagnosis/adjusted-rand-index.js';
import { assignClusterIds, type PreviousCluster } from '../diagnosis/cluster-identity.js';
import { runCodeEvaluators } from '../evaluation/code-evaluators.js';
import { decisiveVerdicts, planJudgeCalls } from '../evaluation/evaluation-cascade.js';
import { clusterFailures } from '../diagnosis/failure-clustering.js';
import { failureText } from '../diagnosis/failure-text.js';
import { tfidfEmbeddings } from '../diagnosis/text-embedding.js';
import { centroid } from '../diagnosis/vector-math.js';
import { TRAJECTORY_RUBRICS, rubricFor } from '../evaluation/judge-rubrics.js';
import { AgentConfig } from '../schemas/agent-config.js';
import type { Evaluation } from '../schemas/evaluation.js';
import type { TraceRecord } from '../schemas/trace.js';
import { InProcessSimulatorClient } from '../test/simulator/in-process-client.js';
import { AIRLINE_SCENARIO, loadScenario, scenarioTools } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS } from '../test/simulator/simulator-server.js';
import { generateTraffic } from '../test/simulator/traffic.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    traces: { type: 'string', default: '600' },
    seed: { type: 'string', default: '1' },
    dimensions: { type: 'string' },
  },
});
const scenario = loadScenario(AIRLINE_SCENARIO);
const agent = new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent);
const judge = new InProcessSimulatorClient(scenario, SIMULATED_MODELS.judge);
const embedder = new InProcessSimulatorClient(scenario, SIMULATED_MODELS.embedder);
const tools = scenarioTools(scenario);
// The six trajectory rubrics unless --dimensions names others.
const DIMENSIONS = args.dimensions ? args.dimensions.split(',') : TRAJECTORY_RUBRICS.map((r) => r.dimension);
const config = AgentConfig.parse({ tools, evaluation: { judge: { dimensions: DIMENSIONS } } });
const ev = config.evaluation;

interface CycleRun {
  failing: TraceRecord[];
  texts: string[];
  truth: string[];
  judgeCalls: { cascade: number; full: number; traces: number };
}

async function simulateCycle(week: number): Promise<CycleRun> {
  const traces = await generateTraffic({
    scenario,
    agent,
    resolve: () => Promise.resolve({ version: 1, text: scenario.basePrompt }),
    count: Number(args.traces),
    start: new Date(Date.UTC(2026, 0, 1 + 7 * week)),
    spacingMs: 60_000,
    seed: Number(args.seed) * 100 + week,
    idPrefix: `bench-w${week}`,
  });
  const failing: TraceRecord[] = [];
  const texts: string[] = [];
  const truth: string[] = [];
  let cascadeCalls = 0;
  let fullCalls = 0;
  for (const trace of traces) {
    const code = runCodeEvaluators(trace, ev.code, config.tools);
    const plan = planJudgeCalls(code, DIMENSIONS, ev.cascade, `${week}|${trace.id}`);
    fullCalls += DIMENSIONS.length;
    const evaluations: Evaluation[] = [...code];
    for (const dimension of plan.judge) {
      const out = await judgeWithRubric(
        judge,
        rubricFor(dimension),
        { messages: trace.input.messages, steps: judgedSteps(trace) },
        {
          seed: week,
          repeats: 1,
          examples: [],
          price: { input: 0, output: 0 },
        },
      );
      cascadeCalls += out.calls;
      if (out.result && 'score' in out.result) evaluations.push(out.result);
    }
    const verdicts = decisiveVerdicts(evaluations, ev.cascade.minCodeConfidence);
    const failed = [...verdicts.values()].filter((v) => v.label === 'fail');
    if (failed.length === 0) continue;
    failing.push(trace);
    const failedEvaluations = evaluations.filter((e) => e.label === 'fail');
    texts.push(failureText(trace, failedEvaluations));
    const example = scenario.examples.find((e) => e.id === trace.attributes.example);
    const planted = example?.rule && trace.output.action === example.wrong.action ? example.rule : 'noise';
    truth.push(planted);
  }
  return {
    failing,
    texts,
    truth,
    judgeCalls: { cascade: cascadeCalls, full: fullCalls, traces: traces.length },
  };
}

async function clusterRun(run: CycleRun, embed: 'local' | 'model') {
  const vectors = embed === 'local' ? tfidfEmbeddings(run.texts) : await embedder.embed(run.texts);
  const groups = clusterFailures(vectors, ev.clustering);
  const labels = new Array<number>(run.texts.length).fill(-1);
  groups.forEach((g, gi) => g.members.forEach((m) => (labels[m] = gi)));
  const noise = groups.reduce((n, g) => n + g.noise.filter(Boolean).length, 0);
  return { vectors, groups, labels, noise, ari: adjustedRandIndex(run.truth, labels) };
}

/** Per group, the planted rule most of its members carry. */
const majority = (run: CycleRun, members: number[]) => {
  const counts = new Map<string, number>();
  for (const m of members) counts.set(run.truth[m]!, (counts.get(run.truth[m]!) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
};

const weeks = [await simulateCycle(0), await simulateCycle(1)];
const results: Record<string, unknown> = {};
const table: string[][] = [];
for (const embed of ['local', 'model'] as const) {
  const [a, b] = [await clusterRun(weeks[0]!, embed), await clusterRun(weeks[1]!, embed)];
  const previous: PreviousCluster[] = a.groups.map((g, i) => ({
    id: `c${i}`,
    centroid: centroid(g.members.map((m) => a.vectors[m]!)),
    members: g.members.map((m) => weeks[0]!.failing[m]!.id),
  }));
  const ids = assignClusterIds(
    previous,
    b.groups.map((g) => ({
      centroid: centroid(g.members.map((m) => b.vectors[m]!)),
      members: g.members.map((m) => weeks[1]!.failing[m]!.id),
    })),
    {
      minSimilarity: ev.clustering.matchSimilarity,
      minOverlap: ev.clustering.matchOverlap,
      newId: (i) => `new${i}`,
    },
  );
  // For each planted mode present in both weeks: does week 2's largest cluster of that mode
  // carry the id of week 1's largest cluster of that mode?
  const largest = (run: CycleRun, groups: typeof a.groups, mode: string) =>
    groups
      .map((g, i) => ({
        i,
        n: g.members.filter((m) => run.truth[m] === mode).length,
        mode: majority(run, g.members),
      }))
      .filter((x) => x.mode === mode)
      .sort((x, y) => y.n - x.n || x.i - y.i)[0]?.i;
  const modesBoth = [...new Set(weeks[0]!.truth)].filter(
    (m) =>
      m !== 'noise' &&
      largest(weeks[0]!, a.groups, m) !== undefined &&
      largest(weeks[1]!, b.groups, m) !== undefined,
  );
  const keptRight = modesBoth.filter(
    (m) => ids[largest(weeks[1]!, b.groups, m)!]!.previousId === `c${largest(weeks[0]!, a.groups, m)!}`,
  ).length;
  const kept = ids.filter((x) => x.previousId !== null).length;
  results[embed] = {
    ariWeek1: a.ari,
    ariWeek2: b.ari,
    clustersWeek1: a.groups.length,
    clustersWeek2: b.groups.length,
    noiseWeek1: a.noise,
    noiseWeek2: b.noise,
    idsKept: kept,
    idsKeptForSameMode: keptRight,
    modesInBothWeeks: modesBoth.length,
  };
  table.push([
    embed === 'local' ? 'local TF-IDF' : 'embedder (sim-embed)',
    a.ari.toFixed(3),
    b.ari.toFixed(3),
    `${a.groups.length}/${b.groups.length}`,
    `${a.noise}/${b.noise}`,
    `${keptRight}/${modesBoth.length}`,
  ]);
}
const calls = weeks.map((w) => w.judgeCalls);
const perTrace = (k: 'cascade' | 'full') =>
  calls.reduce((s, c) => s + c[k], 0) / calls.reduce((s, c) => s + c.traces, 0);
const summary = {
  scenario: scenario.name,
  tracesPerWeek: Number(args.traces),
  failingPerWeek: weeks.map((w) => w.failing.length),
  plantedModes: [...new Set(weeks.flatMap((w) => w.truth))].sort(),
  judgeDimensions: DIMENSIONS,
  judgeCallsPerTraceWithCascade: perTrace('cascade'),
  judgeCallsPerTraceWithoutCascade: perTrace('full'),
  ari: results,
  minAri: Math.min(
    ...Object.values(results).flatMap((r) => [
      (r as { ariWeek1: number }).ariWeek1,
      (r as { ariWeek2: number }).ariWeek2,
    ]),
  ),
};
console.log(
  `\nbench:diagnosis — ${scenario.name}, ${args.traces} traces/week, failing ${summary.failingPerWeek.join(' / ')}`,
);
console.log(
  '\n| embedding | ARI week 1 | ARI week 2 | clusters w1/w2 | noise w1/w2 | planted modes keeping their id |',
);
console.log('|---|---:|---:|---|---|---|');
for (const row of table) console.log(`| ${row.join(' | ')} |`);
console.log(
  `\njudge calls per trace (${DIMENSIONS.length} rubrics): ${summary.judgeCallsPerTraceWithCascade.toFixed(2)} with the cascade, ${summary.judgeCallsPerTraceWithoutCascade.toFixed(2)} without`,
);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results/diagnosis.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log('wrote bench/results/diagnosis.json');
