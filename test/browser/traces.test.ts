import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Worker } from '@temporalio/worker';
import type { ApiServer } from '../../api/http-server.js';
import { annotationQueueId } from '../../annotation/annotation-ids.js';
import { startCycle } from '../../cycles/cycle-service.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { ensureConsoleBuilt } from '../../scripts/console-build.js';
import { personWithPassword } from '../helpers/api-credentials.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { CHROMIUM, SCREENSHOTS, checkPage } from '../helpers/browser-checks.js';
import { signedInPage } from '../helpers/browser-session.js';

const cycleInput = {
  agent: 'demo',
  seed: 41,
  sampleRate: 0.4,
  maxAnnotationItems: 5,
  annotationDeadlineSeconds: 900,
  optimizer: {
    choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
    budget: { maxRollouts: 200 },
  },
};

describe('trace search and the trace page in Chromium on a real stack', () => {
  let stack: TestStack;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let browser: Browser;
  const cycleId = `cycle-demo-traces-${Date.now()}`;
  const queueId = annotationQueueId(cycleId);
  /** A trace the agent sends while the cycle waits for labels: an error with a span tree. */
  const traceId = `trace-zx9-${Date.now()}`;
  const people: Record<'rita' | 'vera', { user: string; password: string }> = {} as never;
  /** Errors the pages threw and Content-Security-Policy refusals: there must be none. */
  const pageProblems: string[] = [];

  const signedIn = (who: keyof typeof people, path = '/console/'): Promise<Page> =>
    signedInPage(browser, api.url, people[who], { path, problems: pageProblems });

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureConsoleBuilt();
    // The API asks the simulated teacher for coaching situations.
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 29, apiModels: true }));
    people.rita = await personWithPassword(stack.db, 'rita', 'reviewer', 'demo');
    people.vera = await personWithPassword(stack.db, 'vera', 'viewer');
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
    // Sent after the cycle sampled its window: the trace is in no sample and no queue.
    const start = Date.now() - 30 * 60_000;
    const at = (ms: number) => new Date(start + ms).toISOString();
    const { token } = await createAgentToken(stack.db, {
      agent: 'demo',
      scopes: ['ingest'],
      createdBy: 'test',
    });
    const sent = await fetch(`${api.url}/api/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: traceId,
        timestamp: at(0),
        status: 'error',
        feedback: { score: -1, text: 'it looked up the wrong booking' },
        input: {
          messages: [
            { role: 'system', content: 'You are an airline agent.' },
            { role: 'user', content: 'Cancel reservation ZX9 please' },
          ],
        },
        output: { action: 'get_reservation_details', arguments: { reservation_id: 'ZX9' } },
        spans: [
          {
            spanId: 'root',
            name: 'airline-agent',
            kind: 'agent',
            startTime: at(0),
            endTime: at(900),
            latencyMs: 900,
          },
          {
            spanId: 'llm-1',
            parentSpanId: 'root',
            name: 'chat',
            kind: 'llm',
            startTime: at(5),
            endTime: at(405),
            latencyMs: 400,
            attributes: { 'app.region': 'eu-west' },
            events: [
              {
                name: 'retry',
                time: at(205),
                attributes: { 'retry.attempt': 2, 'retry.reason': 'rate limited' },
              },
            ],
          },
          {
            spanId: 'tool-1',
            parentSpanId: 'root',
            name: 'get_reservation_details',
            kind: 'tool',
            status: 'error',
            statusMessage: 'reservation ZX9 not found',
            startTime: at(410),
            endTime: at(430),
            latencyMs: 20,
            tool: {
              name: 'get_reservation_details',
              arguments: { reservation_id: 'ZX9' },
              result: 'not found',
            },
            attributes: { 'http.status_code': 404 },
            events: [
              {
                name: 'exception',
                time: at(428),
                attributes: {
                  'exception.type': 'ReservationNotFound',
                  'exception.message': 'no booking under ZX9',
                  'exception.stacktrace':
                    'ReservationNotFound: no booking under ZX9\n    at lookup (tools.py:42)',
                },
              },
            ],
          },
        ],
      }),
    });
    assert.equal(sent.status, 200, await sent.text());
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

  it('a reviewer searches traces by status, feedback, text, time, version and cluster; the filters live in the address', async () => {
    const page = await signedIn('rita');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Traces' }).click();
    await page.getByRole('heading', { level: 1, name: 'Traces' }).waitFor();
    const results = page.getByRole('table', { name: 'Traces, newest first' });
    await results.waitFor();
    assert.ok((await results.getByRole('row').count()) > 10, 'the newest traces are listed');

    const search = page.getByRole('search', { name: 'Filter traces' });
    await search.getByLabel('Status').selectOption('error');
    await search.getByLabel('Feedback').selectOption('negative');
    await search.getByLabel('Text in input or output').fill('ZX9');
    await search.getByLabel('Text in input or output').press('Enter');
    await page.waitForURL(/status=error/);
    const query = new URL(page.url()).searchParams;
    assert.deepEqual(
      [query.get('status'), query.get('feedback'), query.get('q'), query.get('agent')],
      ['error', 'negative', 'ZX9', 'demo'],
    );
    await results.getByRole('link', { name: traceId, exact: true }).waitFor();
    assert.equal(await results.getByRole('row').count(), 2, 'one header row and the one matching trace');
    await checkPage(page, 'traces-search');

    // A time range after the trace: the From field takes the reader's local time, the address an instant.
    const tomorrow = new Date(Date.now() + 86_400_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const local = `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}T08:00`;
    assert.equal(await search.getByLabel('From').count(), 0, 'the window fields come with Custom');
    await search.getByRole('radio', { name: 'Custom' }).check();
    await search.getByLabel('From').fill(local);
    await search.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/from=/);
    assert.equal(new URL(page.url()).searchParams.get('from'), new Date(local).toISOString());
    await page.getByRole('status').filter({ hasText: 'No trace matches these filters.' }).waitFor();
    assert.equal(await search.getByLabel('From').inputValue(), local);
    assert.equal(await search.getByRole('radio', { name: 'Custom' }).isChecked(), true);

    // A version no trace was served by lists nothing; the seeded traffic's version lists it.
    await page.goto(`${api.url}/console/traces?agent=demo&promptVersion=999`);
    await page.getByRole('status').filter({ hasText: 'No trace matches these filters.' }).waitFor();
    const version = await stack.db
      .selectFrom('traces')
      .select('prompt_version')
      .where('agent_id', '=', 'demo')
      .where('prompt_version', 'is not', null)
      .limit(1)
      .executeTakeFirstOrThrow();
    await page.goto(`${api.url}/console/traces?agent=demo&promptVersion=${version.prompt_version}`);
    await results.waitFor();
    assert.ok((await results.getByRole('row').count()) > 1);
    assert.equal(await page.getByLabel('Version').inputValue(), String(version.prompt_version));

    // A cluster of the cycle lists its members (as its latest clustering placed them).
    const cluster = await stack.db
      .selectFrom('clusters')
      .innerJoin('cluster_members', 'cluster_members.cluster_id', 'clusters.id')
      .select(['clusters.id', 'clusters.stable_id', 'cluster_members.trace_id'])
      .where('clusters.cycle_id', '=', cycleId)
      .execute();
    assert.ok(cluster.length > 0, 'the cycle clustered its failures');
    const first = cluster[0]!;
    await page.goto(`${api.url}/console/traces`);
    // The picker offers the clusters of demo's cycles by name; it searches by the stable id.
    const picker = search.getByLabel('Cluster');
    await picker.locator(`option[value="${first.stable_id ?? first.id}"]`).waitFor({ state: 'attached' });
    assert.equal(
      await picker.locator('option').count(),
      new Set(cluster.map((c) => c.stable_id ?? c.id)).size + 1,
      'one entry per cluster of the cycle, and "Any cluster"',
    );
    await picker.selectOption(first.stable_id ?? first.id);
    await search.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/cluster=/);
    await results.getByRole('link', { name: first.trace_id, exact: true }).waitFor();
    const members = new Set(cluster.filter((c) => c.id === first.id).map((c) => c.trace_id));
    for (const link of await results.getByRole('link').all())
      assert.ok(members.has((await link.textContent()) ?? ''), 'only the cluster’s traces');
    assert.equal(
      await picker.inputValue(),
      first.stable_id ?? first.id,
      'the picker shows the search’s cluster',
    );
    await page.context().close();
  });

  it('a reviewer picks a time preset from the keyboard: the address keeps "last hour", the list holds only that hour’s traces', async () => {
    const page = await signedIn('rita', '/console/traces?q=ZX9');
    const search = page.getByRole('search', { name: 'Filter traces' });
    const results = page.getByRole('table', { name: 'Traces, newest first' });
    await results.getByRole('link', { name: traceId, exact: true }).waitFor();
    // Arrow keys move through the presets as in any radio group.
    const anyTime = search.getByRole('radio', { name: 'Any time' });
    assert.equal(await anyTime.isChecked(), true);
    await anyTime.focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await search.getByRole('radio', { name: 'Last hour' }).isChecked(), true);
    const openedAfter = Date.now();
    await search.getByRole('button', { name: 'Search' }).press('Enter');
    await page.waitForURL(/range=1h/);
    const query = new URL(page.url()).searchParams;
    assert.equal(query.get('from'), null, 'the address keeps the preset, not an instant');
    await page.getByRole('status').filter({ hasText: 'in the last hour' }).waitFor();
    await results.getByRole('link', { name: traceId, exact: true }).waitFor();
    // The search rebuilt the form with its Search button: focus is on the results' heading.
    await page.locator('h2#results:focus').waitFor();
    // Without the text filter: every trace listed started within the hour before the page opened.
    await page.goto(`${api.url}/console/traces?range=1h`);
    await results.waitFor();
    const started = await Promise.all(
      (await results.locator('tbody time').all()).map(async (t) =>
        Date.parse((await t.getAttribute('datetime')) ?? ''),
      ),
    );
    assert.ok(started.length > 0);
    for (const at of started)
      assert.ok(at >= openedAfter - 3_600_000, `a trace of ${new Date(at).toISOString()}`);
    assert.equal(await search.getByRole('radio', { name: 'Last hour' }).isChecked(), true);
    // Seven days hold what the hour holds, and the trace sent 30 minutes ago.
    await search.getByRole('radio', { name: 'Last 7 days' }).check();
    await search.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/range=7d/);
    await page.getByRole('status').filter({ hasText: 'in the last 7 days' }).waitFor();
    assert.ok((await results.getByRole('row').count()) - 1 >= started.length);
    await page.context().close();
  });

  it('a reviewer selects traces with the keyboard and adds them to the queue at once: the one already queued is reported and stays selected', async () => {
    const page = await signedIn('rita', '/console/traces?status=ok');
    const results = page.getByRole('table', { name: 'Traces, newest first' });
    await results.waitFor();
    const queued = new Set(
      (
        await stack.db
          .selectFrom('annotation_items')
          .select('trace_id')
          .where('cycle_id', '=', cycleId)
          .execute()
      ).map((i) => i.trace_id),
    );
    const shown = (await results.locator('tbody td.trace-id').allTextContents()).map((t) => t.trim());
    const [already, fresh1, fresh2] = shown.filter((id) => id !== traceId && !queued.has(id));
    assert.ok(already && fresh1 && fresh2, 'three shown traces outside the queue');
    // One of them joins the queue first, on its own.
    const request = page.context().request;
    const me = (await (await request.get(`${api.url}/api/me`)).json()) as { session: { csrfToken: string } };
    const single = await request.post(`${api.url}/api/queues/${queueId}/items`, {
      headers: { 'x-csrf-token': me.session.csrfToken },
      data: { traceId: already },
    });
    assert.equal(single.status(), 201, await single.text());

    const panel = page.getByRole('region', { name: 'Add the selected traces to an annotation queue' });
    const add = panel.getByRole('button', { name: /Add \d+ selected traces? to queue/ });
    assert.equal(await add.isDisabled(), true, 'nothing selected yet');
    for (const id of [already, fresh1, fresh2]) {
      const box = results.getByRole('checkbox', { name: `Select trace ${id}` });
      await box.focus();
      await page.keyboard.press('Space');
      assert.equal(await box.isChecked(), true);
    }
    assert.equal(await panel.getByLabel('Queue').inputValue(), queueId);
    await panel.getByRole('button', { name: 'Add 3 selected traces to queue' }).press('Enter');
    await panel
      .getByRole('status')
      .filter({ hasText: `Added 2 traces to ${queueId}.` })
      .waitFor();
    const refused = panel.getByRole('alert');
    assert.match(
      (await refused.textContent()) ?? '',
      new RegExp(`1 not added \\(still selected\\):.*${already}: Trace ${already} is already in queue`),
    );
    assert.equal(await results.getByRole('checkbox', { name: `Select trace ${already}` }).isChecked(), true);
    assert.equal(await results.getByRole('checkbox', { name: `Select trace ${fresh1}` }).isChecked(), false);
    assert.equal(await results.getByRole('checkbox', { name: `Select trace ${fresh2}` }).isChecked(), false);
    await checkPage(page, 'traces-bulk-add');
    const items = await stack.db
      .selectFrom('audit_log')
      .select(['actor', 'artifact'])
      .where('action', '=', 'queue.add_trace')
      .where('artifact', 'in', [`${cycleId}:item:${fresh1}`, `${cycleId}:item:${fresh2}`])
      .orderBy('artifact')
      .execute();
    assert.deepEqual(
      items.map((i) => i.actor),
      ['rita', 'rita'],
      'both added, under the signed-in reviewer',
    );
    // The queue lists them.
    await panel.getByRole('link', { name: 'Open the queue' }).click();
    await page.getByRole('heading', { level: 1, name: new RegExp(cycleId) }).waitFor();
    await page.getByRole('link', { name: fresh1, exact: true }).waitFor();
    await page.getByRole('link', { name: fresh2, exact: true }).waitFor();
    await page.context().close();
  });

  it('a reviewer provides coaching on the trace’s step: the situation is suggested by the model, Escape cancels, the saved memory is shown', async () => {
    const page = await signedIn('rita', `/console/traces/${encodeURIComponent(traceId)}`);
    await page.getByRole('heading', { level: 1, name: `Trace ${traceId}` }).waitFor();
    const conversation = page.getByRole('region', { name: 'Conversation' });
    const open = conversation.getByRole('button', { name: 'Provide coaching on the step under review' });
    await open.focus();
    await page.keyboard.press('Enter');
    const form = conversation.getByRole('form', { name: 'Coaching for this step' });
    const situation = form.getByLabel('Situation: when this applies');
    // The model's suggestion replaces the quoted request and says where it came from.
    await form
      .getByRole('status')
      .filter({ hasText: 'Suggested by the model from the conversation' })
      .waitFor();
    assert.equal(await situation.inputValue(), 'When a customer asks about cancel and reservation');
    assert.equal(
      await situation.getAttribute('aria-describedby'),
      await form.getByRole('status').filter({ hasText: 'Suggested by the model' }).getAttribute('id'),
      'the field is described by where its text came from',
    );
    assert.equal(
      await page.locator(':focus').getAttribute('id'),
      await situation.getAttribute('id'),
      'the form opens on its first field',
    );
    // It starts from the step taken, to correct.
    assert.equal(await form.getByRole('radio', { name: 'Call a tool' }).isChecked(), true);
    assert.equal(await form.getByLabel('Tool', { exact: true }).inputValue(), 'get_reservation_details');
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
    // Focus goes back to the button once the form is gone.
    await conversation.locator('button:focus', { hasText: 'Provide coaching' }).waitFor();
    assert.equal(
      await page.locator(':focus').getAttribute('aria-label'),
      'Provide coaching on the step under review',
      'focus back on the button',
    );

    await page.keyboard.press('Enter');
    await situation.fill('When a customer asks to cancel a reservation that cannot be found');
    await form.getByRole('status').filter({ hasText: 'Your wording.' }).waitFor();
    // A bad arguments object is refused before any request.
    await form.getByLabel('Arguments (JSON object)').fill('[1]');
    await form.getByRole('button', { name: 'Save coaching' }).click();
    await form
      .getByRole('alert')
      .filter({ hasText: 'Not saved: The arguments must be a JSON object' })
      .waitFor();
    await form.getByRole('radio', { name: 'Ask for confirmation' }).check();
    await form.getByLabel('Question to ask').fill('I could not find ZX9: which name is the booking under?');
    await form.getByRole('button', { name: 'Save coaching' }).press('Enter');
    const saved = conversation
      .getByRole('status')
      .filter({ hasText: /Saved coaching coa_[0-9a-f]+ v1 \(active\) for agent demo/ });
    await saved.waitFor();
    const id = /coa_[0-9a-f]+/.exec((await saved.textContent()) ?? '')?.[0] ?? '';
    const facts = conversation.getByRole('definition');
    assert.match(
      (await facts.allTextContents()).join(' | '),
      /When a customer asks to cancel a reservation that cannot be found \| ask for confirmation: I could not find ZX9: which name is the booking under\? \| Cancel reservation ZX9 please \| trace .+, step 2/,
    );
    await checkPage(page, 'trace-coaching');
    // Stored under the signed-in reviewer, from this trace's step under review (after its 2 messages).
    const request = page.context().request;
    const shown = (await (await request.get(`${api.url}/api/agents/demo/coaching/${id}`)).json()) as {
      coaching: {
        situation: string;
        behaviour: { kind: string };
        sourceTraceId: string;
        sourceStep: number;
        updatedBy: string;
      };
    };
    assert.deepEqual(
      [
        shown.coaching.behaviour.kind,
        shown.coaching.sourceTraceId,
        shown.coaching.sourceStep,
        shown.coaching.updatedBy,
      ],
      ['ask_confirmation', traceId, 2, 'user:rita'],
    );
    await page.context().close();
  });

  it('a reviewer still provides coaching when the situation suggestion fails: the request stays quoted and the form says why', async () => {
    const page = await signedIn('rita', `/console/traces/${encodeURIComponent(traceId)}`);
    await page.route('**/api/agents/demo/coaching/situation', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'the model endpoint is down' }),
      }),
    );
    await page.getByRole('heading', { level: 1, name: `Trace ${traceId}` }).waitFor();
    const conversation = page.getByRole('region', { name: 'Conversation' });
    await conversation.getByRole('button', { name: 'Provide coaching on the step under review' }).click();
    const form = conversation.getByRole('form', { name: 'Coaching for this step' });
    await form
      .getByRole('status')
      .filter({ hasText: 'No suggestion (the model endpoint is down); the request is quoted.' })
      .waitFor();
    const situation = form.getByLabel('Situation: when this applies');
    assert.equal(await situation.inputValue(), 'When replying to: "Cancel reservation ZX9 please"');
    assert.equal(await form.getByRole('button', { name: 'Save coaching' }).isEnabled(), true);
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
    await page.context().close();
  });

  it('a viewer reads each span’s attributes and events, the exception with its stack trace, and collapses spans one by one from the keyboard', async () => {
    const page = await signedIn('vera', `/console/traces/${encodeURIComponent(traceId)}`);
    await page.getByRole('heading', { level: 1, name: `Trace ${traceId}` }).waitFor();
    const spans = page.getByRole('region', { name: 'Spans' });
    await spans.locator('details.spans > summary').click();

    // The failing tool: its attributes (mapped and raw) and the exception event.
    const attributes = spans.getByLabel('Attributes of span get_reservation_details');
    await attributes.waitFor();
    assert.match((await attributes.textContent()) ?? '', /argument reservation_id\s*ZX9/);
    assert.match((await attributes.textContent()) ?? '', /http\.status_code\s*404/);
    const events = spans.getByRole('list', { name: 'Events of span get_reservation_details' });
    assert.match((await events.textContent()) ?? '', /exception \+18 ms/);
    await events.getByText('ReservationNotFound: no booking under ZX9', { exact: true }).waitFor();
    assert.equal(
      await events.getByText('at lookup (tools.py:42)').isVisible(),
      false,
      'the stack trace on demand',
    );
    await events.getByText('Stack trace').click();
    await events.getByText('at lookup (tools.py:42)').waitFor();
    // The model call's custom event with its attributes.
    const chatEvents = spans.getByRole('list', { name: 'Events of span chat' });
    assert.match((await chatEvents.textContent()) ?? '', /retry \+200 ms/);
    assert.match((await chatEvents.textContent()) ?? '', /retry\.reason\s*rate limited/);
    await checkPage(page, 'trace-span-details');

    // One span collapses on its own: Enter on its button hides its details, the others stay.
    const toolButton = spans.getByRole('button', { name: 'Span get_reservation_details' });
    assert.equal(await toolButton.getAttribute('aria-expanded'), 'true');
    await toolButton.focus();
    await page.keyboard.press('Enter');
    assert.equal(await toolButton.getAttribute('aria-expanded'), 'false');
    assert.equal(await attributes.isVisible(), false, 'the tool span is collapsed');
    assert.equal(await chatEvents.isVisible(), true, 'its sibling stays open');
    // The root collapses its children with it; Space opens it again, the tool span still collapsed.
    const rootButton = spans.getByRole('button', { name: 'Span airline-agent' });
    await rootButton.focus();
    await page.keyboard.press('Space');
    assert.equal(await rootButton.getAttribute('aria-expanded'), 'false');
    assert.equal(await chatEvents.isVisible(), false);
    await spans.getByText('(collapsed, 2 child spans)').waitFor();
    await page.keyboard.press('Space');
    await chatEvents.waitFor();
    assert.equal(await toolButton.getAttribute('aria-expanded'), 'false');
    assert.equal(await attributes.isVisible(), false);
    await page.context().close();
  });

  it('a reviewer opens a trace, reads the transcript, opens the span tree from the keyboard, adds the trace to the cycle’s queue and finds it there', async () => {
    const page = await signedIn('rita', `/console/traces?status=error&q=ZX9`);
    await page.getByRole('link', { name: traceId, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: `Trace ${traceId}` }).waitFor();
    const conversation = page.getByRole('region', { name: 'Conversation' });
    await conversation.getByText('Cancel reservation ZX9 please').waitFor();
    await conversation.getByText('get_reservation_details').first().waitFor();

    // The span tree on demand: closed at first, opened with Enter on its summary.
    const spans = page.getByRole('region', { name: 'Spans' });
    const summary = spans.locator('details.spans > summary');
    assert.match((await summary.textContent()) ?? '', /Span tree \(3 spans/);
    assert.equal(await spans.getByText('reservation ZX9 not found').isVisible(), false);
    await summary.focus();
    await page.keyboard.press('Enter');
    await spans.getByText('error: reservation ZX9 not found').waitFor();
    assert.equal(await spans.locator('li.span').count(), 3);

    const add = page.getByRole('region', { name: 'Add to an annotation queue' });
    assert.equal(await add.getByLabel('Queue').inputValue(), queueId);
    await add.getByRole('button', { name: 'Add to queue' }).click();
    await add
      .getByRole('status')
      .filter({ hasText: `Added to ${queueId} as item ${cycleId}:item:${traceId}.` })
      .waitFor();
    // Focus on the notice with its links, not on the body with a form that may be gone.
    await page.locator('#added-to-queue:focus').waitFor();
    // The trace page now lists the review item.
    await page
      .getByRole('region', { name: 'Reviews' })
      .getByRole('link', { name: `Item ${cycleId}:item:${traceId}` })
      .waitFor();
    await checkPage(page, 'trace');
    // Its lineage graph, for a reviewer of demo only: what it became (the review item just added).
    await page.getByRole('button', { name: 'Lineage of this trace' }).click();
    const lineage = page.getByRole('region', { name: `Lineage of ${traceId}` });
    await lineage.getByText('Led to').waitFor();
    await lineage.getByText(`${cycleId}:item:${traceId}`, { exact: true }).first().waitFor();

    await add.getByRole('link', { name: 'Open the queue' }).click();
    await page.getByRole('heading', { level: 1, name: new RegExp(cycleId) }).waitFor();
    await page.getByRole('link', { name: traceId }).click();
    // The item: the conversation from the redacted copy, and no judge verdict the cycle never gave.
    await page.getByText('Added to the queue by hand: the cycle did not score this trace').waitFor();
    await page
      .getByRole('region', { name: 'Conversation' })
      .getByText('Cancel reservation ZX9 please')
      .waitFor();
    const audit = await stack.db
      .selectFrom('audit_log')
      .select('actor')
      .where('action', '=', 'queue.add_trace')
      .where('artifact', '=', `${cycleId}:item:${traceId}`)
      .execute();
    assert.deepEqual(
      audit,
      [{ actor: 'rita' }],
      'the API recorded who signed in, not a field of the request',
    );
    await page.context().close();
  });

  it('a viewer reads the trace without the add-to-queue control, and the API answers 403 to an add', async () => {
    const page = await signedIn('vera', `/console/traces/${encodeURIComponent(traceId)}`);
    await page.getByRole('heading', { level: 1, name: `Trace ${traceId}` }).waitFor();
    await page.getByRole('region', { name: 'Conversation' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add to queue' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Provide coaching/ }).count(), 0);
    const request = page.context().request;
    const me = (await (await request.get(`${api.url}/api/me`)).json()) as { session: { csrfToken: string } };
    const added = await request.post(`${api.url}/api/queues/${queueId}/items`, {
      headers: { 'x-csrf-token': me.session.csrfToken },
      data: { traceId },
    });
    assert.equal(added.status(), 403);
    await page.context().close();
  });

  it('no page threw an error or hit the Content-Security-Policy', () => {
    assert.deepEqual(pageProblems, []);
  });
});
