import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoachingIndexes } from '../../coaching/coaching-index-service.js';
import { CoachingRecall } from '../../coaching/coaching-recall-service.js';
import { createCoaching, promoteCoaching, retireCoaching } from '../../coaching/coaching-service.js';
import { localSituationEmbedder } from '../../coaching/situation-embedder.js';
import { importExamples } from '../../datasets/dataset-service.js';
import { seedDemoAgent } from '../../scripts/demo-seed.js';
import { GateEvalResult } from '../../schemas/gate-eval.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { junitSchemaErrors } from '../helpers/junit-schema.js';
import { simulatedRoles } from '../helpers/simulated-roles.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { AIRLINE_SCENARIO, loadScenario, type Scenario } from '../simulator/scenario.js';
import { SIMULATED_MODELS, startSimulator, type SimulatorServer } from '../simulator/simulator-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `flywheel eval` as a CI job runs it: a separate process with a checkout's prompt file, a
 * database URL, a personal token and the model endpoint (here the simulator), no Temporal
 * and no network. The dataset is the airline scenario's 72 examples with their tags as
 * slices, so the simulator's hidden rules decide what a prompt fixes or breaks.
 */
describe('flywheel eval gates a prompt file in CI', () => {
  let database: Awaited<ReturnType<typeof startTestDatabase>>;
  let simulator: SimulatorServer;
  let scenario: Scenario;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    database = await startTestDatabase();
    scenario = loadScenario(AIRLINE_SCENARIO);
    simulator = await startSimulator(scenario);
    const llm = simulatedRoles(simulator.url, database.db);
    await seedDemoAgent(database.db, llm.agent, scenario, { now: new Date(), traces: 20, days: 1, seed: 3 });
    const lines = scenario.examples.map((ex, i) =>
      JSON.stringify({
        key: ex.id,
        input: ex.request,
        expected: ex.expected,
        split: i % 6 === 5 ? 'holdout' : 'eval',
        slices: ex.tags.filter((t) => !t.startsWith('judge-')),
      }),
    );
    const imported = await importExamples(database.db, {
      agent: scenario.agentId,
      text: lines.join('\n'),
      createdBy: 'test',
    });
    assert.deepEqual(imported.errors, []);
    const { token } = await personWithToken(database.db, 'ci-bot', 'viewer', scenario.agentId);
    dir = mkdtempSync(path.join(tmpdir(), 'flywheel-eval-'));
    env = {
      ...process.env,
      DATABASE_URL: database.url,
      FLYWHEEL_TOKEN: token,
      // No `flywheel dev` of this machine stands in for the settings above.
      FLYWHEEL_HOME: path.join(dir, 'home'),
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      FLYWHEEL_LLM_BASE_URL: simulator.url,
      FLYWHEEL_LLM_API_KEY: 'simulator',
      FLYWHEEL_AGENT_MODEL: SIMULATED_MODELS.agent,
      FLYWHEEL_JUDGE_MODEL: SIMULATED_MODELS.judge,
      FLYWHEEL_TEACHER_MODEL: SIMULATED_MODELS.teacher,
    };
  });

  after(async () => {
    await simulator?.close();
    await database?.teardown();
  });

  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  /** The production prompt with `extra` lines: what a pull request changes in a prompt file. */
  const promptWith = (name: string, ...extra: string[]) =>
    file(name, [scenario.basePrompt, ...extra].join('\n'));
  const fixOf = (rule: string) => scenario.rules.find((r) => r.id === rule)!.fixingPhrases[0]!;

  const flywheel = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        path.join(ROOT, 'node_modules/.bin/tsx'),
        ['scripts/flywheel.ts', 'eval', ...args],
        { cwd: ROOT, env },
      );
      return { code: 0, stdout, stderr };
    } catch (e) {
      const failed = e as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  };

  it('passes a candidate that fixes a rule (exit 0), with JUnit that validates and a Markdown comment', async () => {
    const junit = path.join(dir, 'pass.xml');
    const markdown = path.join(dir, 'pass.md');
    const prompt = promptWith('fixed.txt', fixOf('identify_user_first'));
    const run = await flywheel('--prompt', prompt, '--junit', junit, '--markdown', markdown);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^flywheel eval demo: PASS\n/);
    assert.match(run.stdout, /run by user:ci-bot/, 'who ran it comes from the token');
    assert.deepEqual(await junitSchemaErrors(readFileSync(junit, 'utf8')), []);
    assert.match(readFileSync(markdown, 'utf8'), /^## ✅ Flywheel eval — demo: PASS/);
  });

  it('fails a candidate with an over-broad phrase on the routine slice and names it (exit 1)', async () => {
    const junit = path.join(dir, 'fail.xml');
    const prompt = promptWith('over-broad.txt', scenario.overBroad[0]!.phrase);
    const run = await flywheel('--prompt', prompt, '--json', '--junit', junit);
    assert.equal(run.code, 1, run.stderr);
    const result = GateEvalResult.parse(JSON.parse(run.stdout));
    assert.equal(result.verdict, 'fail');
    const routine = result.axes.find((x) => x.slice === 'routine' && x.dimension === 'outcome_match');
    assert.ok(routine, `the routine slice is named: ${JSON.stringify(result.axes.map((x) => x.assertion))}`);
    assert.equal(routine.outcome, 'fail');
    const xml = readFileSync(junit, 'utf8');
    assert.deepEqual(await junitSchemaErrors(xml), []);
    assert.match(xml, /<testcase name="no_regression:outcome_match\[routine\]"[^>]*>\s*<failure /);

    const table = await flywheel('--prompt', prompt);
    assert.equal(table.code, 1);
    assert.match(table.stdout.split('\n')[0]!, /^flywheel eval demo: FAIL on outcome_match \[[^\]]*routine/);
    assert.match(table.stdout, /FAIL\s+outcome_match\s+slice routine\s+outcome_match on slice routine Δ −/);
  });

  it('is inconclusive when the gate rests on an uncalibrated judge (exit 2)', async () => {
    const gate = file('gate.json', JSON.stringify({ uncalibratedJudges: 'inconclusive' }));
    const prompt = promptWith(
      'fixed-again.txt',
      fixOf('identify_user_first'),
      fixOf('basic_economy_no_changes'),
    );
    const run = await flywheel('--prompt', prompt, '--gate', gate);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /^flywheel eval demo: INCONCLUSIVE on task_completion \[all[^\n]*\(first: calibration:task_completion\)\n/,
    );
    assert.match(
      run.stdout,
      /the task_completion judge cannot gate: no agreement with reviewers measured yet/,
    );
  });

  it('gates candidate coaching: scoped to its situation it passes (exit 0), an over-broad one is left out of the set, alone it fails (exit 1); production recalls it only once promoted', async () => {
    const agent = scenario.agentId;
    const deps = { db: database.db, embedder: localSituationEmbedder() };
    const request = scenario.examples.find((e) => e.rule === 'basic_economy_no_changes')!.request;
    const { coaching: scoped } = await createCoaching(
      deps,
      agent,
      {
        situation: 'When a customer asks to move a basic economy flight',
        behaviour: {
          kind: 'reply',
          text: 'Basic economy flights cannot be changed; I can cancel it instead.',
        },
        candidate: true,
      },
      'user:reviewer',
    );
    assert.equal(scoped.status, 'candidate');
    const indexes = new CoachingIndexes(database.db, deps.embedder);
    const production = new CoachingRecall(indexes);
    const served = () =>
      production.recall(agent, { messages: [{ role: 'user', content: request }], k: 3, maxTokens: 1000 });
    try {
      assert.deepEqual((await served()).coaching, [], 'a candidate is not recalled in production');

      const pass = await flywheel('--coaching', 'candidates', '--json');
      assert.equal(pass.code, 0, pass.stdout + pass.stderr);
      const passed = GateEvalResult.parse(JSON.parse(pass.stdout));
      assert.deepEqual(passed.candidate, { source: 'production', ref: 'production' });
      assert.deepEqual(passed.coaching, { active: 0, candidates: 1 });
      const modification = passed.report.slices?.find(
        (x) => x.slice === 'modification' && x.dimension === 'outcome_match',
      );
      assert.ok(
        modification && (modification.delta ?? 0) > 0,
        `the coached situation improves: ${JSON.stringify(modification)}`,
      );
      const member = passed.report.coaching?.members?.[0];
      assert.ok(member && member.id === scoped.id && member.kept, JSON.stringify(passed.report.coaching));
      assert.ok(member.better > 0 && member.worse === 0, `recalled where it helps: ${member.detail}`);
      const gain = passed.report.assertions.find((a) => a.name === 'improves:outcome_match');
      assert.match(
        gain?.detail ?? '',
        /^on the \d+ eval examples that recalled a member of the coaching set: /,
      );

      const { coaching: broad } = await createCoaching(
        deps,
        agent,
        {
          situation: 'When a customer mentions a reservation',
          behaviour: { kind: 'transfer', reason: 'reservations go to a person' },
          threshold: 0.01,
          candidate: true,
        },
        'user:reviewer',
      );
      // Gated together, the over-broad one is left out and the set decided without it.
      const both = await flywheel('--coaching', 'candidates');
      assert.equal(both.code, 0, both.stdout + both.stderr);
      assert.match(
        both.stdout,
        /candidate production production with 2 candidate coaching \(both with the 0 active\)/,
      );
      assert.match(
        both.stdout,
        new RegExp(
          `${broad.id} v1 +\\d+ +\\d+ +[1-9]\\d* +LEFT OUT +recalled on \\d+ eval examples: \\d+ better, [1-9]\\d* worse`,
        ),
        'the over-broad member is named as the one left out',
      );
      assert.match(both.stdout, new RegExp(`${scoped.id} v1 .* kept `));

      await promoteCoaching(deps, agent, scoped.id, { reason: 'flywheel eval passed' }, 'user:approver');
      await indexes.invalidate(agent);
      assert.deepEqual(
        (await served()).coaching.map((c) => c.id),
        [scoped.id],
        'promoted, production recalls it',
      );
      // Alone, the over-broad one leaves nothing to release: the build fails.
      const fail = await flywheel('--coaching', 'candidates');
      assert.equal(fail.code, 1, fail.stdout + fail.stderr);
      assert.match(fail.stdout.split('\n')[0]!, /^flywheel eval demo: FAIL/);
      assert.match(fail.stdout, /coaching_set_kept/);
      await retireCoaching(deps, agent, broad.id, { reason: 'too broad' }, 'user:reviewer');

      // Now active, it is in both arms: nothing left to gate.
      const none = await flywheel('--coaching', 'candidates');
      assert.equal(none.code, 3);
      assert.match(none.stderr, /has no candidate coaching to gate: create some with/);
      await assert.rejects(
        promoteCoaching(deps, agent, scoped.id, { reason: 'again' }, 'user:approver'),
        /is active \(v2\), not a candidate: only a candidate is promoted; nothing was changed/,
      );
    } finally {
      indexes.stop();
      await retireCoaching(deps, agent, scoped.id, { reason: 'test done' }, 'user:reviewer').catch(
        () => undefined,
      );
    }
  });

  it('answers bad input with exit 3 and what to do, before any model call', async () => {
    const cases: [string[], RegExp][] = [
      [['--prompt', path.join(dir, 'missing.txt')], /Cannot read .*missing\.txt: does the file exist\?/],
      [
        ['--prompt', file('bad.json', '{"prompt": ')],
        /bad\.json is not valid JSON .*\{"prompt": \.\.\., "config"/,
      ],
      [['--prompt', file('empty.txt', '\n')], /empty\.txt is empty/],
      [['--label', 'nightly'], /No version of prompt "demo" has the label "nightly"/],
      [['--version', '9'], /Prompt "demo" has no version 9; its versions are 1 to 1/],
      [
        ['--label', 'production', '--gate', file('bad-gate.json', '{"minEvalExamples": 0}')],
        /gate configuration in .*bad-gate\.json is invalid \(minEvalExamples must be ≥ 1\); fix /,
      ],
      [['--label', 'production', '--fail-on', 'tone'], /--fail-on names unknown dimension\(s\) tone/],
      [['--label', 'production', '--dataset', 'nope'], /No dataset version "nope"/],
      // A token for one agent learns nothing of another, not even whether it exists.
      [
        ['--label', 'production', '--agent', 'ghost'],
        /user:ci-bot may not evaluate a prompt of ghost: that needs the viewer role/,
      ],
      [[], /Name the candidate: --prompt <file>/],
      [['--prompt', 'a.txt', '--label', 'x'], /Name one candidate, not --prompt and --label/],
      [['--coaching', 'all'], /--coaching takes "candidates" .*not "all"/],
      [['--label', 'production', '--no-such-option'], /unknown option '--no-such-option'/],
    ];
    for (const [args, message] of cases) {
      const run = await flywheel(...args);
      assert.equal(run.code, 3, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
    }
    const saved = env.FLYWHEEL_TOKEN;
    delete env.FLYWHEEL_TOKEN;
    try {
      const run = await flywheel('--label', 'production');
      assert.equal(run.code, 3);
      assert.match(run.stderr, /Not signed in: run `flywheel login` or set FLYWHEEL_TOKEN/);
    } finally {
      env.FLYWHEEL_TOKEN = saved;
    }
  });
});
