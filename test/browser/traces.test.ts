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
import { CHROMIUM, SCREENSHOTS, checkPage, watchPageProblems } from '../helpers/browser-checks.js';

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

  const signedIn = async (who: keyof typeof people, path = '/console/'): Promise<Page> => {
    const context = await browser.newContext();
    const page = await context.newPage();
    watchPageProblems(page, pageProblems);
    await page.goto(`${api.url}${path}`);
    await page.getByLabel('User name').fill(people[who].user);
    await page.getByLabel('Password').fill(people[who].password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 10_000 });
    return page;
  };

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureConsoleBuilt();
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 29 }));
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
    await search.getByLabel('From').fill(local);
    await search.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/from=/);
    assert.equal(new URL(page.url()).searchParams.get('from'), new Date(local).toISOString());
    await page.getByRole('status').filter({ hasText: 'No trace matches these filters.' }).waitFor();
    assert.equal(await search.getByLabel('From').inputValue(), local);

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
    await search.getByLabel('Cluster').fill(first.stable_id ?? first.id);
    await search.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/cluster=/);
    await results.getByRole('link', { name: first.trace_id, exact: true }).waitFor();
    const members = new Set(cluster.filter((c) => c.id === first.id).map((c) => c.trace_id));
    for (const link of await results.getByRole('link').all())
      assert.ok(members.has((await link.textContent()) ?? ''), 'only the cluster’s traces');
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
