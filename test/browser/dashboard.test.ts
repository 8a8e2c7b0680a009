import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Worker } from '@temporalio/worker';
import type { ApiServer } from '../../api/http-server.js';
import type { AgentKpis, CycleKpis } from '../../cycles/cycle-kpis.js';
import { annotationItems, approveCycle, startCycle, submitAnnotations } from '../../cycles/cycle-service.js';
import type { OptimizationProgress } from '../../optimization/optimization-progress-service.js';
import { updateAgentConfig } from '../../registry/store/agent-repository.js';
import type { CycleInputArg } from '../../schemas/cycle-input.js';
import { ensureConsoleBuilt } from '../../scripts/console-build.js';
import { personWithPassword, personWithToken } from '../helpers/api-credentials.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { keyToFrameMs, seedBigQueue } from '../helpers/big-queue.js';
import { asPerson } from '../helpers/test-decision-keys.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { truthfulLabels } from '../helpers/truthful-labels.js';
import { CHROMIUM, SCREENSHOTS, checkPage } from '../helpers/browser-checks.js';
import { signedInPage } from '../helpers/browser-session.js';

const QUEUE_ITEMS = 1_000;

/**
 * Quick released cycles (random search on a small budget, a gate any improvement passes, a
 * two-step rollout without analysis): this file is about what the dashboard draws from
 * finished cycles, not about the gate or the rollout, which have their own tests.
 */
const cycleInput = (seed: number) =>
  ({
    agent: 'demo',
    seed,
    sampleRate: 0.4,
    maxAnnotationItems: 5,
    annotationDeadlineSeconds: 600,
    approvalDeadlineSeconds: 600,
    optimizer: {
      choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
      budget: { maxRollouts: 200 },
    },
    gate: {
      // The code check's weight makes the composite (lift, measured success) of a trusted
      // dimension: five labels do not calibrate the judge enough to count in it.
      assertions: [{ dimension: 'outcome_match', metric: 'mean' as const, threshold: 0, weight: 1 }],
      nonRegression: { tolerance: 1 },
      holdout: { maxDrop: 1 },
      requireImprovement: null,
    },
    rollout: { steps: [{ setWeight: 50 }, { setWeight: 100 }] },
  }) satisfies CycleInputArg;

/** Every chart's data table as the page shows it: title → rows of the cells' exact values. */
async function chartTables(page: Page): Promise<Record<string, (number | null)[][]>> {
  const out: Record<string, (number | null)[][]> = {};
  for (const figure of await page.locator('figure.chart').all()) {
    const title = (await figure.locator('figcaption').textContent()) ?? '';
    out[title] = await Promise.all(
      (await figure.locator('.chart-data tbody tr').all()).map(async (row) =>
        Promise.all(
          (await row.locator('td').all()).map(async (td) => {
            const v = (await td.getAttribute('data-value')) ?? '';
            return v === '' ? null : Number(v);
          }),
        ),
      ),
    );
  }
  return out;
}

/** What each dashboard chart must show, from the API's answer, oldest cycle first. */
function expectedCharts(kpis: AgentKpis): Record<string, (number | null)[][]> {
  const cycles = [...kpis.perCycle].reverse();
  const rows = (f: (c: CycleKpis) => (number | null)[]) => cycles.map(f);
  return {
    'Measured success per cycle': rows((c) => [
      c.success.gateProduction,
      c.success.gateCandidate,
      c.success.onlineProduction,
      c.success.onlineCandidate,
    ]),
    'Lift per cycle (candidate − production)': rows((c) => [c.lift.gateDelta, c.lift.onlineDelta]),
    'Loop time: oldest sampled trace to production': rows((c) => [c.loopHours]),
    'Annotation queue drain': rows((c) => [
      c.annotation?.drained ?? null,
      c.annotation?.hoursToQuorum ?? null,
    ]),
    'Canary success rate (finished rollouts promoted, to date)': rows((c) => [c.canarySuccessRateToDate]),
    'Judge agreement with reviewers': rows((c) => [
      c.judgeAgreement?.kappa ?? null,
      c.judgeAgreement?.accuracy ?? null,
    ]),
    'Cost per cycle': rows((c) => [c.cost.judgeCostUsd, c.cost.optimizerTokens]),
  };
}

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};

