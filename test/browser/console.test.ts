import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Worker } from '@temporalio/worker';
import type { ApiServer } from '../../api/http-server.js';
import { CONSOLE_CSP } from '../../api/console-routes.js';
import { startCycle } from '../../cycles/cycle-service.js';
import { createScoreConfig } from '../../annotation/score-config-service.js';
import { ensureConsoleBuilt } from '../../scripts/console-build.js';
import { personWithPassword } from '../helpers/api-credentials.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { CHROMIUM, SCREENSHOTS, checkPage, watchPageProblems } from '../helpers/browser-checks.js';
import { CATEGORIES } from '../../console/src/api/categories.js';
import type { Category } from '../../console/src/api/types.js';

const cycleInput = {
  agent: 'demo',
  seed: 21,
  sampleRate: 0.4,
  maxAnnotationItems: 5,
  annotationDeadlineSeconds: 900,
  optimizer: {
    choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
    budget: { maxRollouts: 200 },
  },
};

/** Signs in through the form with the keyboard: Tab between the fields, Enter submits. */
async function signIn(page: Page, baseUrl: string, who: { user: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByRole('heading', { name: 'Sign in to Flywheel' }).waitFor();
  await page.getByLabel('User name').focus();
  await page.keyboard.type(who.user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(who.password);
  await page.keyboard.press('Enter');
  await page
    .getByRole('heading', { name: 'Home', level: 1 })
    .waitFor({ timeout: 10_000 })
    .catch(async (error: Error) => {
      throw new Error(`${error.message}\nThe page shows: ${await page.locator('body').innerText()}`);
    });
}

describe('web console in Chromium on a real stack', () => {
  let stack: TestStack;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let browser: Browser;
  const cycleId = `cycle-demo-console-${Date.now()}`;
  let reviewer: { user: string; password: string };
  let viewer: { user: string; password: string };
  /** Errors the pages threw and Content-Security-Policy refusals: there must be none. */
  const pageProblems: string[] = [];

  const newPage = async () => {
    // A context per page: its own cookies (session), as a separate browser profile would have.
    const context = await browser.newContext();
    const page = await context.newPage();
    watchPageProblems(page, pageProblems);
    return page;
  };

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureConsoleBuilt();
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 17, apiModels: true }));
    reviewer = await personWithPassword(stack.db, 'rita', 'reviewer', 'demo');
    viewer = await personWithPassword(stack.db, 'vera', 'viewer');
    // A score config of the agent: the item page shows it as a field of the label.
    await createScoreConfig(stack.db, {
      agent: 'demo',
      name: 'tone',
      dataType: 'CATEGORICAL',
      categories: [
        { label: 'rude', value: 0 },
        { label: 'polite', value: 1 },
      ],
    });
    worker = await stack.newWorker();
    running = worker.run();
    await startCycle(stack.env.client, {
      taskQueue: stack.taskQueue,
      workflowId: cycleId,
      input: cycleInput,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const atQueue = await waitForStage(stack.env.client, cycleId, ['awaiting_annotation', 'done'], 180_000);
    assert.equal(atQueue.stage, 'awaiting_annotation', `cycle ended early: ${atQueue.outcome}`);
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

  it('serves the page shell for client routes with its own CSP and hashed assets, and reports the first paint', async () => {
    const shell = await fetch(`${api.url}/console/queues/anything`);
    assert.equal(shell.status, 200);
    assert.match(shell.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(shell.headers.get('content-security-policy'), CONSOLE_CSP);
    const html = await shell.text();
    assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, html);
    const js = await fetch(`${api.url}${asset}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(`${api.url}/console/assets/missing.js`)).status, 404);
    assert.equal((await fetch(`${api.url}/console/assets/..%2F..%2Fpackage.json`)).status, 404);
    const root = await fetch(`${api.url}/`, { redirect: 'manual' });
    assert.equal(root.headers.get('location'), '/console/');
    const data = await fetch(`${api.url}/api/queues`);
    assert.equal(data.status, 401, 'the data stays behind authentication');

    const page = await newPage();
    // The browser's first navigation starts its renderer: a person's browser is running already.
    await page.goto(`${api.url}/health/live`);
    const started = performance.now();
    await page.goto(`${api.url}/console/`);
    await page.getByRole('heading', { name: 'Sign in to Flywheel' }).waitFor();
    const firstPageMs = performance.now() - started;
    // Reported, not asserted: the 1 s target is a measurement (a timed assertion on a shared
    // 2-core machine fails on load, not on code).
    console.log(`first page (sign-in) rendered in ${Math.round(firstPageMs)} ms`);
    await page.getByLabel('User name').fill(reviewer.user);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /password|credentials/i);
    await checkPage(page, 'sign-in');
    await page.context().close();
  });

  it('a reviewer labels every item of the cycle queue with the keyboard only, and the cycle moves on to optimizing', async () => {
    const page = await newPage();
    await signIn(page, api.url, reviewer);
    const home = page.getByRole('region', { name: 'My open queue items' });
    await home.getByRole('link', { name: /^Label / }).waitFor();
    await checkPage(page, 'home-reviewer');

    // To the queue's "Label" link by Tab alone, then Enter.
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const focused = (await page.locator(':focus').textContent()) ?? '';
      if (focused.startsWith('Label ')) break;
    }
    const started = performance.now();
    await page.keyboard.press('Enter');
    await page.getByText('Claimed by you').waitFor();
    // Focus follows the in-app navigation to the item's heading, which appears only once the
    // item has loaded (it fell to the body before), and the tab is titled after it.
    await page.locator('h1:focus', { hasText: /^Item 1 of / }).waitFor();
    assert.match(await page.title(), /^Item 1 of \d+: trace \S+ · Flywheel$/);
    // The claim's expiry is on the page, counting down from the queue's claim length.
    assert.match((await page.getByText('Claimed by you').textContent()) ?? '', /expires in \d+:\d\d/);
    await checkPage(page, 'annotation-item');

    const total = cycleInput.maxAnnotationItems;
    // The form starts from the judge's failure category, where a label can carry it.
    const judged = await stack.db
      .selectFrom('annotation_items')
      .select(['trace_id', 'judge_category'])
      .where('cycle_id', '=', cycleId)
      .execute();
    const judgeCategory = new Map(judged.map((i) => [i.trace_id, i.judge_category]));
    for (let n = 1; n <= total; n++) {
      const heading = page.getByRole('heading', { level: 1, name: new RegExp(`^Item ${n} of ${total}`) });
      await heading.waitFor();
      await page.getByText('Claimed by you').waitFor();
      const traceId = /trace (\S+)$/.exec((await heading.textContent()) ?? '')?.[1] ?? '';
      if (n === 1) {
        // Submitting without a verdict: the problem is said at the verdict, which takes focus.
        await page.keyboard.press('Control+Enter');
        await page.locator('input[name="verdict"][aria-invalid="true"]:focus').waitFor();
        assert.match((await page.locator('#verdict-error').textContent()) ?? '', /Choose a verdict first/);
      }
      if (n % 2 === 1) {
        // A failure: category with the arrow keys (from the top of the list), then a comment.
        await page.keyboard.press('f');
        await page.keyboard.press('c');
        await page.locator('#category:focus').waitFor();
        const judge = judgeCategory.get(traceId) ?? null;
        assert.equal(
          await page.locator('#category').inputValue(),
          judge !== null && CATEGORIES.includes(judge as Category) ? judge : '',
          `item ${n} starts from the judge's category ${judge}`,
        );
        for (let i = 0; i < CATEGORIES.length; i++) await page.keyboard.press('ArrowUp');
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('Escape');
        if (n === 3) {
          // r: the agent should have replied; its field takes the focus.
          await page.keyboard.press('r');
          await page.locator('#reply:focus').waitFor();
          // An empty corrected reply is refused at its field, described by the message.
          await page.keyboard.press('Control+Enter');
          await page.locator('#reply[aria-invalid="true"][aria-describedby="reply-error"]:focus').waitFor();
          await page.keyboard.type('Let me confirm the cancellation with you first.');
          assert.equal(
            await page.locator('#reply-error').count(),
            0,
            'the message goes once the reply is written',
          );
          await page.keyboard.press('Escape');
        }
        await page.keyboard.press('m');
        await page.keyboard.type('The agent should have confirmed first.');
        assert.equal(await page.locator('#category').inputValue(), 'argument_error');
      } else {
        await page.keyboard.press('p');
      }
      await page.keyboard.press('Control+Enter');
      if (n < total) {
        // The saved label is announced (aria-live) as the next item opens.
        await page
          .getByRole('status')
          .filter({
            hasText: `Saved: your ${n % 2 === 1 ? 'fail' : 'pass'} label on item ${n} of ${total}`,
          })
          .waitFor();
        await page
          .getByRole('heading', { level: 1, name: new RegExp(`^Item ${n + 1} of ${total}`) })
          .waitFor();
        await page.locator('h1:focus', { hasText: `Item ${n + 1} of ${total}` }).waitFor();
      }
    }
    await page.getByRole('status').filter({ hasText: 'completed this queue' }).waitFor();
    // Focus is on the queue's heading, which carries the thank-you as its description.
    await page.locator('h1:focus[aria-describedby="queue-done"]').waitFor();
    const labellingMs = performance.now() - started;
    console.log(`labelled ${total} items in ${Math.round(labellingMs)} ms`);
    await checkPage(page, 'queue-complete');

    const labels = await stack.db
      .selectFrom('annotations')
      .innerJoin('annotation_items', 'annotation_items.id', 'annotations.item_id')
      .select([
        'annotations.verdict',
        'annotations.category',
        'annotations.comment',
        'annotations.reviewer',
        'annotations.expected',
      ])
      .where('annotation_items.cycle_id', '=', cycleId)
      .execute();
    assert.equal(labels.length, total);
    assert.ok(labels.every((l) => l.reviewer === 'rita'));
    assert.equal(labels.filter((l) => l.verdict === 'fail').length, Math.ceil(total / 2));
    assert.ok(
      labels
        .filter((l) => l.verdict === 'fail')
        .every(
          (l) => l.category === 'argument_error' && l.comment === 'The agent should have confirmed first.',
        ),
    );
    assert.deepEqual(
      labels.filter((l) => l.expected !== null).map((l) => l.expected),
      [{ action: 'respond', arguments: {}, content: 'Let me confirm the cancellation with you first.' }],
    );

    const moved = await waitForStage(
      stack.env.client,
      cycleId,
      ['optimizing', 'gating', 'awaiting_approval', 'rolling_out', 'done'],
      60_000,
    );
    assert.notEqual(moved.outcome, 'annotation_expired');
    // The home page shows the agent's last cycle past the annotation stage (the cycles table
    // follows the workflow within moments: reload until it does).
    await page.getByRole('link', { name: 'Home' }).click();
    const demoRow = page.getByRole('region', { name: 'Agents' }).getByRole('row', { name: /demo/i });
    let row = '';
    for (let i = 0; i < 20; i++) {
      row =
        (await demoRow.textContent({ timeout: 10_000 }).catch(async (error: Error) => {
          throw new Error(`${error.message}\nThe page shows: ${await page.locator('body').innerText()}`);
        })) ?? '';
      if (!/awaiting annotation/.test(row)) break;
      await page.waitForTimeout(500);
      await page.reload();
    }
    assert.doesNotMatch(row, /awaiting annotation/, row);
    await page.context().close();
  });

  it('a viewer reads an item without label controls, the API answers 403 to a label, and signing out ends the session', async () => {
    const page = await newPage();
    await signIn(page, api.url, viewer);
    await checkPage(page, 'home-viewer');
    // The skip link: shown when focused, it moves focus into the main content.
    const skip = page.getByRole('link', { name: 'Skip to content' });
    await skip.focus();
    assert.ok(((await skip.boundingBox())?.x ?? -1) >= 0, 'the focused skip link is on screen');
    await page.keyboard.press('Enter');
    await page.locator('main:focus').waitFor();
    await page.keyboard.press('Tab');
    assert.ok(
      await page.evaluate<boolean>("document.querySelector('main').contains(document.activeElement)"),
      'Tab goes on inside the main content',
    );
    assert.equal(await page.getByRole('region', { name: 'My open queue items' }).count(), 0);
    await page.getByRole('link', { name: 'Annotation queues' }).click();
    await page.getByRole('link', { name: new RegExp(cycleId) }).click();
    await page.getByRole('heading', { name: 'Items' }).waitFor();
    await checkPage(page, 'queue');
    await page.locator('a.item-link').first().click();
    await page.getByText('Labelling needs the reviewer role').waitFor();
    assert.equal(await page.getByRole('radio').count(), 0, 'no verdict controls');
    assert.equal(await page.getByRole('button', { name: /Submit/ }).count(), 0, 'no submit button');
    await checkPage(page, 'annotation-item-viewer');

    // The label request the page would send, with the viewer's cookie and CSRF token.
    const itemId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    const request = page.context().request;
    const me = (await (await request.get(`${api.url}/api/me`)).json()) as { session: { csrfToken: string } };
    const label = await request.post(`${api.url}/api/items/${encodeURIComponent(itemId)}/annotations`, {
      headers: { 'x-csrf-token': me.session.csrfToken },
      data: { verdict: 'pass' },
    });
    const status = label.status();
    assert.equal(status, 403);

    // Single-key shortcuts can be turned off (WCAG 2.1.4): then j stays; on again, j moves on.
    const singleKeys = page.getByRole('checkbox', { name: /Single-key shortcuts/ });
    await singleKeys.uncheck();
    const before = page.url();
    await page.keyboard.press('j');
    await page.waitForTimeout(300);
    assert.equal(page.url(), before, 'j does nothing while single-key shortcuts are off');
    await singleKeys.check();
    await page.keyboard.press('j');
    await page.locator('h1:focus', { hasText: /^Item 2 of / }).waitFor();

    // Signing out ends the session on the server, not only in the page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Flywheel' }).waitFor();
    assert.equal((await request.get(`${api.url}/api/me`)).status(), 401);
    await page.context().close();
  });

  it("an expected tool call the agent's tool does not take is refused at its field; a saved label is changed while the queue is open; the queue shows judge and reviewer verdicts", async () => {
    const client = stack.env.client;
    const editCycle = `cycle-demo-console-edit-${Date.now()}`;
    await startCycle(client, {
      taskQueue: stack.taskQueue,
      workflowId: editCycle,
      input: { ...cycleInput, seed: 22, maxAnnotationItems: 3 },
    });
    try {
      const atQueue = await waitForStage(client, editCycle, ['awaiting_annotation', 'done'], 180_000);
      assert.equal(atQueue.stage, 'awaiting_annotation', `cycle ended early: ${atQueue.outcome}`);
      for (let i = 0; i < 100; i++) {
        const row = await stack.db
          .selectFrom('cycles')
          .select('stage')
          .where('id', '=', editCycle)
          .executeTakeFirst();
        if (row?.stage === 'awaiting_annotation') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const queueId = `${editCycle}:queue`;
      const items = await stack.db
        .selectFrom('annotation_items')
        .select(['id', 'trace_id', 'judge_label'])
        .where('cycle_id', '=', editCycle)
        .orderBy('id')
        .execute();
      assert.ok(items.length >= 2, `the queue holds ${items.length} item(s)`);
      const total = items.length;
      const page = await newPage();
      await signIn(page, api.url, reviewer);
      await page.goto(
        `${api.url}/console/queues/${encodeURIComponent(queueId)}/items/${encodeURIComponent(items[0]!.id)}`,
      );
      await page.getByText('Claimed by you').waitFor();
      const shortcuts = page.getByRole('complementary', { name: 'Item shortcuts' });
      assert.match((await shortcuts.textContent()) ?? '', /r \/ t.*replied \/ called a tool/);

      // t: the agent should have called a tool; a call its schema refuses comes back at the field.
      await page.keyboard.press('t');
      await page.locator('#tool:focus').waitFor();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('get_flight_status');
      // The form says what the named tool takes and which tools the agent has, from its configuration.
      const hint = (await page.locator('#tool-hint').textContent()) ?? '';
      assert.match(hint, /get_flight_status takes flight_number \(string, required\) and nothing else\./);
      assert.match(hint, /The agent's tools: .*transfer_to_human_agents/);
      assert.match((await page.locator('#tool').getAttribute('aria-describedby')) ?? '', /tool-hint/);
      await page.keyboard.press('Tab');
      await page.locator('#tool-arguments:focus').waitFor();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('flight: HAT001');
      await page.keyboard.press('Control+Enter');
      const error = page.locator('#tool-arguments-error');
      await error.waitFor();
      assert.match(
        (await error.textContent()) ?? '',
        /flight_number is missing; flight is not a parameter of it\. get_flight_status takes flight_number \(string, required\)/,
      );
      assert.equal(await page.locator('#tool-arguments').getAttribute('aria-invalid'), 'true');
      await page.locator('#tool-arguments:focus').waitFor();
      await checkPage(page, 'annotation-item-argument-error');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('flight_number: HAT001');
      await page.keyboard.press('Control+Enter');
      await page
        .getByRole('status')
        .filter({ hasText: `Saved: your fail label on item 1 of ${total}` })
        .waitFor();
      await page.getByRole('heading', { level: 1, name: new RegExp(`^Item 2 of ${total}`) }).waitFor();
      const ritaLabel = () =>
        stack.db
          .selectFrom('annotations')
          .select(['verdict', 'expected'])
          .where('item_id', '=', items[0]!.id)
          .where('reviewer', '=', reviewer.user)
          .execute();
      assert.deepEqual(await ritaLabel(), [
        {
          verdict: 'fail',
          expected: { action: 'get_flight_status', arguments: { flight_number: 'HAT001' } },
        },
      ]);

      // Back to item 1: the stored label, and the way to change it while the queue is open.
      await page.keyboard.press('k');
      await page.getByRole('heading', { level: 1, name: new RegExp(`^Item 1 of ${total}`) }).waitFor();
      await page.getByText('You labelled this item fail').waitFor();
      await page.getByRole('button', { name: 'Change your label' }).click();
      // "Keep it as it was" gives focus back to the button that opened the change.
      await page.getByRole('button', { name: 'Keep it as it was' }).press('Enter');
      await page.locator('#change-label:focus').waitFor();
      await page.keyboard.press('Enter');
      assert.equal(await page.locator('#tool').inputValue(), 'get_flight_status');
      assert.equal(await page.locator('#tool-arguments').inputValue(), 'flight_number: HAT001');
      await checkPage(page, 'annotation-item-change-label');
      await page.keyboard.press('p');
      await page.keyboard.press('Control+Enter');
      await page
        .getByRole('status')
        .filter({ hasText: `Saved: your changed pass label on item 1 of ${total}` })
        .waitFor();
      assert.deepEqual(await ritaLabel(), [{ verdict: 'pass', expected: null }], 'replaced, not added');

      // An item the evaluators failed: the teacher's suggested label is shown above the form;
      // `a` takes it into the form, which the reviewer submits as any label. (Where they passed
      // the step, their pass is the suggestion: no panel.)
      await page.getByRole('heading', { level: 1, name: new RegExp(`^Item 2 of ${total}`) }).waitFor();
      const suggestionPanel = page.getByRole('region', { name: 'Suggested label' });
      const at = items.findIndex((i, n) => n > 0 && i.judge_label !== 'pass');
      assert.ok(at > 0, `an item after the first that the evaluators did not pass: ${JSON.stringify(items)}`);
      if (at !== 1) {
        assert.equal(await suggestionPanel.count(), 0, 'no suggestion where the evaluators passed');
        await page.goto(
          `${api.url}/console/queues/${encodeURIComponent(queueId)}/items/${encodeURIComponent(items[at]!.id)}`,
        );
        await page.getByText('Claimed by you').waitFor();
      }
      await suggestionPanel.getByRole('button', { name: /Use this label/ }).waitFor();
      const suggested = await stack.db
        .selectFrom('label_suggestions')
        .selectAll()
        .where('item_id', '=', items[at]!.id)
        .executeTakeFirstOrThrow();
      const panelText = (await suggestionPanel.textContent()) ?? '';
      assert.match(panelText, new RegExp(suggested.verdict));
      assert.ok(panelText.includes(suggested.reason), panelText);
      await checkPage(page, 'annotation-item-suggestion');
      await page.keyboard.press('a');
      await page.locator(`input[name="verdict"][value="${suggested.verdict}"]:checked`).waitFor();
      if (suggested.category) assert.equal(await page.locator('#category').inputValue(), suggested.category);
      await page.keyboard.press('Control+Enter');
      await page
        .getByRole('status')
        .filter({ hasText: `Saved: your ${suggested.verdict} label on item ${at + 1} of ${total}` })
        .waitFor();
      const taken = await stack.db
        .selectFrom('annotations')
        .select(['verdict', 'category', 'expected'])
        .where('item_id', '=', items[at]!.id)
        .where('reviewer', '=', reviewer.user)
        .executeTakeFirstOrThrow();
      assert.deepEqual(taken, {
        verdict: suggested.verdict,
        category: suggested.category,
        expected: suggested.expected,
      });

      // The queue's table: the judge's verdict and the reviewers' side by side.
      await page.goto(`${api.url}/console/queues/${encodeURIComponent(queueId)}`);
      const table = page.getByRole('table').filter({ has: page.locator('a.item-link') });
      await table.waitFor();
      const headers = await table.getByRole('columnheader').allTextContents();
      assert.deepEqual(headers.slice(3, 6), ["Judge's verdict", "Judge's category", "Reviewers' verdict"]);
      const reviewerCell = (traceId: string) =>
        table.getByRole('row').filter({ hasText: traceId }).getByRole('cell').nth(5).textContent();
      assert.equal(await reviewerCell(items[0]!.trace_id), 'pass');
      assert.equal(await reviewerCell(items[at]!.trace_id), suggested.verdict);
      // That label took its suggestion; item 1's (changed by hand) may or may not equal its own,
      // and has one only if the evaluators did not pass it.
      const withSuggestion = items[0]!.judge_label === 'pass' ? 1 : 2;
      await page
        .getByText(
          new RegExp(
            `Labels equal to the teacher model's suggestion: [12] of ${withSuggestion} labels on items with a suggestion`,
          ),
        )
        .waitFor();
      await checkPage(page, 'queue-verdicts');
      await page.context().close();
    } finally {
      await client.workflow
        .getHandle(editCycle)
        .terminate('test done')
        .catch(() => undefined);
    }
  });

  it('no page threw an error or hit the Content-Security-Policy', () => {
    assert.deepEqual(pageProblems, []);
  });
});
