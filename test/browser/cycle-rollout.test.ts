import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Worker } from '@temporalio/worker';
import type { ApiServer } from '../../api/http-server.js';
import { startCycle } from '../../cycles/cycle-service.js';
import { updateAgentConfig } from '../../registry/store/agent-repository.js';
import { ensureConsoleBuilt } from '../../scripts/console-build.js';
import { personWithPassword } from '../helpers/api-credentials.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { CHROMIUM, SCREENSHOTS, checkPage } from '../helpers/browser-checks.js';
import { signedInPage } from '../helpers/browser-session.js';

/** The Web UI address the API tells the console (config `web.temporalUiUrl`); only linked to. */
const TEMPORAL_UI = 'http://temporal-ui.example.test:8233';

/**
 * A cycle that reaches the approval quickly: the annotation deadline lets the judge's labels
 * stand, and the gate lets any candidate through (the gate has its own tests); this file is
 * about what approvers and operators see and do. The rollout's analysis has no live traffic
 * in a test, so it is inconclusive and pauses for a human; promoting it moves the weight to
 * 50 % and an indefinite pause holds it there for the abort.
 */
const cycleInput = {
  agent: 'demo',
  seed: 31,
  sampleRate: 0.4,
  maxAnnotationItems: 5,
  annotationDeadlineSeconds: 2,
  approvalDeadlineSeconds: 900,
  optimizer: {
    choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
    budget: { maxRollouts: 200 },
  },
  gate: {
    assertions: [{ dimension: 'outcome_match', metric: 'mean' as const, threshold: 0 }],
    nonRegression: { tolerance: 1 },
    holdout: { maxDrop: 1 },
    requireImprovement: null,
  },
  rollout: {
    steps: [
      { setWeight: 10 },
      { analysis: { intervalSeconds: 1, count: 1, inconclusiveLimit: 0 } },
      { setWeight: 50 },
      { pause: {} },
      { setWeight: 100 },
    ],
  },
};

