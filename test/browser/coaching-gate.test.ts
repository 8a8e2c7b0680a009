import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Worker } from '@temporalio/worker';
import type { ApiServer } from '../../api/http-server.js';
import { createCoaching } from '../../coaching/coaching-service.js';
import { situationEmbedderFor } from '../../coaching/situation-embedder.js';
import { startCycle } from '../../cycles/cycle-service.js';
import type { CycleGateReview } from '../../cycles/cycle-gate-service.js';
import { ensureConsoleBuilt } from '../../scripts/console-build.js';
import { personWithPassword } from '../helpers/api-credentials.js';
import { CHROMIUM, SCREENSHOTS, checkPage } from '../helpers/browser-checks.js';
import { signedInPage, type ConsolePerson } from '../helpers/browser-session.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';

/**
 * The coaching set on the cycle page's gate section, on a real stack (Temporal, PostgreSQL,
 * simulator, API): two candidate coaching memories, one scoped to basic-economy changes and
 * one worded so broadly ("mentions a reservation", hand to a person) that it misfires on
 * routine requests, are gated as a set by a cycle whose optimizer can afford no proposal
 * (as in test/integration/coaching-rollout.test.ts). An approver reads each member's
 * evidence in the members table, figure for figure as the API answers it.
 */
describe('the coaching set of a cycle gate in Chromium on a real stack', () => {
  let stack: TestStack;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let browser: Browser;
  const cycleId = `cycle-coaching-gate-${Date.now()}`;
  const people: Record<'ana', ConsolePerson> = {} as never;
  const ids = { scoped: '', broad: '' };
  const pageProblems: string[] = [];

  const signedIn = (who: keyof typeof people, path: string): Promise<Page> =>
    signedInPage(browser, api.url, people[who], { path, problems: pageProblems });

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureConsoleBuilt();
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 8 }));
    people.ana = await personWithPassword(stack.db, 'ana', 'approver', 'demo');
    const deps = { db: stack.db, embedder: situationEmbedderFor(stack.llm.embedder) };
    ids.scoped = (
      await createCoaching(
        deps,
        'demo',
        {
          situation: 'When a customer asks to move a basic economy flight',
          behaviour: {
            kind: 'reply',
            text: 'Basic economy flights cannot be changed; I can cancel it instead.',
          },
          candidate: true,
        },
        'user:rita',
      )
    ).coaching.id;
    ids.broad = (
      await createCoaching(
        deps,
        'demo',
        {
          situation: 'When a customer mentions a reservation',
          behaviour: { kind: 'transfer', reason: 'reservations go to a person' },
          // Low enough that most of the gate's conversations recall it.
          threshold: 0.01,
          candidate: true,
        },
        'user:rita',
      )
    ).coaching.id;
    worker = await stack.newWorker();
    running = worker.run();
    // The optimizer cannot afford a proposal: the set is gated alone, on the production prompt.
    await startCycle(stack.env.client, {
      taskQueue: stack.taskQueue,
      workflowId: cycleId,
      input: {
        agent: 'demo',
        seed: 21,
        sampleRate: 0.4,
        maxAnnotationItems: 5,
        annotationDeadlineSeconds: 2,
        approvalDeadlineSeconds: 900,
        optimizer: {
          choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
          budget: { maxRollouts: 1 },
        },
        gate: { requireImprovement: null },
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const waiting = await waitForStage(stack.env.client, cycleId, ['awaiting_approval', 'done'], 180_000);
    assert.equal(
      waiting.stage,
      'awaiting_approval',
      `the set was not gated through: ${waiting.outcome} ${JSON.stringify(waiting.gate)}`,
    );
  });
  after(async () => {
    await browser?.close();
    await stack?.env.client.workflow
      .getHandle(cycleId)
      .terminate('test done')
      .catch(() => undefined);
    worker?.shutdown();
    await running?.catch(() => undefined);
    await stopSeededStack({ stack, api });
  });

  it("an approver reads each member of the coaching set in the gate section, as the API's gate report has it", async () => {
    const page = await signedIn('ana', `/console/cycles/${cycleId}`);
    await page.getByRole('heading', { level: 1, name: `Cycle ${cycleId}` }).waitFor();
    const gate = page.getByRole('region', { name: 'Regression gate' });
    const table = gate.getByRole('table', { name: 'Candidate coaching, member by member' });
    await table.waitFor();

    // The gate report the console reads, fetched with the approver's own session.
    const answer = await page.context().request.get(`${api.url}/api/cycles/${cycleId}/gate-report`);
    assert.equal(answer.status(), 200);
    const { report } = (await answer.json()) as CycleGateReview;
    const coaching = report.coaching;
    assert.ok(coaching?.members, `the report has the members: ${JSON.stringify(coaching)}`);
    const members = coaching.members;
    const byId = new Map(members.map((m) => [m.id, m]));
    // The cycle produced what this test is about: the scoped memory kept, the broad one left out.
    assert.deepEqual([...byId.keys()].sort(), [ids.scoped, ids.broad].sort());
    assert.equal(byId.get(ids.scoped)?.kept, true, JSON.stringify(members));
    const broad = byId.get(ids.broad)!;
    assert.equal(broad.kept, false, JSON.stringify(members));
    assert.ok(broad.recalled > 0 && broad.worse > broad.better, JSON.stringify(broad));
    assert.equal(broad.retire, true, `made ${broad.worse} worse: retired, not only left out`);
    assert.deepEqual(coaching.set, [{ id: ids.scoped, version: 1 }]);
    assert.deepEqual(coaching.dropped, [{ id: ids.broad, version: 1 }]);

    // Headers a screen reader announces with each cell: a caption, column and row headers.
    assert.deepEqual(await table.getByRole('columnheader').allTextContents(), [
      'Coaching',
      'Recalled on',
      'Better',
      'Worse',
      'Result',
      'Detail',
    ]);
    // Each member's situation, as the agent's coaching list has it (the row says which memory it is).
    const list = await page.context().request.get(`${api.url}/api/agents/demo/coaching`);
    assert.equal(list.status(), 200);
    const situations = new Map(
      ((await list.json()) as { data: { id: string; situation: string }[] }).data.map((c) => [
        c.id,
        c.situation,
      ]),
    );
    const situation = (id: string) => situations.get(id) ?? assert.fail(`no coaching ${id} in the list`);
    assert.equal(situation(ids.broad), 'When a customer mentions a reservation');
    // Every row as a person reads it, in the report's order, figure for figure.
    const rows = table.locator('tbody tr');
    assert.equal(await rows.count(), members.length);
    for (const [i, m] of members.entries()) {
      const row = rows.nth(i);
      const header = row.getByRole('rowheader');
      await header.getByText(situation(m.id), { exact: true }).waitFor();
      const link = header.getByRole('link', { name: `${m.id} v${m.version}`, exact: true });
      assert.equal(await link.getAttribute('href'), `/console/agents/demo/coaching/${m.id}`);
      const cells = (await row.getByRole('cell').allTextContents()).map((t) => t.trim());
      assert.deepEqual(cells, [
        String(m.recalled),
        String(m.better),
        String(m.worse),
        m.kept ? 'kept' : m.retire ? 'left out, retired' : 'left out',
        m.detail,
      ]);
    }
    // The summary above the table counts what is released; the prompt itself did not change.
    assert.match(
      (await gate.textContent()) ?? '',
      new RegExp(
        `Coaching: ${coaching.active} active memor(y|ies) in both arms; 1 candidate memory in the set`,
      ),
    );
    const diff = page.getByRole('region', { name: 'Candidate prompt against production' });
    assert.match(
      (await diff.textContent()) ?? '',
      /version \d+ \(production\) → version \d+ \(candidate\): the same prompt, released with the coaching set above \(1 memory\); no line differs\./,
    );
    await checkPage(page, 'cycle-coaching-gate');
    await table.screenshot({ path: `${SCREENSHOTS}cycle-coaching-gate-members.png` });

    // The member left out links to its coaching page, which says the gate retired it.
    await table.getByRole('link', { name: `${broad.id} v${broad.version}` }).click();
    await page.getByRole('heading', { level: 1, name: `Coaching ${broad.id}` }).waitFor();
    await page.getByText(`gate ${cycleId}:gate left it out of the coaching set`).first().waitFor();
    await page.context().close();
  });

  it('no page threw an error or hit the Content-Security-Policy', () => {
    assert.deepEqual(pageProblems, []);
  });
});
