/**
 * GEPA on real week-1 cycles, in process (a one-off tool for issue 16, not part of any bench):
 * for each snapshot bench/week1-snapshot.ts wrote (a cycle's train examples as reviewers
 * labelled them, production's components, the tools), runs the product's GEPA with the
 * cycle's own budget plan (`auto` light, as the optimize stage plans it from the train split)
 * once per settings object and run seed, and scores what it picked on bench:flywheel's
 * held-out ground truth. Per run: the pick's Pareto-set (train) score and true success,
 * rollouts, reflections asked, children tried on a minibatch and accepted, the stop reason,
 * and where the pick was found; per settings, every accepted program's train score beside
 * its true success (how well the train split ranks what the search accepts).
 *
 *   npx tsx bench/gepa-cycle-probe.ts [--snapshots bench/results/week1-snapshots.json] --runs 30 \
 *     --settings '{}' --settings '{"reflectionMinibatchSize":8}' [--budget '{"auto":"light"}']
 *     [--scenario NAME] [--seed N] [--out FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { evaluateCandidate, teach, textIdOf, type SearchIo } from '../activities/search-executor.js';
import { MemorySearchStore } from '../optimization/memory-search-store.js';
import { renderCandidate } from '../optimization/render-candidate.js';
import { planBudget } from '../optimizers/budget-plan.js';
import { optimizerFor } from '../optimizers/optimizer-registry.js';
import { candidateIdOf, PromptSearch, type Candidate } from '../optimizers/prompt-search.js';
import { Budget, OptimizerChoice, Stopping } from '../schemas/optimizer-config.js';
import { InProcessSimulatorClient } from '../test/simulator/in-process-client.js';
import { loadScenario, scenarioTools } from '../test/simulator/scenario.js';
import { SIMULATED_MODELS } from '../test/simulator/simulator-server.js';
import { mean, median } from './statistics.js';
import { heldOutRequests, oraclePrompt, trueSuccessDetail, contentOf } from './true-success.js';
import type { Week1Snapshot } from './week1-snapshot.js';

const { values: args } = parseArgs({
  options: {
    snapshots: { type: 'string', default: 'bench/results/week1-snapshots.json' },
    runs: { type: 'string', default: '20' },
    settings: { type: 'string', multiple: true, default: ['{}'] },
    budget: { type: 'string', default: '{}' },
    'held-out': { type: 'string', default: '2000' },
    scenario: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    /** Keep every accepted program's train mean, true success, length and ancestry in the output. */
    'keep-programs': { type: 'boolean', default: false },
  },
});
const snapshots = (JSON.parse(readFileSync(args.snapshots, 'utf8')) as Week1Snapshot[]).filter(
  (s) => (!args.scenario || s.scenario === args.scenario) && (!args.seed || s.seed === Number(args.seed)),
);
const nRuns = Number(args.runs);

interface Run {
  scenario: string;
  seed: number;
  runSeed: number;
  settings: string;
  train: number;
  maxRollouts: number;
  rollouts: number;
  teacherCalls: number;
  reflections: number;
  tried: number;
  accepted: number;
  stopReason: string;
  pickId: string;
  pickVal: number;
  pickTruth: number;
  pickRollouts: number;
  /** Accepted programs tied with the pick on the train split, and their true success range. */
  tiedAtTop: number;
  tiedTruthMin: number;
  tiedTruthMax: number;
  brokenRules: string[];
  pickByRule: Record<string, number>;
  /** The pick's true success on held-out requests in no failure mode. */
  pickRoutine: number | null;
  /**
   * Post hoc, not a setting (the optimizer sees text IDs only): the true success of the
   * shortest program (all component texts' characters; the earliest among equals) among the
   * accepted ones whose train-split mean equals the pick's, and its length beside the pick's.
   */
  shortestTruth: number | null;
  shortestChars: number | null;
  pickChars: number;
  /** In pool order; depth = rewrites from the baseline (0 for the baseline). */
  programs: { val: number; truth: number; chars: number; depth: number }[];
}

