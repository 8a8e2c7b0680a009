import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import { importExamples } from '../../datasets/dataset-service.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { callApi } from '../helpers/api-call.js';

const line = (v: unknown) => JSON.stringify(v);

interface Version {
  version: number;
  labels: string[];
  current: boolean;
  createdBy: string;
  commitMessage: string;
  source: string;
}
/** The fields these tests read from the answers (each answer has some of them). */
interface Answer {
  error: string;
  agent: string;
  versions: Version[];
  moves: Record<string, unknown>[];
  total: number;
  examples: { key: string; split: string; lineage: { source: string } }[];
  artifacts: { kind: string; name: string | null; current: number | null }[];
  root: string;
  nodes: { label: string }[];
}

/**
 * The read routes the console's prompts, datasets and artifacts pages stand on: a prompt's
 * versions and label moves, a page of a dataset version's examples by split, an agent's
 * artifacts and the history of one, and the lineage of a prompt version.
 */
describe('registry read routes for the console over HTTP on real Postgres', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  const headers: Record<'otto' | 'vera' | 'stranger', Record<string, string>> = {} as never;
  let versionId = '';

  const call = (who: keyof typeof headers, method: string, path: string, body?: unknown) =>
    callApi<Answer>(api.url, headers[who], method, path, body);

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    await db
      .insertInto('agents')
      .values([
        { id: 'support', config: JSON.stringify({}) },
        { id: 'other', config: JSON.stringify({}) },
      ])
      .execute();
    api = await startApiServer(apiDeps(db, new Client()), 0);
    headers.otto = (await personWithToken(db, 'otto', 'operator', 'support')).headers;
    headers.vera = (await personWithToken(db, 'vera', 'viewer')).headers;
    headers.stranger = (await personWithToken(db, 'stranger', 'viewer', 'other')).headers;
    for (const [prompt, labels] of [
      ['Be polite.\n', ['production']],
      ['Be polite.\nAsk for the reservation id.\n', ['staging']],
      ['Be polite.\nAsk for the reservation id.\nConfirm before cancelling.\n', []],
    ] as const) {
      const created = await call('otto', 'POST', '/api/prompts', {
        name: 'support',
        type: 'text',
        prompt,
        labels,
        commitMessage: `${prompt.split('\n').length - 1} rules`,
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
    }
    const text = ['a', 'b', 'c', 'd', 'e', 'f']
      .map((key, i) =>
        line({
          key: `ex-${key}`,
          input: `question ${key}`,
          expected: { action: 'respond' },
          split: (['train', 'eval', 'holdout'] as const)[i % 3],
        }),
      )
      .join('\n');
    const imported = await importExamples(db, { agent: 'support', text, createdBy: 'tess' });
    versionId = imported.version!.datasetVersionId;
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it("lists a prompt's versions newest first with their labels, author and message, and no bodies", async () => {
    const res = await call('vera', 'GET', '/api/prompts/support/versions');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.agent, 'support');
    const versions = res.json.versions;
    assert.deepEqual(
      versions.map((v) => [v.version, v.labels]),
      [
        [3, ['latest']],
        [2, ['staging']],
        [1, ['production']],
      ],
    );
    assert.equal(versions[0]!.createdBy, 'user:otto');
    assert.equal(versions[0]!.commitMessage, '3 rules');
    assert.equal(versions[0]!.source, 'manual');
    assert.ok(!('prompt' in versions[0]!) && !('text' in versions[0]!), 'the list carries no bodies');
    const missing = await call('vera', 'GET', '/api/prompts/nobody/versions');
    assert.equal(missing.status, 404);
    assert.match(missing.json.error, /No prompt named "nobody"/);
  });

  it('lists the label moves newest first, a rollback among them, with who, from, to and why', async () => {
    const moved = await call('otto', 'POST', '/api/prompts/support/labels', {
      label: 'production',
      version: 3,
      reason: 'ship the confirmation rule',
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
    const back = await call('otto', 'POST', '/api/prompts/support/rollback', { reason: 'complaints' });
    assert.equal(back.status, 200, JSON.stringify(back.json));
    const res = await call('vera', 'GET', '/api/prompts/support/label-moves');
    assert.equal(res.status, 200);
    const moves = res.json.moves.map(({ label, action, fromVersion, toVersion, actor, reason }) => ({
      label,
      action,
      fromVersion,
      toVersion,
      actor,
      reason,
    }));
    assert.deepEqual(moves.slice(0, 2), [
      {
        label: 'production',
        action: 'prompt.label.rollback',
        fromVersion: 3,
        toVersion: 1,
        actor: 'user:otto',
        reason: 'complaints',
      },
      {
        label: 'production',
        action: 'prompt.label.move',
        fromVersion: 1,
        toVersion: 3,
        actor: 'user:otto',
        reason: 'ship the confirmation rule',
      },
    ]);
    assert.deepEqual(
      moves.slice(2).map((m) => [m.label, m.fromVersion, m.toVersion]),
      [
        ['staging', null, 2],
        ['production', null, 1],
      ],
    );
  });

  it('refuses the prompt reads to a person whose role is for another agent', async () => {
    for (const path of ['/api/prompts/support/versions', '/api/prompts/support/label-moves'])
      assert.equal((await call('stranger', 'GET', path)).status, 403, path);
  });

  it("pages a dataset version's examples in key order, filtered by split, each with its lineage", async () => {
    const all = await call('otto', 'GET', `/api/datasets/${versionId}/examples`);
    assert.equal(all.status, 200, JSON.stringify(all.json));
    assert.equal(all.json.total, 6);
    assert.deepEqual(
      all.json.examples.map((e) => e.key),
      ['ex-a', 'ex-b', 'ex-c', 'ex-d', 'ex-e', 'ex-f'],
    );
    assert.equal(all.json.examples[0]!.lineage.source, 'import');
    const evalOnly = await call('otto', 'GET', `/api/datasets/${versionId}/examples?split=eval&limit=1`);
    assert.equal(evalOnly.json.total, 2);
    assert.deepEqual(
      evalOnly.json.examples.map((e) => [e.key, e.split]),
      [['ex-b', 'eval']],
    );
    const next = await call('otto', 'GET', `/api/datasets/${versionId}/examples?split=eval&limit=1&offset=1`);
    assert.deepEqual(
      next.json.examples.map((e) => e.key),
      ['ex-e'],
    );
  });

  it('refuses an unknown split or an out-of-range page with what to send, and a stranger with 403', async () => {
    const split = await call('otto', 'GET', `/api/datasets/${versionId}/examples?split=test`);
    assert.equal(split.status, 400);
    assert.match(split.json.error, /split=train\|eval\|holdout/);
    const limit = await call('otto', 'GET', `/api/datasets/${versionId}/examples?limit=1000`);
    assert.equal(limit.status, 400);
    assert.match(limit.json.error, /limit must be 1 to 200/);
    assert.equal(
      (await call('stranger', 'GET', `/api/datasets/${versionId}/examples`)).status,
      403,
      'the version belongs to another agent',
    );
    assert.equal((await call('vera', 'GET', '/api/datasets/no-such-version/examples')).status, 404);
  });

  it("lists an agent's artifacts and the history of one, the current version marked", async () => {
    const list = await call('otto', 'GET', '/api/agents/support/artifacts');
    assert.equal(list.status, 200, JSON.stringify(list.json));
    const artifacts = list.json.artifacts;
    const kinds = new Set(artifacts.map((a) => a.kind));
    for (const kind of ['config', 'prompt', 'rubric', 'dataset', 'policy', 'optimizer'])
      assert.ok(kinds.has(kind), `lists the ${kind}`);
    assert.deepEqual(
      artifacts.find((a) => a.kind === 'prompt' && a.name === 'support')?.current,
      1,
      'the prompt is where its production label points',
    );
    const prompt = await call('otto', 'GET', '/api/agents/support/artifacts/prompt/history?name=support');
    assert.equal(prompt.status, 200, JSON.stringify(prompt.json));
    assert.deepEqual(
      prompt.json.versions.map((v) => [v.version, v.current]),
      [
        [1, true],
        [2, false],
        [3, false],
      ],
    );
    const dataset = await call('otto', 'GET', '/api/agents/support/artifacts/dataset/history');
    assert.deepEqual(
      dataset.json.versions.map((v) => [v.version, v.current]),
      [[1, true]],
    );
    const sampling = await call('otto', 'GET', '/api/agents/support/artifacts/policy/history?name=sampling');
    assert.equal(sampling.status, 200, JSON.stringify(sampling.json));
    assert.equal(sampling.json.versions.length, 1);
  });

  it('refuses an unknown artifact kind or policy section with the ones there are, and another agent with 403', async () => {
    const kind = await call('otto', 'GET', '/api/agents/support/artifacts/poem/history');
    assert.equal(kind.status, 400);
    assert.match(kind.json.error, /use one of prompt, rubric, dataset, policy, optimizer/);
    const section = await call('otto', 'GET', '/api/agents/support/artifacts/policy/history?name=nope');
    assert.equal(section.status, 400);
    assert.match(section.json.error, /Name a policy section: one of .*sampling/);
    assert.equal((await call('otto', 'GET', '/api/agents/other/artifacts')).status, 403);
  });

  it("finds a prompt version's lineage by its id", async () => {
    const res = await call('vera', 'GET', `/api/lineage/${encodeURIComponent('support@v2')}`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.root, 'prompt_version:support@v2');
    assert.equal(res.json.nodes[0]!.label, 'version 2');
  });
});
