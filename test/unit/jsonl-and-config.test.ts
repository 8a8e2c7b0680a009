import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonl } from '../../traces/jsonl-parser.js';
import { loadConfig } from '../../scripts/load-config.js';
import { TraceRecord } from '../../schemas/trace.js';
import { CycleInput } from '../../schemas/cycle-input.js';

const good = (id: string) =>
  JSON.stringify({
    id,
    agent: 'a',
    timestamp: '2026-11-20T10:00:00Z',
    input: { messages: [{ role: 'user', content: 'hi' }] },
    output: { action: 'respond' },
  });

describe('JSONL parsing', () => {
  it('keeps the good lines and names each bad one by line number', () => {
    const text = [
      good('1'),
      '{not json',
      good('2'),
      '',
      JSON.stringify({ id: '3', agent: 'a' }),
      good('4'),
    ].join('\n');
    const { records, errors } = parseJsonl(text, TraceRecord);
    assert.deepEqual(
      records.map((r) => r.value.id),
      ['1', '2', '4'],
    );
    assert.deepEqual(
      errors.map((e) => e.line),
      [2, 5],
    );
    assert.match(errors[0]!.error, /not valid JSON/);
    assert.match(errors[1]!.error, /timestamp/);
  });
});

describe('configuration', () => {
  it('uses the simulator when no model is configured', () => {
    const c = loadConfig({}, '/tmp/x');
    assert.equal(c.models, null);
    assert.equal(c.temporal.address, 'localhost:7233');
    assert.equal(c.home, '/tmp/x/.flywheel');
  });
  it('requires a model name per role once an endpoint is configured, and says which', () => {
    assert.throws(
      () => loadConfig({ OPENAI_API_KEY: 'k', FLYWHEEL_AGENT_MODEL: 'a' }),
      /FLYWHEEL_JUDGE_MODEL, FLYWHEEL_TEACHER_MODEL is not set|FLYWHEEL_JUDGE_MODEL, FLYWHEEL_TEACHER_MODEL are not set/,
    );
  });
  it('refuses a teacher that is the agent model', () => {
    const env = {
      OPENAI_API_KEY: 'k',
      FLYWHEEL_AGENT_MODEL: 'm',
      FLYWHEEL_JUDGE_MODEL: 'j',
      FLYWHEEL_TEACHER_MODEL: 'm',
      FLYWHEEL_EMBEDDER_MODEL: 'e',
    };
    assert.throws(() => loadConfig(env), /cannot coach itself/);
  });
  it('reads Temporal Cloud settings', () => {
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: 'key',
    });
    assert.equal(c.temporal.apiKey, 'key');
    assert.equal(c.temporal.namespace, 'ns.acct');
  });
  it('reads the model timeout (shared or per role) and the model-call concurrency for slow servers', () => {
    const models = {
      FLYWHEEL_LLM_BASE_URL: 'http://127.0.0.1:1/v1',
      FLYWHEEL_AGENT_MODEL: 'a',
      FLYWHEEL_JUDGE_MODEL: 'j',
      FLYWHEEL_TEACHER_MODEL: 't',
    };
    const c = loadConfig({
      ...models,
      FLYWHEEL_LLM_TIMEOUT_SECONDS: '600',
      FLYWHEEL_TEACHER_TIMEOUT_SECONDS: '900',
      FLYWHEEL_LLM_CONCURRENCY: '2',
    });
    assert.equal(c.models!.agent.timeoutSeconds, 600);
    assert.equal(c.models!.teacher.timeoutSeconds, 900);
    assert.equal(c.llmConcurrency, 2);
    const defaults = loadConfig(models);
    assert.equal(defaults.models!.judge.timeoutSeconds, undefined, 'unset: the client default');
    assert.equal(defaults.llmConcurrency, 8);
    assert.throws(
      () => loadConfig({ ...models, FLYWHEEL_LLM_TIMEOUT_SECONDS: 'soon' }),
      /FLYWHEEL_LLM_TIMEOUT_SECONDS=soon/,
    );
  });
  it('makes the session cookie Secure behind HTTPS and lets the local Web UI call the codec by default', () => {
    const local = loadConfig({}, '/tmp/x');
    assert.equal(local.web.cookieSecure, false);
    assert.deepEqual(local.web.codecOrigins, ['http://localhost:8233', 'http://127.0.0.1:8233']);
    // The console links cycles to the Web UI: the local dev server's unless configured.
    assert.equal(local.web.temporalUiUrl, 'http://localhost:8233');
    assert.equal(
      loadConfig({ FLYWHEEL_TEMPORAL_UI_URL: 'https://temporal.example.com/' }).web.temporalUiUrl,
      'https://temporal.example.com',
    );
    assert.throws(
      () => loadConfig({ FLYWHEEL_TEMPORAL_UI_URL: 'temporal.example.com' }),
      /FLYWHEEL_TEMPORAL_UI_URL=temporal.example.com is not an http/,
    );
    assert.equal(loadConfig({ FLYWHEEL_PUBLIC_URL: 'https://flywheel.example.com' }).web.cookieSecure, true);
    const overridden = loadConfig({
      FLYWHEEL_PUBLIC_URL: 'https://flywheel.example.com',
      FLYWHEEL_COOKIE_SECURE: 'false',
      FLYWHEEL_CODEC_CORS_ORIGINS: 'https://temporal.example.com, http://localhost:9000',
    });
    assert.equal(overridden.web.cookieSecure, false);
    assert.deepEqual(overridden.web.codecOrigins, ['https://temporal.example.com', 'http://localhost:9000']);
    assert.throws(() => loadConfig({ FLYWHEEL_COOKIE_SECURE: 'yes' }), /FLYWHEEL_COOKIE_SECURE=yes/);
    assert.throws(
      () => loadConfig({ FLYWHEEL_CODEC_CORS_ORIGINS: 'https://temporal.example.com/' }),
      /"https:\/\/temporal.example.com\/" is not an origin/,
    );
  });
});

describe('cycle input', () => {
  it('fills defaults and rejects an agent id the Web UI cannot link to', () => {
    const input = CycleInput.parse({ agent: 'demo' });
    assert.equal(input.optimizer.choice, null, 'the agent configuration picks the optimizer');
    assert.equal(input.optimizer.budget.auto, 'light', 'a budget that scales with the data');
    assert.deepEqual(input.rollout.steps.at(-1), { setWeight: 100 }, 'a rollout ends at full weight');
    assert.equal(CycleInput.safeParse({ agent: 'bad/agent' }).success, false);
  });
});
