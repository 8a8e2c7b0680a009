import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { ApiServer } from '../../api/http-server.js';
import type { DriftFinding } from '../../evaluation/drift/drift-detector.js';
import { insertDriftAlert, saveDriftState } from '../../evaluation/store/drift-repository.js';
import { markEvaluated, recordOnlineRun } from '../../evaluation/store/online-evaluation-repository.js';
import { updateAgentConfig } from '../../registry/store/agent-repository.js';
import { ensureConsoleBuilt } from '../../scripts/console-build.js';
import { personWithPassword } from '../helpers/api-credentials.js';
import { CHROMIUM, SCREENSHOTS, checkPage } from '../helpers/browser-checks.js';
import { signedInPage, type ConsolePerson } from '../helpers/browser-session.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';

/**
 * The online evaluation page on a real API and database. What online evaluation and the drift
 * check store is written with their own repositories (their integration tests run them), so
 * this file is about what the page shows of it: the spend against the cap, the runs and their
 * pass rate, and an alert's evidence down to the traces that show it.
 */
describe('online evaluation and drift alerts in Chromium on a real stack', () => {
  let stack: TestStack;
  let api: ApiServer;
  let browser: Browser;
  let vera: ConsolePerson;
  let otto: ConsolePerson;
  const pageProblems: string[] = [];
  const alertId = `drift-demo-${Date.now()}`;
  let traces: string[] = [];

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureConsoleBuilt();
    ({ stack, api } = await startSeededStack({ traces: 60, seed: 43 }));
    const db = stack.db;
    await db.insertInto('agents').values({ id: 'other', config: '{}' }).execute();
    vera = await personWithPassword(db, 'vera', 'viewer', 'demo');
    otto = await personWithPassword(db, 'otto', 'viewer', 'other');
    await updateAgentConfig(
      db,
      'demo',
      {
        patch: {
          online: { enabled: true, sampleShare: 0.25, dailyCostCapUsd: 0.1 },
          drift: { enabled: true, startCycleOnAlert: false },
        },
      },
      'test',
      'online evaluation and drift alerts for the page test',
    );
    const rows = await db
      .selectFrom('traces')
      .select(['id', 'started_at'])
      .where('agent_id', '=', 'demo')
      .orderBy('started_at', 'desc')
      .limit(4)
      .execute();
    traces = rows.map((r) => r.id);
    const hour = 3_600_000;
    const now = Date.now();
    for (const [i, run] of [
      { scored: 8, failing: 2, cost: 0.015 },
      { scored: 2, failing: 0, cost: 0.01 },
    ].entries())
      await recordOnlineRun(db, {
        agent_id: 'demo',
        run_key: `online-test-${i}`,
        window_start: new Date(now - (i + 2) * hour),
        window_end: new Date(now - (i + 1) * hour),
        considered: 40,
        sampled: run.scored,
        scored: run.scored,
        failing: run.failing,
        skipped_for_cap: 0,
        judge_calls: run.scored,
        tokens: 1000 * run.scored,
        cost_usd: run.cost,
      });
    // Today's spend comes from the traces online evaluation looked at: $0.0250 of the $0.10 cap.
    for (const [i, r] of rows.slice(0, 2).entries())
      await markEvaluated(db, {
        trace_id: r.id,
        agent_id: 'demo',
        trace_started_at: r.started_at,
        run_key: `online-test-${i}`,
        failing: i === 0,
        judged: true,
        skipped_for_cap: false,
        judge_calls: 1,
        tokens: 1000,
        cost_usd: i === 0 ? 0.015 : 0.01,
      });
    await saveDriftState(db, {
      agent_id: 'demo',
      epoch_start: new Date(now - 7 * 24 * hour),
      prototypes: null,
      last_check_at: new Date(now - hour),
      last_check: { tested: true, traces: 120, minPValue: 1e-9, alpha: 1e-5 },
    });
    const finding: DriftFinding = {
      slice: 'rebooking',
      metric: 'judge_fail',
      test: 'fisher',
      before: 0.05,
      after: 0.4,
      referenceCount: 200,
      currentCount: 40,
      statistic: 16,
      pValue: 1e-9,
      alpha: 1e-5,
      sampleTraceIds: traces.slice(0, 2),
    };
    await insertDriftAlert(db, {
      id: alertId,
      agent_id: 'demo',
      at: new Date(now - hour),
      reference_start: new Date(now - 7 * 24 * hour),
      current_start: new Date(now - 25 * hour),
      findings: JSON.stringify([finding]),
      drifted_trace_ids: JSON.stringify(traces.slice(0, 3)),
      tests_counted: 21,
      cycle_id: null,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  after(async () => {
    await browser?.close();
    await stopSeededStack({ stack, api });
  });

  it('a viewer goes from the agent dashboard to online evaluation: spend against the cap, pass rate, runs, and an alert’s evidence down to its traces', async () => {
    const page = await signedInPage(browser, api.url, vera, {
      path: '/console/agents/demo',
      problems: pageProblems,
    });
    await page.getByRole('link', { name: 'Online evaluation and drift alerts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Online evaluation: demo' }).waitFor();

    const live = page.getByRole('region', { name: 'Live traffic' });
    await live.getByRole('definition').first().waitFor();
    const facts = (await live.getByRole('definition').allTextContents()).map((t) => t.replace(/\s+/g, ' '));
    assert.equal(facts[0], '25%');
    assert.match(facts[1] ?? '', /^\$0\.0250 of the \$0\.1000 daily cap .*\(25\.0%\)$/);
    assert.equal(
      facts[2],
      '80.0%: 8 of 10 traces scored in the latest 2 runs passed every evaluator',
      'the pass rate is over the runs shown, not a mean of their rates',
    );
    assert.equal(await live.locator('meter[aria-labelledby="spend-label"]').getAttribute('value'), '0.25');

    const runs = page.getByRole('table', { name: 'Online evaluation runs, newest first' });
    assert.equal(await runs.getByRole('row').count(), 3);
    assert.deepEqual(await runs.locator('tbody tr td:nth-child(6)').allTextContents(), ['75.0%', '100.0%']);

    const alert = page.getByRole('article', { name: new RegExp(`Alert ${alertId}`) });
    await alert.getByText('No cycle started; 3 drifted traces.', { exact: false }).waitFor();
    const findings = alert.getByRole('table', { name: `Findings of alert ${alertId}` });
    const cells = (await findings.locator('tbody td').allTextContents()).map((t) => t.trim());
    assert.deepEqual(cells.slice(0, 5), ['rebooking', 'online failure rate', '5.0%', '40.0%', '200 → 40']);
    await checkPage(page, 'online-evaluation');

    // Every drifted trace on demand, from the keyboard.
    const more = alert.getByRole('button', { name: 'Show the 3 drifted traces' });
    await more.focus();
    await page.keyboard.press('Enter');
    const drifted = alert.getByRole('list', { name: `Drifted traces of alert ${alertId}` });
    await drifted.waitFor();
    assert.deepEqual(
      (await drifted.getByRole('link').allTextContents()).map((t) => t.trim()),
      traces.slice(0, 3),
    );
    assert.equal(
      await alert.getByRole('button', { name: 'Hide the 3 drifted traces' }).getAttribute('aria-expanded'),
      'true',
    );

    // A sample trace of the finding opens its trace page.
    await findings.getByRole('link', { name: traces[0]!, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: `Trace ${traces[0]}` }).waitFor();
    await page.context().close();
  });

  it('a viewer of another agent gets 403 from the drift alert routes and sees the page’s error', async () => {
    const page = await signedInPage(browser, api.url, otto, {
      path: '/console/agents/demo/online',
      problems: pageProblems,
    });
    await page
      .getByRole('alert')
      .filter({ hasText: /Could not load online evaluation: .*needs the viewer role/ })
      .waitFor();
    const request = page.context().request;
    assert.equal((await request.get(`${api.url}/api/agents/demo/drift-alerts`)).status(), 403);
    assert.equal((await request.get(`${api.url}/api/agents/demo/drift-alerts/${alertId}`)).status(), 403);
    const own = await request.get(`${api.url}/api/agents/other/drift-alerts`);
    assert.equal(own.status(), 200);
    assert.deepEqual(((await own.json()) as { alerts: unknown[] }).alerts, []);
    await page.context().close();
  });

  it('no page threw an error or hit the Content-Security-Policy', () => {
    assert.deepEqual(pageProblems, []);
  });
});
