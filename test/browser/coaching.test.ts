import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { ensureConsoleBuilt } from '../../scripts/console-build.js';
import { personWithPassword, personWithToken } from '../helpers/api-credentials.js';
import { CHROMIUM, SCREENSHOTS, checkPage } from '../helpers/browser-checks.js';
import { signedInPage, type ConsolePerson } from '../helpers/browser-session.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const request = (id: string) => scenario.examples.find((e) => e.id === id)!.request;
const SITUATION = 'When a customer asks to move a basic-economy flight';
const HOUR = 3_600_000;

/**
 * The coaching pages on a real API and database (no Temporal: coaching needs none): the
 * agent's coaching list with its status filter, one coaching with its measured effect and
 * the traces that applied it at their step, a reviewer's mark that moves its threshold, the
 * link to the trace list filtered by "coaching applied" and to the trace page at that step;
 * retire and promote only for the roles the API lets do them.
 */
describe('coaching pages in Chromium on a real API and database', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let api: ApiServer;
  let browser: Browser;
  const people: Record<'rita' | 'alma' | 'vera', ConsolePerson> = {} as never;
  const tokens: Record<'sam' | 'vic', Record<string, string>> = {} as never;
  const pageProblems: string[] = [];
  let active = '';
  let candidate = '';

  const signedIn = (who: keyof typeof people, path: string): Promise<Page> =>
    signedInPage(browser, api.url, people[who], { path, problems: pageProblems });
  const post = (who: keyof typeof tokens, url: string, body: unknown) =>
    fetch(`${api.url}${url}`, {
      method: 'POST',
      headers: { ...tokens[who], 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureConsoleBuilt();
    database = await startTestDatabase();
    const db = database.db;
    await db.insertInto('agents').values({ id: 'airline', config: '{}' }).execute();
    // No models: situations and conversations embed locally, as with zero setup.
    api = await startApiServer(apiDeps(db, new Client()), 0);
    people.rita = await personWithPassword(db, 'rita', 'reviewer', 'airline');
    people.alma = await personWithPassword(db, 'alma', 'approver', 'airline');
    people.vera = await personWithPassword(db, 'vera', 'viewer', 'airline');
    tokens.sam = (await personWithToken(db, 'sam', 'reviewer', 'airline')).headers;
    tokens.vic = (await personWithToken(db, 'vic', 'viewer', 'airline')).headers;

    const create = async (body: object) => {
      const res = await post('sam', '/api/agents/airline/coaching', body);
      assert.equal(res.status, 201, await res.clone().text());
      return ((await res.json()) as { coaching: { id: string } }).coaching.id;
    };
    active = await create({
      situation: SITUATION,
      behaviour: {
        kind: 'reply',
        text: 'Basic economy flights cannot be changed; I can check whether a cancellation is possible.',
      },
    });
    candidate = await create({
      situation: 'When a customer reports a damaged bag',
      behaviour: { kind: 'transfer', reason: 'damaged bags are handled by the baggage desk' },
      candidate: true,
    });

    const { token } = await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'test' });
    const now = Date.now();
    const trace = (id: string, text: string, hoursAgo: number, feedback: number, applied: boolean) => ({
      id,
      agent: 'airline',
      timestamp: new Date(now - hoursAgo * HOUR).toISOString(),
      input: {
        messages: [
          { role: 'system', content: scenario.basePrompt },
          { role: 'user', content: text },
        ],
      },
      output: { action: 'respond', content: 'Done.' },
      feedback: { score: feedback },
      ...(applied ? { attributes: { 'flywheel.coaching.ids': [`${active}@1`] } } : {}),
    });
    const res = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: [
        trace('moved-001', request('ex-001'), 1, 1, true),
        trace('moved-007', request('ex-007'), 2, -1, true),
        trace('moved-025', request('ex-025'), 3, -1, false),
        trace('cancel-002', request('ex-002'), 4, 1, false),
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    });
    assert.equal(res.status, 200, await res.text());
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await database?.teardown();
  });

  it('a reviewer goes from the agent dashboard to the coaching list, filters it by status and opens a coaching', async () => {
    const page = await signedIn('rita', '/console/agents/airline');
    await page.getByRole('link', { name: 'Coaching', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Coaching: airline' }).waitFor();
    const table = page.getByRole('table', { name: 'Coaching of airline, oldest first' });
    await table.waitFor();
    const rows = table.locator('tbody tr');
    assert.equal(await rows.count(), 2);
    const first = (await rows.nth(0).locator('th, td').allTextContents()).map((t) => t.trim());
    assert.deepEqual(first.slice(0, 7), [
      active,
      'active',
      SITUATION,
      'Reply: “Basic economy flights cannot be changed; I can check whether a cancellation is possible.”',
      '0.32',
      'v1',
      'user:sam',
    ]);
    const second = (await rows.nth(1).locator('th, td').allTextContents()).map((t) => t.trim());
    assert.deepEqual(second.slice(1, 4), [
      'candidate',
      'When a customer reports a damaged bag',
      'Transfer to a human: damaged bags are handled by the baggage desk',
    ]);
    await checkPage(page, 'coaching-list');

    // The status filter from the keyboard; it lives in the address.
    await page.getByLabel('Status').focus();
    await page.getByLabel('Status').selectOption('candidate');
    await page.waitForURL(/status=candidate/);
    await page.getByRole('status').filter({ hasText: '1 coaching (candidate)' }).waitFor();
    assert.deepEqual(
      (await table.locator('tbody th').allTextContents()).map((t) => t.trim()),
      [candidate],
    );
    await page.getByLabel('Status').selectOption('retired');
    await page.getByRole('status').filter({ hasText: 'No retired coaching for airline.' }).waitFor();
    await page.getByLabel('Status').selectOption('');
    await table.getByRole('link', { name: active }).click();
    await page.getByRole('heading', { level: 1, name: `Coaching ${active}` }).waitFor();
    await page.context().close();
  });

  it('a reviewer sees where a coaching applied, marks an application from the keyboard, sees the threshold move, and follows the links to the filtered trace list and the step', async () => {
    const page = await signedIn('rita', `/console/agents/airline/coaching/${active}`);
    await page.getByRole('heading', { level: 1, name: `Coaching ${active}` }).waitFor();
    const applied = page.getByRole('region', { name: 'Where it was applied' });
    const table = applied.getByRole('table', {
      name: `Traces that applied coaching ${active}, newest first`,
    });
    await table.waitFor();
    assert.deepEqual(
      (await table.locator('tbody th').allTextContents()).map((t) => t.trim()),
      ['moved-001', 'moved-007'],
    );
    const cells = (await table.locator('tbody tr').nth(0).locator('td').allTextContents()).map((t) =>
      t.trim(),
    );
    assert.deepEqual(
      [cells[1], cells[2], cells[3], cells[4], cells[5]],
      ['step 2', 'v1', 'positive', '—', '—'],
    );
    const success = page.getByRole('table', { name: `Success with and without coaching ${active}` });
    const feedback = (await success.locator('tbody tr').nth(0).locator('th, td').allTextContents()).map((t) =>
      t.trim(),
    );
    assert.equal(feedback[0], 'User feedback');
    assert.match(feedback[1] ?? '', /^50% \(1 of 2; 95% interval \d+%–\d+%\)$/);
    assert.equal(await page.getByRole('button', { name: 'Promote to active' }).count(), 0, 'approvers only');
    assert.equal(await page.getByRole('button', { name: 'Retire' }).count(), 1);
    const threshold = page.locator('dt:text-is("Recall threshold") + dd');
    assert.equal((await threshold.textContent())?.trim(), '0.32');
    await checkPage(page, 'coaching');

    // Wrongly applied, from the keyboard: the threshold rises above that conversation's similarity.
    const marks = applied.getByRole('group', { name: 'Your mark on trace moved-001' });
    await marks.getByRole('button', { name: 'Wrongly applied' }).focus();
    await page.keyboard.press('Enter');
    const outcome = applied
      .getByRole('status')
      .filter({ hasText: 'Marked trace moved-001 wrongly applied.' });
    await outcome.waitFor();
    const moved = /Threshold 0\.32 → (0\.\d+) \(now version 2\)\./.exec((await outcome.textContent()) ?? '');
    assert.ok(moved, `the threshold moved: ${await outcome.textContent()}`);
    const after = Number(moved[1]);
    assert.ok(after > 0.32, `raised: ${after}`);
    await page
      .locator('dt:text-is("Recall threshold") + dd')
      .filter({ hasText: `${after} (author’s 0.32, moved by marks)` })
      .waitFor();
    await table.locator('tbody tr').nth(0).locator('td').filter({ hasText: 'user:rita: wrong' }).waitFor();
    assert.equal(
      await marks.getByRole('button', { name: 'Wrongly applied' }).getAttribute('aria-pressed'),
      'true',
    );
    const history = page.getByRole('table', { name: `Every threshold of coaching ${active}, oldest first` });
    await history.locator('tbody tr').nth(1).waitFor();
    assert.deepEqual(
      (await history.locator('tbody th').allTextContents()).map((t) => t.trim()),
      ['v1', 'v2'],
    );

    // The trace list filtered by this coaching.
    await applied.getByRole('link', { name: 'Every trace that applied it, in the trace list' }).click();
    await page.getByRole('heading', { level: 1, name: 'Traces' }).waitFor();
    const query = new URL(page.url()).searchParams;
    assert.deepEqual([query.get('agent'), query.get('coaching')], ['airline', active]);
    const results = page.getByRole('table', { name: 'Traces, newest first' });
    await results.getByRole('link', { name: 'moved-007', exact: true }).waitFor();
    assert.deepEqual(
      (await results.locator('tbody td.trace-id').allTextContents()).map((t) => t.trim()),
      ['moved-001', 'moved-007'],
    );
    const picker = page.getByRole('search', { name: 'Filter traces' }).getByLabel('Coaching applied');
    assert.equal(await picker.inputValue(), active);
    // No coaching applied: the other two.
    await picker.selectOption('none');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/coaching=none/);
    await results.getByRole('link', { name: 'cancel-002', exact: true }).waitFor();
    assert.deepEqual(
      (await results.locator('tbody td.trace-id').allTextContents()).map((t) => t.trim()),
      ['moved-025', 'cancel-002'],
    );

    // Back on the coaching page, the step link opens the trace at that step.
    await page.goBack();
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: `Coaching ${active}` }).waitFor();
    await page.getByRole('link', { name: 'Step 2 of trace moved-007' }).click();
    await page.getByRole('heading', { level: 1, name: 'Trace moved-007' }).waitFor();
    assert.equal(new URL(page.url()).hash, '#step-2');
    const step = page.locator('#step-2');
    await step.waitFor();
    assert.match((await step.getAttribute('class')) ?? '', /\btargeted\b/);
    assert.equal(await page.evaluate<string | undefined>('document.activeElement?.id'), 'step-2', 'focused');
    assert.equal(
      await page.getByRole('link', { name: `${active}@1` }).getAttribute('href'),
      `/console/agents/airline/coaching/${active}`,
    );
    await checkPage(page, 'coaching-trace-step');
    await page.context().close();
  });

  it('an approver promotes a candidate with a reason; a viewer gets no decision or mark buttons, and the API refuses roles that may not', async () => {
    const page = await signedIn('alma', `/console/agents/airline/coaching/${candidate}`);
    await page.getByRole('heading', { level: 1, name: `Coaching ${candidate}` }).waitFor();
    const promote = page.getByRole('button', { name: 'Promote to active' });
    await promote.click();
    await page.getByRole('alert').filter({ hasText: 'Give a reason first.' }).waitFor();
    assert.equal(
      await page.evaluate<string | undefined>('document.activeElement?.id'),
      'coaching-reason',
      'focus goes to the reason',
    );
    await page
      .getByLabel('Reason (kept in the audit log)')
      .fill('gated with flywheel eval --coaching candidates');
    await promote.click();
    await page
      .getByRole('status')
      .filter({ hasText: `Coaching ${candidate} is active (v2).` })
      .waitFor();
    await page.locator('dt:text-is("Status") + dd').filter({ hasText: 'active' }).waitFor();
    assert.equal(await promote.count(), 0, 'only a candidate is promoted');
    // The pressed button is gone with the candidate status: focus is on what was done.
    await page.locator('#coaching-moved:focus').waitFor();
    await page.context().close();

    const viewer = await signedIn('vera', `/console/agents/airline/coaching/${active}`);
    await viewer
      .getByRole('table', { name: `Traces that applied coaching ${active}, newest first` })
      .waitFor();
    for (const name of ['Retire', 'Promote to active', 'Correctly applied', 'Wrongly applied'])
      assert.equal(await viewer.getByRole('button', { name }).count(), 0, name);
    await viewer.context().close();

    const refused = [
      [await post('vic', `/api/agents/airline/coaching/${active}/retire`, { reason: 'no' }), /reviewer/],
      [
        await post('vic', `/api/agents/airline/coaching/${active}/marks`, {
          traceId: 'moved-007',
          verdict: 'correct',
        }),
        /reviewer/,
      ],
      [await post('sam', `/api/agents/airline/coaching/${active}/promote`, { reason: 'no' }), /approver/],
    ] as const;
    for (const [res, role] of refused) {
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as { error: string }).error, role);
    }
  });

  it('no page threw an error or hit the Content-Security-Policy', () => {
    assert.deepEqual(pageProblems, []);
  });
});