describe('cycle and rollout pages in Chromium on a real stack', () => {
  let stack: TestStack;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let browser: Browser;
  const cycleId = `cycle-demo-release-${Date.now()}`;
  const rolloutId = `${cycleId}-rollout`;
  const people: Record<'ana' | 'ben' | 'otto' | 'vera', { user: string; password: string }> = {} as never;
  /** Errors the pages threw and Content-Security-Policy refusals: there must be none. */
  const pageProblems: string[] = [];

  /** A browser context per person (its own session cookie), signed in through the form. */
  const signedIn = (who: keyof typeof people, path = '/console/'): Promise<Page> =>
    signedInPage(browser, api.url, people[who], { path, problems: pageProblems });

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureConsoleBuilt();
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 23, temporalUiUrl: TEMPORAL_UI }));
    // The N-person rule: two of the agent's approvers must approve before the rollout starts.
    await updateAgentConfig(
      stack.db,
      'demo',
      {
        patch: {
          annotation: { onDeadline: 'proceed_on_judge' },
          approval: { approvers: ['ana', 'ben'], requiredApprovals: 2 },
        },
      },
      'test',
      'two approvers release through the console',
    );
    people.ana = await personWithPassword(stack.db, 'ana', 'approver', 'demo');
    people.ben = await personWithPassword(stack.db, 'ben', 'approver', 'demo');
    people.otto = await personWithPassword(stack.db, 'otto', 'operator', 'demo');
    people.vera = await personWithPassword(stack.db, 'vera', 'viewer');
    worker = await stack.newWorker();
    running = worker.run();
    await startCycle(stack.env.client, {
      taskQueue: stack.taskQueue,
      workflowId: cycleId,
      input: cycleInput,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const waiting = await waitForStage(stack.env.client, cycleId, ['awaiting_approval', 'done'], 180_000);
    assert.equal(waiting.stage, 'awaiting_approval', `cycle ended early: ${waiting.outcome}`);
  });
  after(async () => {
    await browser?.close();
    for (const id of [rolloutId, cycleId])
      await stack?.env.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined);
    worker?.shutdown();
    await running?.catch(() => undefined);
    await stopSeededStack({ stack, api });
  });

  it('a viewer reads the cycle waiting for approval, with no approve or reject button, and the API answers 403 to an approval', async () => {
    const page = await signedIn('vera', `/console/cycles/${cycleId}`);
    await page.getByRole('heading', { level: 1, name: `Cycle ${cycleId}` }).waitFor();
    await page.getByText('Approving or rejecting a release needs the approver role').waitFor();
    assert.equal(await page.getByRole('button', { name: /Approve|Reject/ }).count(), 0);
    const request = page.context().request;
    const me = (await (await request.get(`${api.url}/api/me`)).json()) as { session: { csrfToken: string } };
    const approve = await request.post(`${api.url}/api/cycles/${cycleId}/approve`, {
      headers: { 'x-csrf-token': me.session.csrfToken },
      data: {},
    });
    assert.equal(approve.status(), 403);
    await page.context().close();
  });

  it('two approvers read the gate report and the prompt diff and approve; the page follows the cycle into its rollout without a reload', async () => {
    const ana = await signedIn('ana');
    const waiting = ana.getByRole('region', { name: 'Cycles waiting for my approval' });
    await waiting.getByRole('link', { name: cycleId }).click();
    await ana.getByRole('heading', { level: 1, name: `Cycle ${cycleId}` }).waitFor();
    // The gate report: verdict, assertions failing first, slices; and the diff of the prompts.
    const gate = ana.getByRole('region', { name: 'Regression gate' });
    await gate.getByRole('table', { name: 'Assertions, failing first' }).waitFor();
    assert.match((await gate.textContent()) ?? '', /Verdict:\s*pass/);
    assert.ok((await gate.getByRole('row').count()) > 1, 'assertions are listed');
    const diff = ana.getByRole('region', { name: 'Candidate prompt against production' });
    await diff.locator('pre.diff').waitFor();
    assert.match((await diff.textContent()) ?? '', /version \d+ \(production\) → version \d+ \(candidate\)/);
    assert.ok((await diff.locator('pre.diff .added').count()) > 0, 'the candidate adds lines');
    // Stages so far, the current one marked.
    assert.equal(
      (await ana.locator('.timeline li[aria-current="step"]').textContent())?.startsWith('awaiting approval'),
      true,
    );
    const temporal = ana.getByRole('link', { name: 'Open in the Temporal Web UI' });
    assert.equal(
      await temporal.getAttribute('href'),
      `${TEMPORAL_UI}/namespaces/${stack.env.namespace ?? 'default'}/workflows/${cycleId}`,
    );
    await checkPage(ana, 'cycle-awaiting-approval');

    // A rejection needs a reason: the form says so and sends nothing.
    await ana.getByRole('button', { name: 'Reject' }).click();
    await ana.getByRole('alert').filter({ hasText: 'Say why you reject' }).waitFor();
    await ana.getByLabel(/Comment \(approval\)/).fill('Gate and diff look right.');
    await ana.getByRole('button', { name: 'Approve release' }).click();
    await ana.getByRole('status').filter({ hasText: 'Your approval counted: 1 of 2 needed.' }).waitFor();
    await ana.getByText('1 of 2 approvals (ana)').waitFor();

    const ben = await signedIn('ben', `/console/cycles/${cycleId}`);
    await ben.getByRole('button', { name: 'Approve release' }).click();
    await ben.getByRole('status').filter({ hasText: 'Recorded: approved' }).waitFor();

    // Ana's page, untouched since her approval, shows the stage change from its polling.
    await ana.getByText('Current stage: rolling out').waitFor({ timeout: 15_000 });
    await ana.getByText(/2 of 2 approvals \((ana, ben|ben, ana)\)/).waitFor();
    await ana.getByRole('link', { name: `Open the rollout ${rolloutId}` }).waitFor({ timeout: 15_000 });
    const approvals = await stack.db
      .selectFrom('approvals')
      .select(['approver', 'comment'])
      .where('cycle_id', '=', cycleId)
      .orderBy('approver')
      .execute();
    assert.deepEqual(approvals, [
      { approver: 'ana', comment: 'Gate and diff look right.' },
      { approver: 'ben', comment: null },
    ]);
    await ana.getByRole('link', { name: `Open the rollout ${rolloutId}` }).click();
    await ana.getByRole('heading', { level: 1, name: `Rollout ${rolloutId}` }).waitFor();
    await ana.context().close();
    await ben.context().close();
  });

  it('the rollout page shows its steps, weight and analysis as they advance; a viewer sees no controls; an operator promotes, then aborts and sees the rollback', async () => {
    const otto = await signedIn('otto', `/console/rollouts/${rolloutId}`);
    await otto.getByRole('heading', { level: 1, name: `Rollout ${rolloutId}` }).waitFor();
    const steps = otto.getByRole('region', { name: 'Steps' });
    // The heading comes from the address; the steps arrive with the rollout's answer.
    await steps.getByRole('listitem').first().waitFor();
    assert.deepEqual(
      (await steps.getByRole('listitem').allTextContents()).map((t) => t.split(' ')[0]),
      ['setWeight', 'analysis', 'setWeight', 'pause', 'setWeight'],
    );
    // The analysis finds no live traffic in a test: inconclusive, so the rollout pauses at 10 %.
    const now = otto.getByRole('region', { name: 'Now' });
    await now.getByText(/paused · candidate weight 10%/).waitFor({ timeout: 30_000 });
    const analyses = otto.getByRole('region', { name: 'Analyses and measurements' });
    const first = analyses.getByRole('article', { name: /Step 2 \(analysis\), round 1/ });
    await first.waitFor({ timeout: 10_000 });
    assert.match((await first.textContent()) ?? '', /inconclusive/);
    assert.ok((await first.getByRole('row').count()) > 1, 'each metric is a row');
    await checkPage(otto, 'rollout-paused');

    const vera = await signedIn('vera', `/console/rollouts/${rolloutId}`);
    await vera.getByRole('region', { name: 'Steps' }).waitFor();
    assert.equal(await vera.getByRole('button', { name: /Abort|Promote/ }).count(), 0);
    await vera.context().close();

    // Promote past the inconclusive analysis: the weight goes to 50 % and holds on the pause step.
    await otto.getByLabel('Reason (kept in the audit log)').fill('no traffic in the test; go on');
    await otto.getByRole('button', { name: 'Promote' }).click();
    await now.getByText(/candidate weight 50%/).waitFor({ timeout: 20_000 });
    await otto.locator('.timeline li[aria-current="step"]').filter({ hasText: 'pause' }).waitFor();

    await otto.getByLabel('Reason (kept in the audit log)').fill('stopping the test rollout');
    await otto.getByRole('button', { name: 'Abort and roll back' }).click();
    await now.getByText(/rolled back · candidate weight 0%/).waitFor({ timeout: 20_000 });
    assert.equal(await otto.getByRole('button', { name: 'Abort and roll back' }).count(), 0);
    assert.match(
      (await otto.locator('.timeline li.stopped').textContent()) ?? '',
      /^pause .*rolled back here$/,
    );
    await checkPage(otto, 'rollout-rolled-back');

    const audit = await stack.db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('artifact', '=', `rollout:${rolloutId}`)
      .orderBy('created_at')
      .execute();
    assert.deepEqual(
      audit.filter((a) => a.actor === 'user:otto').map((a) => a.action),
      ['promote', 'abort'],
      JSON.stringify(audit),
    );
    // The cycle ends rolled back, and its page says so.
    await otto.getByRole('link', { name: `Cycle ${cycleId}` }).click();
    await otto.getByText('rolled back', { exact: true }).first().waitFor({ timeout: 20_000 });
    await otto.context().close();
  });

  it('no page threw an error or hit the Content-Security-Policy', () => {
    assert.deepEqual(pageProblems, []);
  });
});
