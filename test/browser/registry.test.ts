import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Worker } from '@temporalio/worker';
import type { ApiServer } from '../../api/http-server.js';
import { startCycle } from '../../cycles/cycle-service.js';
import { listVersions } from '../../datasets/dataset-service.js';
import { createPrompt, showPrompt } from '../../registry/prompt-service.js';
import { updateAgentConfig } from '../../registry/store/agent-repository.js';
import { ensureConsoleBuilt } from '../../scripts/console-build.js';
import { personWithPassword } from '../helpers/api-credentials.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { CHROMIUM, SCREENSHOTS, checkPage } from '../helpers/browser-checks.js';
import { signedInPage } from '../helpers/browser-session.js';

/**
 * A cycle that builds a dataset version from its sample quickly: the annotation deadline lets
 * the judge's labels stand. The test stops it once it optimizes; the version and its lineage
 * (traces, clusters, annotation items) are what the dataset page shows.
 */
const cycleInput = {
  agent: 'demo',
  seed: 37,
  sampleRate: 0.4,
  maxAnnotationItems: 5,
  annotationDeadlineSeconds: 2,
  optimizer: {
    choice: { name: 'random-search' as const, settings: { proposalsPerCall: 4 } },
    budget: { maxRollouts: 200 },
  },
};

