import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { apiDeps, startApiServer, type ApiServer } from '../../api/http-server.js';
import type { Db } from '../../db/connection.js';
import { createAgentToken } from '../../registry/store/agent-tokens.js';
import { updateAgent } from '../../registry/agent-service.js';
import { startTestDatabase } from '../helpers/test-stack.js';
import { ensureAgent } from '../../registry/store/agent-repository.js';
import { personWithToken } from '../helpers/api-credentials.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
let spanCounter = 0;

/** One OTLP/JSON request of one span per entry, each with its own resource attributes. */
function otlp(
  spans: { resource: Record<string, string>; attributes?: Record<string, string>; name: string }[],
) {
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: spans.map((s) => {
      spanCounter += 1;
      return {
        resource: {
          attributes: Object.entries(s.resource).map(([key, value]) => ({
            key,
            value: { stringValue: value },
          })),
        },
        scopeSpans: [
          {
            spans: [
              {
                traceId: hex(spanCounter, 32),
                spanId: hex(spanCounter, 16),
                name: s.name,
                startTimeUnixNano: String(t0),
                endTimeUnixNano: String(t0 + 1_000_000n),
                attributes: Object.entries({ 'openinference.span.kind': 'AGENT', ...s.attributes }).map(
                  ([key, value]) => ({ key, value: { stringValue: value } }),
                ),
              },
            ],
          },
        ],
      };
    }),
  });
}