describe('agent dashboard and optimizer progress in Chromium on a real stack', () => {
  let stack: TestStack;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let browser: Browser;
  const stamp = Date.now();
  const cycleIds = [`cycle-demo-dash-1-${stamp}`, `cycle-demo-dash-2-${stamp}`];
  let vera: { user: string; password: string };
  const outcomes: string[] = [];
  const pageProblems: string[] = [];
  /** Every asset the pages asked for, in order: the chart chunk must come only with a chart. */
  const assets: string[] = [];

  const signedIn = (path = '/console/'): Promise<Page> =>
    signedInPage(browser, api.url, vera, {
      path,
      problems: pageProblems,
      viewport: { width: 1280, height: 900 },
      onPage: (page) =>
        page.on('request', (request) => {
          if (request.url().includes('/console/assets/')) assets.push(new URL(request.url()).pathname);
        }),
    });

  /**
   * One cycle run as people would: a reviewer labels its queue truthfully, and when the gate
   * passes an approver approves. Its outcome: released, or no_candidate when the optimizer
   * found nothing better than a production prompt an earlier cycle already improved.
   */
  async function runCycle(cycleId: string, seed: number): Promise<string> {
    const client = stack.env.client;
    await startCycle(client, { taskQueue: stack.taskQueue, workflowId: cycleId, input: cycleInput(seed) });
    const queued = await waitForStage(client, cycleId, ['awaiting_annotation', 'done'], 240_000);
    assert.equal(queued.stage, 'awaiting_annotation', `${cycleId} ended ${queued.outcome}`);
    const labels = truthfulLabels(stack.scenario, await annotationItems(stack.db, cycleId), 'dashboard test');
    await submitAnnotations(stack.db, client, cycleId, { reviewer: 'rita', labels });
    const gated = await waitForStage(client, cycleId, ['awaiting_approval', 'done'], 240_000);
    if (gated.stage === 'awaiting_approval')
      await approveCycle(client, cycleId, { comment: 'dashboard test' }, asPerson('ana'));
    return ((await client.workflow.getHandle(cycleId).result()) as { outcome: string }).outcome;
  }

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureConsoleBuilt();
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 41 }));
    await updateAgentConfig(
      stack.db,
      'demo',
      { patch: { approval: { approvers: ['ana'], requiredApprovals: 1 } } },
      'test',
      'one approver releases the dashboard test cycles',
    );
    vera = await personWithPassword(stack.db, 'vera', 'viewer');
    worker = await stack.newWorker();
    running = worker.run();
    // An agent has one live rollout: the second cycle starts after the first released.
    outcomes.push(await runCycle(cycleIds[0]!, 31));
    assert.equal(outcomes[0], 'released');
    outcomes.push(await runCycle(cycleIds[1]!, 32));
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  after(async () => {
    await browser?.close();
    for (const id of cycleIds)
      await stack?.env.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined);
    worker?.shutdown();
    await running?.catch(() => undefined);
    await stopSeededStack({ stack, api });
  });

  it("the home page links each agent to its dashboard, which draws every KPI over the agent's cycles as the API answers them", async () => {
    const page = await signedIn();
    const agents = page.getByRole('region', { name: 'Agents' });
    await agents.getByRole('link', { name: 'demo', exact: true }).waitFor();
    assert.equal(
      assets.filter((a) => a.includes('uplot-render')).length,
      0,
      'the first page does not download the chart library',
    );
    await agents.getByRole('link', { name: 'demo', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Agent dashboard: demo' }).waitFor();
    await page.locator('.chart-canvas[data-chart-state="drawn"]').nth(6).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('.chart-canvas[data-chart-state="drawn"] canvas').count(), 7);
    assert.ok(
      assets.some((a) => a.includes('uplot-render')),
      'the chart chunk is loaded with the first chart',
    );

    const kpis = (await (
      await page.context().request.get(`${api.url}/api/agents/demo/kpis?cycles=26`)
    ).json()) as AgentKpis;
    assert.equal(kpis.cycles, 2);
    assert.equal(kpis.releases, outcomes.filter((o) => o === 'released').length);
    assert.deepEqual(
      kpis.perCycle.map((c) => c.cycleId),
      [...cycleIds].reverse(),
    );
    // Real figures, not placeholders: every cycle was labelled by a reviewer and optimized; a
    // released one was also gated and promoted.
    for (const c of kpis.perCycle) {
      assert.ok(c.judgeAgreement !== null, `the reviewer labels calibrated the judge in ${c.cycleId}`);
      assert.ok(c.cost.rollouts > 0, `the optimizer spent rollouts in ${c.cycleId}`);
      if (c.outcome !== 'released') continue;
      assert.ok(
        c.success.gateCandidate !== null && c.success.gateProduction !== null,
        'gate success measured',
      );
      assert.ok(c.lift.gateDelta !== null, 'gate lift measured');
      assert.ok(c.loopHours !== null && c.loopHours > 0, 'a released cycle has a loop time');
      assert.equal(c.rollout, 'completed');
    }
    assert.deepEqual(await chartTables(page), expectedCharts(kpis));

    // Every chart has a title, axis labels drawn by the library, and a summary for screen readers.
    const first = page.getByRole('figure', { name: 'Measured success per cycle' });
    assert.match((await first.locator('.chart-summary').textContent()) ?? '', /Candidate at the gate: /);
    assert.ok((await first.locator('.u-axis').count()) >= 2, 'x and y axes');
    assert.equal(await first.locator('.chart-canvas').getAttribute('aria-hidden'), 'true');
    const headings = await page.locator('figure.chart figcaption').allTextContents();
    assert.equal(headings.length, 7);
    await page.getByText('Data table: Lift per cycle (candidate − production)').click();
    await page.getByRole('table', { name: 'Lift per cycle (candidate − production)' }).waitFor();
    await checkPage(page, 'agent-dashboard');

    // The cycle list links to each cycle.
    await page.getByRole('region', { name: 'Cycles' }).getByRole('link', { name: cycleIds[1]! }).click();
    await page.getByRole('heading', { level: 1, name: `Cycle ${cycleIds[1]!}` }).waitFor();
    await page.context().close();
  });

  it("the cycle page draws the optimizer's best score over rollouts as the API stores it", async () => {
    const cycleId = cycleIds[0]!;
    const page = await signedIn(`/console/cycles/${cycleId}`);
    const section = page.getByRole('region', { name: 'Optimizer progress' });
    await section.locator('.chart-canvas[data-chart-state="drawn"] canvas').waitFor({ timeout: 15_000 });
    const { runs } = (await (
      await page.context().request.get(`${api.url}/api/cycles/${cycleId}/optimization`)
    ).json()) as { runs: OptimizationProgress[] };
    assert.equal(runs.length, 1);
    const run = runs[0]!;
    assert.ok(run.points.length > 0, 'the optimizer stored its trajectory');
    const tables = await chartTables(page);
    const table = tables[`${run.optimizer}: best score over rollouts`];
    assert.ok(table, `a progress chart among ${Object.keys(tables).join(', ')}`);
    // One row per distinct rollout count (plus the end of the run), best so far first.
    const byRollouts = new Map(run.points.map((p) => [p.rollouts, p]));
    const expected = [...byRollouts.values()].map((p) => [p.best, p.score, run.baselineScore]);
    const last = run.points[run.points.length - 1]!;
    if (run.rollouts > last.rollouts) expected.push([last.best, null, run.baselineScore]);
    assert.deepEqual(table, expected);
    await section.getByText(`Data table: ${run.optimizer}: best score over rollouts`).click();
    await checkPage(page, 'cycle-optimizer-progress');
    await page.context().close();
  });

  it(`the queue page stays responsive with ${QUEUE_ITEMS.toLocaleString()} items: render and j/k between them`, async () => {
    const db = stack.db;
    // 1,000 more traces of the agent (copies of the seeded week under new IDs) in a queue of their own.
    const { queueId, traces } = await seedBigQueue(db, QUEUE_ITEMS, stamp);
    assert.equal(traces.length, QUEUE_ITEMS);
    // The answer sizes: every item in full (what the CLI reads) and the list's light shape.
    const quinn = { authorization: `Bearer ${(await personWithToken(db, 'quinn', 'viewer')).token}` };
    const fullText = await (await fetch(`${api.url}/api/queues/${queueId}/items`, { headers: quinn })).text();
    const listText = await (
      await fetch(`${api.url}/api/queues/${queueId}/item-summaries`, { headers: quinn })
    ).text();
    const fullBytes = Buffer.byteLength(fullText);
    const listBytes = Buffer.byteLength(listText);
    const listed = (JSON.parse(listText) as { items: Record<string, unknown>[] }).items;
    assert.equal(listed.length, QUEUE_ITEMS);
    assert.ok(
      listed.every((i) => !('input' in i) && !('output' in i) && typeof i.preview === 'string'),
      'the list carries a preview per item, no trace',
    );
    assert.ok(
      listBytes * 2 < fullBytes,
      `the list (${listBytes} B) weighs under half the full items (${fullBytes} B)`,
    );

    const page = await signedIn('/console/queues');
    // What the page asks the API for: the list's light route, then one item in full when opened.
    const asked: string[] = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/api/')) asked.push(path);
    });
    const started = Date.now();
    await page.goto(`${api.url}/console/queues/${queueId}`);
    await page
      .locator('a.item-link')
      .nth(QUEUE_ITEMS - 1)
      .waitFor({ timeout: 20_000 });
    const loadMs = Date.now() - started;
    assert.equal(await page.locator('a.item-link').count(), QUEUE_ITEMS);

    // Keyboard: each j moves focus one item down, timed from the key to the next frame.
    const keyMs = await keyToFrameMs(page);
    const activeText = () => page.evaluate<string>('document.activeElement?.textContent ?? ""');
    const focused = await activeText();
    // 100 × j from nothing focused lands on item 100 (index 99), 20 × k goes back to index 79.
    assert.equal(focused, traces[79]);
    // And as a person types it: Playwright's key presses, end to end through the browser.
    const pressStarted = Date.now();
    for (let i = 0; i < 20; i++) await page.keyboard.press('j');
    const pressMs = (Date.now() - pressStarted) / 20;
    assert.equal(await activeText(), traces[99]);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/items\//);
    // The opened item loads in full: its conversation shows.
    await page.getByRole('region', { name: 'Conversation' }).getByText(/./).first().waitFor();
    const opened = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    assert.ok(asked.includes(`/api/items/${encodeURIComponent(opened)}`), `asked ${asked.join(', ')}`);
    assert.ok(
      !asked.some((p) => p.endsWith('/items')),
      `the page never asks for every item in full: ${asked.join(', ')}`,
    );

    const figures = {
      items: QUEUE_ITEMS,
      fullItemsAnswerKB: Math.round(fullBytes / 1024),
      listAnswerKB: Math.round(listBytes / 1024),
      loadMs,
      keyMedianMs: Math.round(quantile(keyMs, 0.5) * 10) / 10,
      keyP95Ms: Math.round(quantile(keyMs, 0.95) * 10) / 10,
      keyMaxMs: Math.round(Math.max(...keyMs) * 10) / 10,
      playwrightPressMs: Math.round(pressMs * 10) / 10,
    };
    // The figures are reported, not asserted: speed is a benchmark's business (a timed test
    // on a shared 2-core machine fails on load, not on code). The target (a j/k move within
    // the 200 ms of a "good" interaction to next paint) is read from this line.
    console.log(`queue page with ${QUEUE_ITEMS} items: ${JSON.stringify(figures)}`);
    await page.goBack();
    await page.locator('a.item-link').first().waitFor();
    await checkPage(page, 'queue-1000-items');
    await page.context().close();
  });

  it('no page threw an error or hit the Content-Security-Policy', () => {
    assert.deepEqual(pageProblems, []);
  });
});