describe('prompts, datasets and artifacts pages in Chromium on a real stack', () => {
  let stack: TestStack;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let browser: Browser;
  let datasetVersion = '';
  const cycleId = `cycle-demo-registry-${Date.now()}`;
  const people: Record<'otto' | 'vera', { user: string; password: string }> = {} as never;
  /** Errors the pages threw and Content-Security-Policy refusals: there must be none. */
  const pageProblems: string[] = [];

  /** A browser context per person (its own session cookie), signed in through the form. */
  const signedIn = (who: keyof typeof people, path: string): Promise<Page> =>
    signedInPage(browser, api.url, people[who], { path, problems: pageProblems });

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await ensureConsoleBuilt();
    ({ stack, api } = await startSeededStack({ traces: 200, seed: 29 }));
    await updateAgentConfig(
      stack.db,
      'demo',
      { patch: { annotation: { onDeadline: 'proceed_on_judge' } } },
      'test',
      'the judge labels stand at the deadline',
    );
    people.otto = await personWithPassword(stack.db, 'otto', 'operator', 'demo');
    people.vera = await personWithPassword(stack.db, 'vera', 'viewer');
    // Two more versions of the seeded prompt (v1 is production): v2 staged, v3 the newest.
    const base = await showPrompt(stack.db, 'demo', { label: 'production' });
    const text = typeof base.prompt === 'string' ? base.prompt : '';
    const rules = [
      'Always confirm the reservation id before changing a booking.',
      'Transfer to a human agent when the customer asks for one.',
    ];
    for (const [i, labels] of [['staging'], []].entries())
      await createPrompt(stack.db, {
        name: 'demo',
        type: 'text',
        prompt: `${text.trimEnd()}\n${rules.slice(0, i + 1).join('\n')}\n`,
        labels,
        commitMessage: `rule ${i + 1}`,
        actor: 'user:pat',
      });
    worker = await stack.newWorker();
    running = worker.run();
    await startCycle(stack.env.client, {
      taskQueue: stack.taskQueue,
      workflowId: cycleId,
      input: cycleInput,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const built = await waitForStage(
      stack.env.client,
      cycleId,
      ['optimizing', 'gating', 'awaiting_approval', 'done'],
      180_000,
    );
    assert.notEqual(built.stage, 'done', `cycle ended early: ${built.outcome}`);
    // The optimizer's run records the examples it trains on when it starts, just after the
    // stage turns to optimizing; the version's lineage ("trained: optimization run") needs it.
    for (let i = 0; i < 600; i++) {
      const recorded = await stack.db
        .selectFrom('optimization_run_examples')
        .select('run_id')
        .where('run_id', '=', `${cycleId}:opt`)
        .executeTakeFirst();
      if (recorded) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The dataset is built; the rest of the cycle is another test's.
    await stack.env.client.workflow.getHandle(cycleId).terminate('dataset built');
    const versions = await listVersions(stack.db, 'demo');
    datasetVersion = versions.find((v) => v.cycleId === cycleId)?.datasetVersionId ?? '';
    assert.ok(datasetVersion, 'the cycle built a dataset version');
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

  it('an operator compares versions, moves production with a confirmation, rolls it back, and the label history shows both', async () => {
    const otto = await signedIn('otto', '/console/');
    await otto.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Prompts' }).click();
    await otto.getByRole('heading', { level: 1, name: 'Prompts' }).waitFor();
    const row = otto.getByRole('row').filter({ has: otto.getByRole('link', { name: 'demo', exact: true }) });
    assert.match((await row.textContent()) ?? '', /production → v1.*staging → v2/);
    await checkPage(otto, 'prompts');
    await row.getByRole('link', { name: 'demo', exact: true }).click();
    await otto.getByRole('heading', { level: 1, name: 'Prompt demo' }).waitFor();

    const versions = otto.getByRole('region', { name: 'Versions' });
    const rows = versions.getByRole('table').getByRole('row');
    await rows.nth(3).waitFor();
    assert.deepEqual(
      (await rows.allTextContents()).slice(1).map((t) => t.slice(0, 1)),
      ['3', '2', '1'],
      'newest first',
    );
    // Production (v1) against the newest (v3) by default; then v2 against v3: one rule added.
    const compare = otto.getByRole('region', { name: 'Compare two versions' });
    await compare.getByText(/^Version 1 → version 3: \d+ lines? added/).waitFor();
    const added = async () => (await compare.locator('pre.diff .added').allTextContents()).join('\n');
    assert.match(await added(), /Always confirm the reservation id[^]*Transfer to a human agent/);
    await compare.getByLabel('From', { exact: true }).selectOption('2');
    await compare.getByText('Version 2 → version 3: 1 line added, 0 removed.').waitFor();
    assert.match(await added(), /^added: \+Transfer to a human agent/);
    assert.doesNotMatch(await added(), /Always confirm/);

    // Move production to v3: nothing is sent until the move is confirmed.
    const actions = otto.getByRole('region', { name: 'Move or roll back a label' });
    await actions.getByLabel('Label (an existing one, or a new name)').fill('production');
    await actions.getByLabel('To version').selectOption('3');
    await actions.getByLabel('Reason (kept in the audit log)').fill('ship both rules');
    await actions.getByRole('button', { name: 'Move label…' }).click();
    await actions.getByText('Move "production" from version 1 to version 3?').waitFor();
    assert.equal((await showPrompt(stack.db, 'demo', { label: 'production' })).version, 1, 'not moved yet');
    await actions.getByRole('button', { name: 'Confirm move' }).click();
    await actions
      .getByRole('status')
      .filter({ hasText: 'Done: "production" now points at version 3 (was version 1).' })
      .waitFor();
    await rows.nth(1).getByText('production').waitFor();
    assert.equal((await showPrompt(stack.db, 'demo', { label: 'production' })).version, 3);

    // A rollback needs a reason; Cancel sends nothing; then back to where it pointed before.
    await actions.getByRole('button', { name: 'Roll back…' }).click();
    await actions.getByRole('alert').filter({ hasText: 'Say why you roll back' }).waitFor();
    await actions.getByLabel('Reason (required, kept in the audit log)').fill('rule 2 hurts refunds');
    await actions.getByRole('button', { name: 'Roll back…' }).click();
    await actions.getByRole('button', { name: 'Cancel' }).click();
    await actions.getByRole('button', { name: 'Roll back…' }).click();
    await actions
      .getByText('Roll "production" back from version 3 to where it pointed before its last move?')
      .waitFor();
    await actions.getByRole('button', { name: 'Confirm rollback' }).click();
    await actions
      .getByRole('status')
      .filter({ hasText: 'Done: "production" now points at version 1 (was version 3).' })
      .waitFor();
    await rows.nth(3).getByText('production').waitFor();
    assert.equal((await showPrompt(stack.db, 'demo', { label: 'production' })).version, 1);

    const history = otto.getByRole('region', { name: 'Label history' });
    const moves = history.getByRole('row');
    await moves.nth(2).filter({ hasText: 'ship both rules' }).waitFor();
    assert.match(
      (await moves.nth(1).textContent()) ?? '',
      /productionv3 → v1rollbackuser:ottorule 2 hurts refunds/,
    );
    const audit = await stack.db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('artifact', '=', 'prompt:demo/label:production')
      .where('actor', '=', 'user:otto')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      audit.map((a) => a.action),
      ['prompt.label.move', 'prompt.label.rollback'],
    );
    await checkPage(otto, 'prompt-operator');
    await otto.context().close();
  });

  it('a viewer reads the versions and the lineage of one but sees no label control, and the API answers 403 to a rollback', async () => {
    const vera = await signedIn('vera', '/console/prompts/demo');
    await vera.getByRole('heading', { level: 1, name: 'Prompt demo' }).waitFor();
    await vera.getByText('Moving or rolling back a label needs the operator role for demo.').waitFor();
    assert.equal(await vera.getByRole('button', { name: /Move label|Roll back|Confirm/ }).count(), 0);
    assert.equal(await vera.getByRole('region', { name: 'Move or roll back a label' }).count(), 0);
    const request = vera.context().request;
    const me = (await (await request.get(`${api.url}/api/me`)).json()) as { session: { csrfToken: string } };
    const rollback = await request.post(`${api.url}/api/prompts/demo/rollback`, {
      headers: { 'x-csrf-token': me.session.csrfToken },
      data: { reason: 'a viewer tries' },
    });
    assert.equal(rollback.status(), 403);
    assert.match(((await rollback.json()) as { error: string }).error, /needs the operator role/);
    assert.equal((await showPrompt(stack.db, 'demo', { label: 'production' })).version, 1, 'unchanged');

    await vera.getByRole('button', { name: 'Text of v2' }).click();
    await vera
      .getByRole('region', { name: 'Text of version 2' })
      .getByText(/Always confirm the reservation id/)
      .waitFor();
    await vera.getByRole('button', { name: 'Lineage of v3' }).click();
    const lineage = vera.getByRole('region', { name: 'Lineage of demo@v3' });
    await lineage.getByText('Came from').waitFor();
    await checkPage(vera, 'prompt-viewer');
    await vera.context().close();
  });

  it("lists dataset versions and shows one's examples with their split, filtered by split, and the lineage of an example and of the version", async () => {
    const vera = await signedIn('vera', '/console/datasets');
    await vera.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    const link = vera.getByRole('link', { name: datasetVersion });
    assert.match(
      (await vera.getByRole('row').filter({ has: link }).textContent()) ?? '',
      new RegExp(cycleId),
      'the list names the cycle that built it',
    );
    await checkPage(vera, 'datasets');
    await link.click();
    await vera.getByRole('heading', { level: 1, name: `Dataset version ${datasetVersion}` }).waitFor();

    const examples = vera.getByRole('region', { name: 'Examples' });
    const caption = examples.locator('caption');
    await caption.filter({ hasText: /^Examples 1–\d+ of \d+, by key$/ }).waitFor();
    const total = Number(/of (\d+)/.exec((await caption.textContent()) ?? '')?.[1]);
    assert.ok(total > 0, 'the version has examples');
    const splitsShown = async () =>
      new Set(await examples.locator('tbody tr td:nth-child(2) .badge').allTextContents());
    // The filter names each split with its count: "all (12)", "train (6)", ...
    const counts = Object.fromEntries(
      (await examples.locator('fieldset label').allTextContents()).map((t) => {
        const [, split, n] = /(\w+) \((\d+)\)/.exec(t) ?? [];
        return [split, Number(n)];
      }),
    ) as Record<string, number>;
    assert.equal(counts.all, total);
    assert.equal(counts.train! + counts.eval! + counts.holdout!, total, JSON.stringify(counts));
    const shown = ['eval', 'holdout', 'train'].find((s) => counts[s]! > 0)!;
    await examples.getByRole('radio', { name: new RegExp(`^${shown} \\(`) }).check();
    await caption.filter({ hasText: ` in ${shown}, by key` }).waitFor();
    assert.deepEqual([...(await splitsShown())], [shown]);
    assert.match(vera.url(), new RegExp(`split=${shown}`));

    // The lineage of the first example shown: where it came from (its trace) and what used it.
    const first = examples.locator('tbody tr').first();
    const key = (await first.locator('th code').textContent()) ?? '';
    await first.getByRole('button', { name: `Lineage of ${key}` }).click();
    const exampleLineage = vera.getByRole('region', { name: /^Lineage of / });
    await exampleLineage.getByText('Came from').waitFor();
    await exampleLineage
      .locator('.lineage-tree')
      .first()
      .getByText(/^trace$|trace /)
      .first()
      .waitFor();
    assert.match((await exampleLineage.textContent()) ?? '', /dataset version/);
    await checkPage(vera, 'dataset-version-example-lineage');

    await vera.getByRole('button', { name: 'Lineage of this version' }).click();
    const versionLineage = vera.getByRole('region', { name: `Lineage of ${datasetVersion}` });
    await versionLineage.getByText('Came from').waitFor();
    // Its examples (with the traces and clusters behind them) and the optimizer run that trained on it.
    const told = (await versionLineage.textContent()) ?? '';
    assert.match(told, /train example: dataset example/);
    assert.match(told, /trained: optimization run/);
    await checkPage(vera, 'dataset-version');
    await vera.context().close();
  });

  it('lists the agent’s artifacts with their current version and shows the history of one', async () => {
    const otto = await signedIn('otto', '/console/artifacts');
    await otto.getByRole('heading', { level: 1, name: 'Artifacts' }).waitFor();
    const table = otto.getByRole('table', { name: /Artifacts of demo/ });
    const prompt = table.getByRole('row').filter({ has: otto.getByRole('link', { name: 'prompt demo' }) });
    assert.match((await prompt.textContent()) ?? '', /v1v3label production, staging→v2/);
    await table.getByRole('row').filter({ hasText: 'dataset' }).first().waitFor();
    await prompt.getByRole('button', { name: 'History of prompt demo' }).click();
    const history = otto.getByRole('region', { name: 'History of prompt demo' });
    const rows = history.getByRole('row');
    await rows.nth(3).waitFor();
    assert.deepEqual(
      (await rows.allTextContents()).slice(1).map((t) => /^v\d+( current)?/.exec(t)?.[0]),
      ['v1 current', 'v2', 'v3'],
    );
    assert.match(otto.url(), /kind=prompt&name=demo/);
    await table.getByRole('button', { name: 'History of policy sampling' }).click();
    await otto
      .getByRole('region', { name: 'History of policy sampling' })
      .getByText('cycles of one test share one seeded week')
      .waitFor();
    await checkPage(otto, 'artifacts');

    // The whole configuration's history: every version, what each changed, the config as written.
    await table.getByRole('link', { name: 'History of the whole configuration' }).click();
    await otto.getByRole('heading', { level: 1, name: 'Configuration history: demo' }).waitFor();
    const versions = otto.getByRole('table', { name: /Newest first/ });
    const newest = versions.getByRole('row').nth(1);
    assert.match((await newest.textContent()) ?? '', /^v\d+ current/);
    // The seeded week's sampling change is one of the versions, with its reason and section.
    const sampling = versions
      .getByRole('row')
      .filter({ hasText: 'cycles of one test share one seeded week' })
      .first();
    assert.match((await sampling.textContent()) ?? '', /sampling: /);
    const oldest = versions.getByRole('row').last();
    assert.match((await oldest.textContent()) ?? '', /^v1 .*first version/);
    await oldest.getByRole('button', { name: 'Configuration v1' }).press('Enter');
    await otto.getByRole('region', { name: 'Configuration v1, as written' }).locator('pre').waitFor();
    await checkPage(otto, 'config-history');

    // A person with a role for demo only reads demo's lineage (GET /api/lineage authorizes per agent).
    await otto.goto(`${api.url}/console/prompts/demo`);
    await otto.getByRole('button', { name: 'Lineage of v3' }).click();
    await otto.getByRole('region', { name: 'Lineage of demo@v3' }).getByText('Came from').waitFor();
    await otto.context().close();
  });

  it('no page threw an error or hit the Content-Security-Policy', () => {
    assert.deepEqual(pageProblems, []);
  });
});
