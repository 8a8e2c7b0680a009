import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import { FlywheelClient, FlywheelError } from '../../client/flywheel-client.js';
import { servesCandidate } from '../../release/sticky-bucket.js';
import { connectDatabase, poolOf, type Db } from '../../db/connection.js';
import { createPromptVersion, labelledVersion } from '../../registry/store/prompt-repository.js';
import { moveLabel } from '../../registry/label-move-service.js';
import { ResolvedPrompt, type PromptRecord } from '../../schemas/prompt.js';
import { freePort, startTestDatabase } from '../helpers/test-stack.js';
import { personWithToken } from '../helpers/api-credentials.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';

const REFRESH_MS = 200;

type Version = { version: number; id: string };
/** The fields these tests read from API answers (each answer has some of them). */
interface Answer {
  error: string;
  prompt: PromptRecord & { prompt: PromptRecord['prompt'] };
  version: number;
  labels: string[];
  type: string;
  createdBy: string;
  data: { name: string; type: string; lastUpdatedAt: string }[];
  changed: boolean;
  move: { from: Version; to: Version };
  webhook: { delivered: boolean; error: string | null };
  added: number;
  removed: number;
  diff: string;
}

describe('prompt registry, labels and resolve over HTTP on real Postgres', () => {
  let database: { db: Db; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;
  let receiver: Server;
  const received: { text: string; event: string; data: Record<string, unknown> }[] = [];

  /** Personal tokens of the people acting (operators), made on first use. */
  const tokens = new Map<string, string>();
  const tokenOf = async (person: string) => {
    if (!tokens.has(person)) tokens.set(person, (await personWithToken(db, person, 'operator')).token);
    return tokens.get(person)!;
  };
  let resolveToken = '';
  /**
   * A request as `actor` (an operator; a reader for bodies that name nobody): who acts
   * comes from the token, so the body's `actor` picks the token and is left out.
   */
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const { actor, ...rest } = (body ?? {}) as { actor?: string };
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await tokenOf(actor ?? 'reader')}`,
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(rest) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: (text ? JSON.parse(text) : {}) as Answer };
  };
  /** Everything a refused request must leave untouched. */
  const registryState = async () => ({
    versions: await db.selectFrom('prompt_versions').select(['id']).orderBy('id').execute(),
    labels: await db
      .selectFrom('prompt_labels')
      .select(['prompt_name', 'label', 'prompt_version_id'])
      .orderBy('prompt_name')
      .orderBy('label')
      .execute(),
    audit: (await db.selectFrom('audit_log').select('id').execute()).length,
    notifications: (await db.selectFrom('notifications').select('id').execute()).length,
  });
  const resolveMany = async (units: string[], base = api.url) =>
    Promise.all(
      units.map(async (u) =>
        ResolvedPrompt.parse(
          await (
            await fetch(`${base}/api/prompts/support/resolve?unit=${u}`, {
              headers: { authorization: `Bearer ${resolveToken}` },
            })
          ).json(),
        ),
      ),
    );
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof received)[number]);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    // Nothing listens on this port: deliveries to "broken" fail.
    const dead = `http://127.0.0.1:${await freePort()}/hook`;
    await db
      .insertInto('agents')
      .values([
        { id: 'support', config: JSON.stringify({ notifications: { webhookUrl: hook } }) },
        { id: 'broken', config: JSON.stringify({ notifications: { webhookUrl: dead } }) },
      ])
      .execute();
    api = await startApiServer(apiDeps(db, new Client(), { routingRefreshMs: REFRESH_MS }), 0);
    // The agent resolves with its own token, as a deployed agent does.
    resolveToken = (await createAgentToken(db, { agent: 'support', scopes: ['resolve'], createdBy: 'test' }))
      .token;
  });
  after(async () => {
    await api?.close();
    await new Promise((r) => receiver?.close(r));
    await database?.teardown();
  });

  it('creates immutable numbered versions in the Langfuse shape, with labels set at creation', async () => {
    const v1 = await call('POST', '/api/prompts', {
      name: 'support',
      type: 'text',
      prompt: 'You are a support agent.\nBe polite.\n',
      config: { model: 'gpt-4o', temperature: 0 },
      labels: ['production'],
      tags: ['airline'],
      commitMessage: 'first version',
      actor: 'alice',
    });
    assert.equal(v1.status, 201, v1.text);
    assert.equal(v1.json.prompt.id, 'support@v1');
    const v2 = await call('POST', '/api/prompts', {
      name: 'support',
      type: 'text',
      prompt: 'You are a support agent.\nBe polite.\nAsk for the reservation id.\n',
      actor: 'bob',
    });
    assert.equal(v2.json.prompt.version, 2);

    const res = await call('GET', '/api/prompts/support');
    assert.equal(res.status, 200);
    const production = res.json as unknown as PromptRecord;
    assert.ok(!Number.isNaN(Date.parse(production.createdAt)));
    assert.deepEqual(
      { ...production, createdAt: typeof production.createdAt },
      {
        id: 'support@v1',
        name: 'support',
        agent: 'support',
        type: 'text',
        prompt: 'You are a support agent.\nBe polite.\n',
        config: { model: 'gpt-4o', temperature: 0 },
        version: 1,
        labels: ['production'],
        tags: ['airline'],
        commitMessage: 'first version',
        createdBy: 'user:alice',
        createdAt: 'string',
      },
    );
    const latest = await call('GET', '/api/prompts/support?label=latest');
    assert.equal(latest.json.version, 2);
    assert.deepEqual(latest.json.labels, ['latest']);
    assert.equal((await call('GET', '/api/prompts/support?version=2')).json.createdBy, 'user:bob');
    // The creation's label is audited and announced like any move.
    const audit = await db.selectFrom('audit_log').selectAll().where('actor', '=', 'user:alice').execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.artifact, 'prompt:support/label:production');
  });

  it('registers a chat prompt under an agent and lists every prompt with counts, labels and tags', async () => {
    const chat = await call('POST', '/api/prompts', {
      name: 'support-summary',
      agent: 'support',
      type: 'chat',
      prompt: [
        { role: 'system', content: 'Summarise the conversation.' },
        { role: 'user', content: '{{conversation}}' },
      ],
      tags: ['summary'],
      actor: 'alice',
    });
    assert.equal(chat.status, 201, chat.text);
    const shown = (await call('GET', '/api/prompts/support-summary?label=latest'))
      .json as unknown as PromptRecord;
    assert.equal(shown.type, 'chat');
    assert.deepEqual((shown.prompt as { role: string; content: string }[])[1], {
      role: 'user',
      content: '{{conversation}}',
    });
    const list = await call('GET', '/api/prompts');
    const byName = new Map(list.json.data.map((p) => [p.name, p]));
    assert.deepEqual(byName.get('support'), {
      name: 'support',
      agent: 'support',
      type: 'text',
      versions: 2,
      latest: 2,
      labels: { production: 1, latest: 2 },
      tags: [],
      lastUpdatedAt: byName.get('support')?.lastUpdatedAt,
    });
    assert.equal(byName.get('support-summary')?.type, 'chat');
    // A new prompt whose name is no agent's id needs its owner named.
    const orphan = await call('POST', '/api/prompts', {
      name: 'orphan',
      type: 'text',
      prompt: 'x',
      actor: 'a',
    });
    assert.equal(orphan.status, 400);
    assert.match(orphan.json.error, /say which agent owns it/);
  });

  it('moves a label with an audit row (who, what, when, from → to, why) and a webhook announcement', async () => {
    const before = received.length;
    const moved = await call('POST', '/api/prompts/support/labels', {
      label: 'production',
      version: 2,
      actor: 'carol',
      reason: 'v2 asks for the id',
    });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.json.changed, true);
    assert.equal(moved.json.webhook.delivered, true);
    const row = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('actor', '=', 'user:carol')
      .executeTakeFirstOrThrow();
    assert.equal(row.action, 'prompt.label.move');
    assert.equal(row.artifact, 'prompt:support/label:production');
    assert.ok(row.created_at instanceof Date);
    assert.deepEqual(row.detail, {
      prompt: 'support',
      label: 'production',
      from: 'support@v1',
      to: 'support@v2',
      fromVersion: 1,
      toVersion: 2,
      why: 'v2 asks for the id',
    });
    assert.equal(received.length, before + 1);
    const message = received.at(-1)!;
    assert.equal(message.event, 'prompt_label_moved');
    assert.match(message.text, /support: label "production" moved v1 → v2/);
    assert.match(message.text, /by user:carol/);
    assert.equal(message.data.auditId, String(row.id));
    const notice = await db
      .selectFrom('notifications')
      .selectAll()
      .where('event', '=', 'prompt_label_moved')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(notice.delivered, true);
    assert.equal(notice.status, 200);
    // The same move again changes nothing and is not audited twice.
    const again = await call('POST', '/api/prompts/support/labels', {
      label: 'production',
      version: 2,
      actor: 'carol',
    });
    assert.equal(again.json.changed, false);
    assert.equal(
      (await db.selectFrom('audit_log').where('actor', '=', 'user:carol').select('id').execute()).length,
      1,
    );
  });

  it('rolls a label back to where it pointed before its last move, or to a given version', async () => {
    const back = await call('POST', '/api/prompts/support/rollback', { actor: 'dave', reason: 'complaints' });
    assert.equal(back.status, 200, back.text);
    assert.deepEqual([back.json.move.from.version, back.json.move.to.version], [2, 1]);
    assert.equal((await labelledVersion(db, 'support', 'production'))?.id, 'support@v1');
    const audit = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('actor', '=', 'user:dave')
      .executeTakeFirstOrThrow();
    assert.equal(audit.action, 'prompt.label.rollback');
    assert.match(received.at(-1)!.text, /rolled back v2 → v1/);
    const to = await call('POST', '/api/prompts/support/rollback', { to: 2, actor: 'dave', reason: 'fixed' });
    assert.equal(to.json.move.to.version, 2);
  });

  it('records a failed webhook delivery without blocking the move', async () => {
    await createPromptVersion(db, 'broken', 'Prompt one.', 'seed', null);
    const moved = await call('POST', '/api/prompts/broken/labels', {
      label: 'production',
      version: 1,
      actor: 'erin',
    });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.json.webhook.delivered, false);
    assert.ok(moved.json.webhook.error);
    assert.equal((await labelledVersion(db, 'broken', 'production'))?.version, 1);
    const notice = await db
      .selectFrom('notifications')
      .selectAll()
      .where('agent_id', '=', 'broken')
      .executeTakeFirstOrThrow();
    assert.equal(notice.delivered, false);
  });

  it('keeps the functions that predate the registry working on the agent prompt', async () => {
    const v = await createPromptVersion(db, 'broken', 'Prompt two.', 'optimizer', 'cand-1');
    assert.equal(v.id, 'broken@v2');
    assert.equal(v.name, 'broken');
    assert.equal((await createPromptVersion(db, 'broken', 'again', 'optimizer', 'cand-1')).id, 'broken@v2');
    const move = await moveLabel(db, 'broken', 'candidate', v.id, 'flywheel', 'passed gate');
    assert.equal(move?.move.to?.version, 2);
    assert.equal((await labelledVersion(db, 'broken', 'candidate'))?.id, 'broken@v2');
    assert.equal((await labelledVersion(db, 'broken', 'latest'))?.id, 'broken@v2');
    await moveLabel(db, 'broken', 'candidate', null, 'flywheel', 'rollout done');
    assert.equal(await labelledVersion(db, 'broken', 'candidate'), undefined);
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    // A label set once, from nothing, has no earlier version to roll back to.
    await call('POST', '/api/prompts/support/labels', { label: 'staging', version: 1, actor: 'x' });
    const state = await registryState();
    const cases: [string, string, unknown, number, RegExp][] = [
      [
        'POST',
        '/api/prompts/support/labels',
        { label: 'production', version: 9, actor: 'x' },
        404,
        /no version 9; its versions are 1 to 2/,
      ],
      [
        'POST',
        '/api/prompts/support/labels',
        { label: 'Prod!', version: 1, actor: 'x' },
        400,
        /labels are lower-case/,
      ],
      [
        'POST',
        '/api/prompts/support/labels',
        { label: 'latest', version: 1, actor: 'x' },
        400,
        /"latest" always points at the highest version/,
      ],
      [
        'POST',
        '/api/prompts/support/labels',
        { label: 'production', version: 1, approver: 'x' },
        400,
        /Remove "approver" from the body: who acts comes from your credentials/,
      ],
      [
        'POST',
        '/api/prompts/support/rollback',
        { label: 'staging', actor: 'x', reason: 'r' },
        409,
        /no earlier version/,
      ],
      [
        'POST',
        '/api/prompts/support/rollback',
        { to: 2, actor: 'x', reason: 'r' },
        409,
        /already points at support@v2/,
      ],
      [
        'POST',
        '/api/prompts/nobody/labels',
        { label: 'production', version: 1, actor: 'x' },
        404,
        /No prompt named "nobody"/,
      ],
      ['POST', '/api/prompts/nobody/rollback', { actor: 'x', reason: 'r' }, 404, /No prompt named "nobody"/],
      ['GET', '/api/prompts/nobody', undefined, 404, /No prompt named "nobody"/],
      ['GET', '/api/prompts/support?version=7', undefined, 404, /no version 7/],
      ['GET', '/api/prompts/support?label=canary', undefined, 404, /label "canary"/],
      ['GET', '/api/prompts/nobody/diff?from=1&to=2', undefined, 404, /No prompt named "nobody"/],
      ['GET', '/api/prompts/nobody/resolve?unit=u', undefined, 404, /No prompt named "nobody"/],
      ['GET', '/api/prompts/support/resolve', undefined, 400, /unit key/],
      [
        'POST',
        '/api/prompts',
        { name: 'support', type: 'chat', prompt: 'not a list', actor: 'x' },
        400,
        /prompt/,
      ],
      [
        'POST',
        '/api/prompts',
        { name: 'support-summary', agent: 'broken', type: 'text', prompt: 'x', actor: 'x' },
        409,
        /belongs to agent "support"/,
      ],
    ];
    for (const [method, path, body, status, message] of cases) {
      const res = await call(method, path, body);
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      assert.match(res.json.error, message, `${method} ${path}`);
    }
    assert.deepEqual(await registryState(), state);
  });

  it('diffs two versions as a unified line diff', async () => {
    const res = await call('GET', '/api/prompts/support/diff?from=1&to=production');
    assert.equal(res.status, 200);
    assert.equal(res.json.added, 1);
    assert.equal(res.json.removed, 0);
    assert.equal(
      res.json.diff,
      '--- support@v1\n+++ support@v2\n@@ -1,2 +1,3 @@\n You are a support agent.\n Be polite.\n+Ask for the reservation id.\n',
    );
  });

  it('resolves sticky per unit, consistent with the rollout weight, and every API instance (own pool, own snapshot) sees a change within the refresh bound', async () => {
    await call('POST', '/api/prompts/support/rollback', {
      to: 1,
      actor: 'ops',
      reason: 'baseline for rollout',
    });
    const units = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    for (const r of await resolveMany(units.slice(0, 20))) {
      assert.deepEqual(
        [r.version, r.variant, r.label, r.rolloutId, r.weight],
        [1, 'production', 'production', null, 0],
      );
      assert.equal(r.prompt, 'You are a support agent.\nBe polite.\n');
    }
    await db
      .insertInto('rollouts')
      .values({
        id: 'ro-support-1',
        cycle_id: null,
        agent_id: 'support',
        release_decision_id: null,
        baseline_version_id: 'support@v1',
        candidate_version_id: 'support@v2',
        weight: 30,
        status: 'running',
        reason: null,
        ended_at: null,
        workflow_id: null,
      })
      .execute();
    await sleep(REFRESH_MS * 2 + 100);
    const at30 = await resolveMany(units);
    for (const [i, r] of at30.entries()) {
      const candidate = servesCandidate(units[i]!, 'ro-support-1', 30);
      assert.equal(r.variant, candidate ? 'candidate' : 'production');
      assert.equal(r.version, candidate ? 2 : 1);
      assert.deepEqual([r.rolloutId, r.weight], ['ro-support-1', 30]);
    }
    assert.ok(at30.some((r) => r.variant === 'candidate') && at30.some((r) => r.variant === 'production'));

    // A second API instance with its own connection pool and routing snapshot stands for
    // another replica: nothing is shared between the two but the database.
    const otherDb = connectDatabase(
      (poolOf(db) as unknown as { options: { connectionString: string } }).options.connectionString,
      2,
    );
    const other = await startApiServer(apiDeps(otherDb, new Client(), { routingRefreshMs: REFRESH_MS }), 0);
    try {
      await sleep(REFRESH_MS * 2 + 100);
      const changedAt = performance.now();
      await db.updateTable('rollouts').set({ weight: 60 }).where('id', '=', 'ro-support-1').execute();
      const seenAfterMs = new Map<string, number>();
      while (performance.now() - changedAt < 3000 && seenAfterMs.size < 2) {
        // Both instances are asked at once, so one's answer time does not delay the other's.
        await Promise.all(
          [api.url, other.url]
            .filter((base) => !seenAfterMs.has(base))
            .map(async (base) => {
              const answers = await resolveMany(units.slice(0, 50), base);
              // Until the snapshot swaps, answers are the old weight's, never a mix within one answer.
              for (const [i, r] of answers.entries())
                assert.equal(r.variant === 'candidate', servesCandidate(units[i]!, 'ro-support-1', r.weight));
              if (answers.every((r) => r.weight === 60)) seenAfterMs.set(base, performance.now() - changedAt);
            }),
        );
        await sleep(10);
      }
      for (const base of [api.url, other.url]) {
        const ms = seenAfterMs.get(base) ?? Infinity;
        assert.ok(ms <= REFRESH_MS + 250, `${base} served the new weight after ${ms} ms`);
      }
    } finally {
      await other.close();
      await otherDb.destroy();
    }
    const at60 = await resolveMany(units);
    for (const [i, r] of at30.entries())
      if (r.variant === 'candidate')
        assert.equal(at60[i]!.variant, 'candidate', `${units[i]} kept its version`);
  });

  it('answers a matching If-None-Match with 304 and a new ETag after the weight changes', async () => {
    const first = await call('GET', '/api/prompts/support/resolve?unit=user-1');
    const etag = first.headers.get('etag')!;
    assert.match(etag, /^"[0-9a-z]+"$/);
    assert.match(first.headers.get('cache-control')!, /^max-age=\d+$/);
    const again = await call('GET', '/api/prompts/support/resolve?unit=user-1', undefined, {
      'if-none-match': etag,
    });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    assert.equal(again.headers.get('etag'), etag);
    await db.updateTable('rollouts').set({ weight: 61 }).where('id', '=', 'ro-support-1').execute();
    await sleep(REFRESH_MS * 2 + 100);
    const changed = await call('GET', '/api/prompts/support/resolve?unit=user-1', undefined, {
      'if-none-match': etag,
    });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
  });

  it('the TypeScript client resolves, caches for max-age, revalidates with its ETag and names the served version', async () => {
    let clock = 1_000_000;
    const seen: { url: string; ifNoneMatch: string | null; status: number }[] = [];
    const client = new FlywheelClient({
      baseUrl: `${api.url}/`,
      token: resolveToken,
      now: () => clock,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const h = new Headers(init?.headers);
        seen.push({
          url: input instanceof Request ? input.url : input.toString(),
          ifNoneMatch: h.get('if-none-match'),
          status: res.status,
        });
        return res;
      },
    });
    const unit = 'user-42';
    const resolved = await client.resolvePrompt('support', unit);
    assert.equal(resolved.version, servesCandidate(unit, 'ro-support-1', 61) ? 2 : 1);
    assert.deepEqual(client.traceAttributes(resolved), {
      'flywheel.prompt.name': 'support',
      'flywheel.prompt.version': resolved.version,
    });
    assert.deepEqual(await client.resolvePrompt('support', unit), resolved);
    assert.equal(seen.length, 1, 'served from the local cache within max-age');
    clock += 5_000;
    assert.deepEqual(await client.resolvePrompt('support', unit), resolved);
    assert.equal(seen.length, 2);
    assert.equal(seen[1]!.status, 304);
    assert.ok(seen[1]!.ifNoneMatch);
    await assert.rejects(client.resolvePrompt('nobody', unit), (e: unknown) => {
      assert.ok(e instanceof FlywheelError);
      assert.equal(e.status, 404);
      assert.match(e.message, /No prompt named "nobody"/);
      return true;
    });
  });
});