describe('explicit agents over HTTP and the attribution of OTLP spans', () => {
  let database: { db: Db; url: string; teardown(): Promise<void> };
  let db: Db;
  let api: ApiServer;

  /** Personal tokens of the people acting (admins), made on first use. */
  const tokens = new Map<string, string>();
  const headersOf = async (person: string) => {
    if (!tokens.has(person)) tokens.set(person, (await personWithToken(db, person, 'admin')).token);
    return { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(person)!}` };
  };
  /** A request as the body's `actor` (default ops): who acts comes from the token, so the field is left out. */
  const call = async (method: string, path: string, body?: unknown) => {
    const { actor, ...rest } = (body ?? {}) as { actor?: string };
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: await headersOf(actor ?? 'ops'),
      ...(body === undefined ? {} : { body: JSON.stringify(rest) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const configVersions = async (agent: string) =>
    (await db.selectFrom('agent_config_versions').select('version').where('agent_id', '=', agent).execute())
      .length;
  const storedAgents = async (agent: string) =>
    (await db.selectFrom('traces').select('agent_id').where('agent_id', '=', agent).execute()).length;

  before(async () => {
    database = await startTestDatabase();
    db = database.db;
    // Temporal is not needed: a lazy client never connects.
    api = await startApiServer(apiDeps(db, new Client()), 0);
  });
  after(async () => {
    await api?.close();
    await database?.teardown();
  });

  it('registers an agent with a name, description and configuration, then lists and shows it', async () => {
    const created = await call('POST', '/api/agents', {
      id: 'checkout-bot',
      displayName: 'Checkout assistant',
      description: 'Answers questions at checkout',
      config: { retentionDays: 14, sampling: { rate: 0.2 } },
      actor: 'ops',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.displayName, 'Checkout assistant');
    assert.equal(created.body.retentionDays, 14);
    assert.equal(created.body.configVersion, 1);
    assert.equal((created.body.config as { sampling: { rate: number } }).sampling.rate, 0.2);

    const list = await call('GET', '/api/agents');
    const entry = (list.body.data as Record<string, unknown>[]).find((a) => a.id === 'checkout-bot');
    assert.ok(entry, 'the new agent is listed');
    assert.equal(entry.lastCycle, null);
    assert.deepEqual(entry.traces, { lastTraceAt: null, last7Days: { count: 0, exact: true } });

    const shown = await call('GET', '/api/agents/checkout-bot');
    assert.equal(shown.status, 200);
    assert.equal(shown.body.description, 'Answers questions at checkout');
    const audit = await db
      .selectFrom('audit_log')
      .select('actor')
      .where('action', '=', 'agent.create')
      .execute();
    assert.deepEqual(
      audit.map((a) => a.actor),
      ['user:ops'],
    );
  });

  it('lets a token be created for a registered agent, and says how to register an unknown one', async () => {
    await createAgentToken(db, { agent: 'checkout-bot', scopes: ['ingest'], createdBy: 'test' });
    await assert.rejects(
      createAgentToken(db, { agent: 'nobody', scopes: ['ingest'], createdBy: 'test' }),
      /flywheel agent create nobody/,
    );
  });

  it('refuses a bad registration with a 400 or 409 that says what to fix, and stores nothing', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ id: 'has space', actor: 'ops' }, 400, /letters, digits, dot, dash and underscore/],
      [{ id: 'named', reviewer: 'ops' }, 400, /Remove "reviewer" from the body/],
      [{ id: 'typo', actor: 'ops', displayname: 'x' }, 400, /displayname/],
      [{ id: 'bad-config', actor: 'ops', config: { retentionDays: -1 } }, 400, /config\.retentionDays/],
      [{ id: 'bad-section', actor: 'ops', config: { retention: 7 } }, 400, /no section retention/],
      [{ id: 'checkout-bot', actor: 'ops' }, 409, /exists already/],
    ];
    for (const [body, status, message] of cases) {
      const res = await call('POST', '/api/agents', body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.match(String(res.body.error), message);
    }
    const ids = (await db.selectFrom('agents').select('id').execute()).map((a) => a.id).sort();
    assert.deepEqual(ids, ['checkout-bot']);
    const notJson = await fetch(`${api.url}/api/agents`, {
      method: 'POST',
      headers: await headersOf('ops'),
      body: '{',
    });
    assert.equal(notJson.status, 400);
  });

  it('changes configuration keys and names as one new configuration version', async () => {
    const before = await configVersions('checkout-bot');
    const res = await call('PATCH', '/api/agents/checkout-bot', {
      displayName: 'Checkout',
      set: { retentionDays: 7, 'sampling.maxSample': 50 },
      actor: 'ops',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.changed, true);
    assert.deepEqual(res.body.configVersion, { from: before, to: before + 1 });
    const agent = res.body.agent as {
      displayName: string;
      retentionDays: number;
      config: { sampling: { rate: number; maxSample: number } };
    };
    assert.equal(agent.displayName, 'Checkout');
    assert.equal(agent.retentionDays, 7);
    assert.equal(agent.config.sampling.maxSample, 50);
    assert.equal(agent.config.sampling.rate, 0.2, 'a sibling key keeps its value');
    const again = await call('PATCH', '/api/agents/checkout-bot', {
      set: { retentionDays: 7 },
      actor: 'ops',
    });
    assert.equal(again.body.changed, false);
    assert.equal(await configVersions('checkout-bot'), before + 1, 'an unchanged value writes no version');
  });

  it('refuses a misspelt key, an invalid value, an unknown agent or an empty change, changing nothing', async () => {
    const versions = await configVersions('checkout-bot');
    const cases: [string, unknown, number, RegExp][] = [
      [
        'checkout-bot',
        { set: { 'sampling.rat': 0.5 }, displayName: 'Renamed', actor: 'ops' },
        400,
        /no key sampling\.rat/,
      ],
      ['checkout-bot', { set: { retentionDays: 'a week' }, actor: 'ops' }, 400, /retentionDays/],
      ['checkout-bot', { set: { 'retentionDays.value': 3 }, actor: 'ops' }, 400, /retentionDays is a number/],
      ['checkout-bot', { actor: 'ops' }, 400, /say what to change/],
      ['checkout-bot', { unmatch: [{ 'service.name': 'x' }], actor: 'ops' }, 400, /no attribution rule/],
      ['nobody', { set: { retentionDays: 3 }, actor: 'ops' }, 404, /flywheel agent create nobody/],
    ];
    for (const [agent, body, status, message] of cases) {
      const res = await call('PATCH', `/api/agents/${agent}`, body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.match(String(res.body.error), message);
    }
    assert.equal(await configVersions('checkout-bot'), versions);
    const shown = await call('GET', '/api/agents/checkout-bot');
    assert.equal(shown.body.displayName, 'Checkout', 'the rename next to the bad key was not applied');
  });

  it("stores an agent-scoped token's spans under its agent whatever service.name and gen_ai.agent.name say", async () => {
    await call('POST', '/api/agents', { id: 'airline', actor: 'ops' });
    const { token } = await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'test' });
    const res = await fetch(`${api.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: otlp([
        { name: 'default service', resource: { 'service.name': 'unknown_service:python' } },
        { name: 'framework service', resource: { 'service.name': 'smolagents-demo' } },
        {
          name: 'sub-agent',
          resource: { 'service.name': 'agents-sdk' },
          attributes: { 'gen_ai.agent.name': 'Triage agent' },
        },
      ]),
    });
    const body = (await res.json()) as { acceptedSpans: number; errors: unknown[] };
    assert.equal(body.acceptedSpans, 3, JSON.stringify(body));
    assert.deepEqual(body.errors, []);
    assert.equal(await storedAgents('airline'), 3);
  });

  it("rejects spans that flywheel.agent or another agent's rule gives to another agent, naming the span and the fix", async () => {
    const match = await call('PATCH', '/api/agents/checkout-bot', {
      match: [{ 'service.name': 'checkout-bot' }],
      actor: 'ops',
    });
    assert.equal(match.status, 200, JSON.stringify(match.body));
    const airline = await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'test' });
    const checkout = await createAgentToken(db, {
      agent: 'checkout-bot',
      scopes: ['ingest'],
      createdBy: 'test',
    });
    const send = async (token: string, spans: Parameters<typeof otlp>[0]) => {
      const res = await fetch(`${api.url}/v1/traces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: otlp(spans),
      });
      return (await res.json()) as { acceptedSpans: number; errors: { item: string; error: string }[] };
    };
    const before = { airline: await storedAgents('airline'), checkout: await storedAgents('checkout-bot') };

    const wrong = await send(airline.token, [
      { name: 'explicit other', resource: { 'flywheel.agent': 'checkout-bot' } },
      { name: 'claimed by rule', resource: { 'service.name': 'checkout-bot' } },
      { name: 'explicit own', resource: { 'service.name': 'checkout-bot', 'flywheel.agent': 'airline' } },
    ]);
    assert.equal(wrong.acceptedSpans, 1, JSON.stringify(wrong));
    assert.equal(wrong.errors.length, 2);
    assert.match(wrong.errors[0]!.item, /span [0-9a-f]{16} "explicit other"/);
    assert.match(wrong.errors[0]!.error, /flywheel token create --agent checkout-bot/);
    assert.match(wrong.errors[1]!.item, /"claimed by rule"/);
    assert.match(wrong.errors[1]!.error, /service\.name="checkout-bot".*agent "checkout-bot"/);
    assert.match(wrong.errors[1]!.error, /--unmatch service\.name=checkout-bot/);

    const own = await send(checkout.token, [
      { name: 'its own service', resource: { 'service.name': 'checkout-bot' } },
    ]);
    assert.equal(own.acceptedSpans, 1, JSON.stringify(own));
    assert.equal(await storedAgents('airline'), before.airline + 1);
    assert.equal(await storedAgents('checkout-bot'), before.checkout + 1);
  });

  it('refuses a rule another agent holds already, and applies a CLI-side rule change to ingest', async () => {
    const taken = await call('PATCH', '/api/agents/airline', {
      match: [{ 'service.name': 'checkout-bot' }],
      actor: 'ops',
    });
    assert.equal(taken.status, 409);
    assert.match(
      String(taken.body.error),
      /belongs to agent "checkout-bot".*--unmatch service\.name=checkout-bot/,
    );
    // The service the CLI calls, in-process: the API's cached rules expire within seconds.
    const removed = await updateAgent(
      db,
      'checkout-bot',
      { unmatch: [{ 'service.name': 'checkout-bot' }], actor: 'ops' },
      new Date(),
    );
    assert.deepEqual(removed.changes, ['attribution']);
    assert.deepEqual(removed.agent.attribution, []);
    const { token } = await createAgentToken(db, { agent: 'airline', scopes: ['ingest'], createdBy: 'test' });
    const started = Date.now();
    let accepted = 0;
    while (accepted === 0 && Date.now() - started < 15_000) {
      const res = await fetch(`${api.url}/v1/traces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: otlp([{ name: 'after unmatch', resource: { 'service.name': 'checkout-bot' } }]),
      });
      accepted = ((await res.json()) as { acceptedSpans: number }).acceptedSpans;
      if (accepted === 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(accepted, 1, "the span the removed rule claimed is the token agent's again");
    assert.ok(Date.now() - started < 5_000 + 2_000, 'within the rules cache time (5 s) and a request');
  });
  it('flywheel ingest and import refuse traces of an agent nobody registered, keeping the rest', async () => {
    await ensureAgent(db, 'cli-known', {});
    const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-agents-'));
    const line = (id: string, agent: string) =>
      JSON.stringify({
        id,
        agent,
        timestamp: new Date().toISOString(),
        input: { messages: [{ role: 'user', content: 'hi' }] },
        output: { action: 'respond', content: 'hello' },
      });
    const jsonl = path.join(dir, 'traces.jsonl');
    writeFileSync(jsonl, [line('cli-1', 'cli-known'), line('cli-2', 'cli-knwon')].join('\n'));
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url };
    const flywheel = (...args: string[]) =>
      promisify(execFile)(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/flywheel.ts', ...args], {
        cwd: ROOT,
        env,
      });

    // ingest: the good line is stored, the misspelt agent's line is named with the fix (exit 2).
    await assert.rejects(
      flywheel('ingest', jsonl),
      (e: { code?: number; stdout?: string; stderr?: string }) => {
        assert.equal(e.code, 2);
        assert.match(e.stdout ?? '', /stored 1 trace\(s\), 0 already present, 1 rejected/);
        assert.match(
          e.stderr ?? '',
          /trace cli-2: agent "cli-knwon" is not registered: register it with `flywheel agent create cli-knwon`/,
        );
        return true;
      },
    );
    assert.equal(await storedAgents('cli-known'), 1);
    assert.equal(await storedAgents('cli-knwon'), 0);

    // import --agent: an unknown agent stops the command before anything is read or stored.
    await assert.rejects(
      flywheel('import', jsonl, '--agent', 'nobody-registered'),
      (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 1);
        assert.match(
          e.stderr ?? '',
          /No agent "nobody-registered" is registered\. Register it first \(flywheel agent create nobody-registered\)/,
        );
        return true;
      },
    );
    const agents = await db
      .selectFrom('agents')
      .select('id')
      .where('id', 'in', ['cli-knwon', 'nobody-registered'])
      .execute();
    assert.deepEqual(agents, [], 'no agent was registered on the fly');
  });
  it('token create/revoke and dataset import/retire act as the signed-in person, never a --by name', async () => {
    await ensureAgent(db, 'cli-known', {});
    const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-agents-'));
    const { token: adminToken } = await personWithToken(db, 'cli-admin', 'admin');
    const { token: viewerToken } = await personWithToken(db, 'cli-viewer', 'viewer');
    // An empty config folder: no login stored on this machine can stand in for the token.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      XDG_CONFIG_HOME: path.join(dir, 'config'),
    };
    delete env.FLYWHEEL_TOKEN;
    const flywheel = (token: string | null, ...args: string[]) =>
      promisify(execFile)(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/flywheel.ts', ...args], {
        cwd: ROOT,
        env: token === null ? env : { ...env, FLYWHEEL_TOKEN: token },
      });
    const fails = (promise: Promise<unknown>, message: RegExp) =>
      assert.rejects(promise, (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr ?? '', message);
        return true;
      });
    const tokensOf = async () =>
      (
        await db.selectFrom('agent_tokens').select('created_by').where('agent_id', '=', 'cli-known').execute()
      ).map((r) => r.created_by);

    await fails(
      flywheel(adminToken, 'token', 'create', '--agent', 'cli-known', '--by', 'mallory'),
      /--by is gone: who acts comes from your credentials/,
    );
    await fails(
      flywheel(null, 'token', 'create', '--agent', 'cli-known'),
      /Not signed in: run `flywheel login` or set FLYWHEEL_TOKEN/,
    );
    await fails(
      flywheel(viewerToken, 'token', 'create', '--agent', 'cli-known'),
      /user:cli-viewer may not create a token for agent cli-known: that needs the admin role/,
    );
    assert.deepEqual(await tokensOf(), [], 'nothing was created');
    const created = await flywheel(
      adminToken,
      'token',
      'create',
      '--agent',
      'cli-known',
      '--scope',
      'ingest',
    );
    const id = /token (tok_\w+) for cli-known/.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);
    assert.deepEqual(await tokensOf(), ['user:cli-admin']);
    await flywheel(adminToken, 'token', 'revoke', id);
    const audit = await db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('artifact', '=', `token:${id}`)
      .execute();
    assert.deepEqual(
      audit.map((r) => [r.actor, r.action]).filter(([, a]) => a === 'token.revoke'),
      [['user:cli-admin', 'token.revoke']],
    );

    const examples = path.join(dir, 'examples.jsonl');
    writeFileSync(
      examples,
      JSON.stringify({
        input: 'Where is my bag?',
        expected: { action: 'respond', content: 'Let me check.' },
      }) + '\n',
    );
    await fails(
      flywheel(viewerToken, 'dataset', 'import', examples, '--agent', 'cli-known'),
      /user:cli-viewer may not import examples for cli-known: that needs the operator role/,
    );
    await fails(
      flywheel(adminToken, 'dataset', 'import', examples, '--agent', 'cli-known', '--by', 'mallory'),
      /--by is gone/,
    );
    await flywheel(adminToken, 'dataset', 'import', examples, '--agent', 'cli-known');
    const versions = await db
      .selectFrom('dataset_versions')
      .select('created_by')
      .where('agent_id', '=', 'cli-known')
      .execute();
    assert.deepEqual(
      versions.map((v) => v.created_by),
      ['user:cli-admin'],
    );
  });
});