const out: Run[] = [];
for (const snap of snapshots) {
  const scenario = { ...loadScenario(snap.scenarioFile), agentId: snap.agent };
  const tools = scenarioTools(scenario);
  const scorer = new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent);
  const heldOut = heldOutRequests(scenario, Number(args['held-out']));
  const oracle = (
    await trueSuccessDetail(scorer, contentOf(scenario, { text: oraclePrompt(scenario) }), heldOut)
  ).overall;
  const shared = new MemorySearchStore(new Map(snap.examples.map((e) => [e.id, e])));
  await shared.putTexts(
    snap.components.map((c) => ({ id: textIdOf(c.text), text: c.text, kind: 'component' })),
  );
  const baseline: Candidate = Object.fromEntries(snap.components.map((c) => [c.component, textIdOf(c.text)]));
  const truthMemo = new Map<string, Awaited<ReturnType<typeof trueSuccessDetail>>>();
  const truthOf = async (candidate: Candidate) => {
    const id = candidateIdOf(candidate);
    if (!truthMemo.has(id)) {
      const texts = await shared.texts(Object.values(candidate));
      const r = renderCandidate(texts, candidate, tools);
      truthMemo.set(id, await trueSuccessDetail(scorer, { system: r.systemPrompt, tools: r.tools }, heldOut));
    }
    return truthMemo.get(id)!;
  };
  const baseTruth = (await truthOf(baseline)).overall;
  console.log(
    `${snap.agent}: train ${snap.trainIds.length}, oracle ${oracle.toFixed(3)}, baseline ${baseTruth.toFixed(3)}; ` +
      `bench pick ${snap.record.candidateTrueSuccess ?? '-'} (val ${snap.record.optimization?.bestScore.toFixed(3)}, ` +
      `${snap.record.optimization?.rollouts} rollouts)`,
  );
  for (const text of args.settings) {
    const choice = OptimizerChoice.parse({ name: 'gepa', settings: JSON.parse(text) as unknown });
    const plan = planBudget(choice, Budget.parse(JSON.parse(args.budget)), {
      trainSize: snap.trainIds.length,
      components: snap.components.length,
    });
    const seeds = [
      snap.runSeed,
      ...Array.from({ length: nRuns - 1 }, (_, i) => 100_000 + snap.seed * 1000 + i),
    ];
    for (const runSeed of seeds) {
      const store = shared.forRun();
      const io: SearchIo = {
        store,
        agent: new InProcessSimulatorClient(scenario, SIMULATED_MODELS.agent),
        teacher: new InProcessSimulatorClient(scenario, SIMULATED_MODELS.teacher),
        tools,
        concurrency: 1,
        seed: runSeed,
      };
      const search = new PromptSearch(
        {
          seed: runSeed,
          baseline,
          trainIds: snap.trainIds,
          budget: { maxRollouts: plan.maxRollouts, maxTeacherCalls: plan.maxTeacherCalls },
          stopping: Stopping.parse({}),
          strata: snap.strata,
        },
        optimizerFor(choice),
      );
      let reflections = 0;
      let tried = 0;
      const scored = new Map<string, Candidate>();
      const parentOf = new Map<string, string>();
      // The latest reflection's children (id → parent id): a child scored on the Pareto set was accepted.
      let proposed = new Map<string, string>();
      for (let step = search.next(); step.kind !== 'done'; step = search.next()) {
        if (step.kind === 'evaluate') {
          if (step.purpose === 'reflection minibatch (child)') tried++;
          if (step.purpose === 'full Pareto-set evaluation' && !scored.has(step.candidateId)) {
            const parent = proposed.get(step.candidateId);
            if (parent !== undefined) parentOf.set(step.candidateId, parent);
            scored.set(step.candidateId, step.candidate);
          }
          const { scores } = await evaluateCandidate(io, step.candidate, step.candidateId, step.exampleIds);
          search.respond({ kind: 'evaluated', scores });
        } else {
          const taught = await teach(io, step.task, step.sample);
          if (step.task.type === 'reflect') {
            reflections++;
            const { candidate, component } = step.task;
            proposed = new Map(
              taught.textIds.map((t) => [
                candidateIdOf({ ...candidate, [component]: t }),
                candidateIdOf(candidate),
              ]),
            );
          }
          search.respond({ kind: 'taught', textIds: taught.textIds });
        }
      }
      const outcome = search.outcome();
      // Accepted programs' train means (the Pareto set is the whole train split below 40 examples).
      const programs: Run['programs'] = [];
      const depthOf = (id: string): number => {
        const parent = parentOf.get(id);
        return parent === undefined ? 0 : 1 + depthOf(parent);
      };
      const charsOf = async (candidate: Candidate) => {
        const texts = await shared.texts(Object.values(candidate));
        return Object.values(candidate).reduce((n, id) => n + (texts.get(id)?.length ?? 0), 0);
      };
      for (const [id, candidate] of scored) {
        const outputs = await store.outputs(id, snap.trainIds);
        const val = mean([...outputs.values()].map((o) => o.score));
        programs.push({
          val,
          truth: (await truthOf(candidate)).overall,
          chars: await charsOf(candidate),
          depth: depthOf(id),
        });
      }
      const pick = await truthOf(outcome.best);
      const top = programs.filter((p) => Math.abs(p.val - outcome.bestScore) < 1e-9);
      const shortest = top.length ? top.reduce((b, p) => (p.chars < b.chars ? p : b)) : null;
      const pickPoint = outcome.trajectory.find((p) => p.candidateId === outcome.bestCandidateId);
      out.push({
        scenario: snap.scenario,
        seed: snap.seed,
        runSeed,
        settings: text,
        train: snap.trainIds.length,
        maxRollouts: plan.maxRollouts,
        rollouts: outcome.rollouts,
        teacherCalls: outcome.teacherCalls,
        reflections,
        tried,
        accepted: scored.size - 1,
        stopReason: outcome.stopReason,
        pickId: outcome.bestCandidateId,
        pickVal: outcome.bestScore,
        pickTruth: pick.overall,
        pickRollouts: pickPoint?.rollouts ?? 0,
        tiedAtTop: top.length,
        tiedTruthMin: Math.min(...top.map((p) => p.truth)),
        tiedTruthMax: Math.max(...top.map((p) => p.truth)),
        brokenRules: Object.entries(pick.byRule)
          .filter(([, v]) => v < 0.5)
          .map(([k]) => k),
        pickByRule: pick.byRule,
        pickRoutine: pick.routine,
        shortestTruth: shortest?.truth ?? null,
        shortestChars: shortest?.chars ?? null,
        pickChars: await charsOf(outcome.best),
        programs,
      });
      const r = out[out.length - 1]!;
      if (runSeed === snap.runSeed)
        console.log(
          `  ${text} (the cycle's seed): pick val ${r.pickVal.toFixed(3)} truth ${r.pickTruth.toFixed(3)}, ` +
            `${r.rollouts}/${r.maxRollouts} rollouts, ${r.reflections} reflections, ${r.tried} tried, ${r.accepted} accepted, ${r.stopReason}`,
        );
    }
    const runs = out.filter(
      (r) => r.seed === snap.seed && r.scenario === snap.scenario && r.settings === text,
    );
    const f = (xs: number[]) => `${median(xs).toFixed(3)} (mean ${mean(xs).toFixed(3)})`;
    console.log(
      `  ${text}: plan ${plan.maxRollouts} rollouts (${plan.proposals} proposals × ≤${plan.rolloutsPerProposal}); ` +
        `pick truth ${f(runs.map((r) => r.pickTruth))}, val ${f(runs.map((r) => r.pickVal))}; ` +
        `rollouts ${median(runs.map((r) => r.rollouts))}, reflections ${median(runs.map((r) => r.reflections))}, ` +
        `tried ${median(runs.map((r) => r.tried))}, accepted ${median(runs.map((r) => r.accepted))}, ` +
        `≥90% of oracle ${runs.filter((r) => r.pickTruth >= 0.9 * oracle).length}/${runs.length}; ` +
        `ties at top ${median(runs.map((r) => r.tiedAtTop))} (truth spread ${median(runs.map((r) => r.tiedTruthMax - r.tiedTruthMin)).toFixed(3)})`,
    );
  }
}
// Per run without its programs' list (the tie and spread figures above summarise it).
const runs = args['keep-programs'] ? out : out.map(({ programs: _, ...run }) => run);
if (args.out)
  writeFileSync(args.out, JSON.stringify({ command: process.argv.slice(2).join(' '), runs }, null, 1));
