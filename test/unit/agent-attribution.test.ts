import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentConfig } from '../../schemas/agent-config.js';
import { AgentCreateRequest, AgentPatchRequest } from '../../schemas/agent-registration.js';
import { parseRuleArgument, ruleArgument, sameRule } from '../../schemas/agent-attribution.js';
import { attributeSpan, type AgentAttributionRules } from '../../traces/span-agent-attribution.js';
import { keysBeside, parseKeyValue, unknownKeys, withKeys } from '../../registry/config-keys.js';

const rules: AgentAttributionRules[] = [
  { agent: 'checkout', rules: [{ 'service.name': 'checkout-bot' }] },
  { agent: 'support', rules: [{ 'service.name': 'support-bot', 'deployment.environment': 'prod' }] },
];

const errorOf = (r: ReturnType<typeof attributeSpan>) => {
  assert.equal(r.ok, false, 'the span is rejected');
  return r.ok ? '' : r.error;
};

describe('span attribution with an agent-scoped token', () => {
  it("gives a span without flywheel.agent to the token's agent, whatever service.name or gen_ai.agent.name say", () => {
    for (const resource of [
      { 'service.name': 'unknown_service:node' },
      { 'service.name': 'smolagents-demo' },
      {},
    ]) {
      const r = attributeSpan(resource, { 'gen_ai.agent.name': 'Triage agent' }, 'airline', rules);
      assert.deepEqual(r, { ok: true, agent: 'airline', by: 'token' });
    }
  });

  it('accepts flywheel.agent naming the token agent, on the span or its resource', () => {
    assert.deepEqual(attributeSpan({ 'flywheel.agent': 'airline' }, {}, 'airline', rules), {
      ok: true,
      agent: 'airline',
      by: 'flywheel.agent',
    });
    assert.equal(attributeSpan({}, { 'flywheel.agent': 'airline' }, 'airline', rules).ok, true);
  });

  it('rejects flywheel.agent naming another agent and says which token to use or what to set', () => {
    const error = errorOf(attributeSpan({ 'flywheel.agent': 'retail' }, {}, 'airline', rules));
    assert.match(error, /flywheel\.agent="retail" \(resource attribute\)/);
    assert.match(error, /flywheel token create --agent retail/);
    assert.match(error, /set flywheel\.agent="airline"/);
  });

  it("lets the span's own flywheel.agent win over its resource's", () => {
    const r = attributeSpan(
      { 'flywheel.agent': 'retail' },
      { 'flywheel.agent': 'airline' },
      'airline',
      rules,
    );
    assert.equal(r.ok, true);
    assert.match(
      errorOf(
        attributeSpan({ 'flywheel.agent': 'airline' }, { 'flywheel.agent': 'retail' }, 'airline', rules),
      ),
      /span attribute/,
    );
  });

  it('rejects a flywheel.agent that is not a string, and treats an empty one as absent', () => {
    assert.match(
      errorOf(attributeSpan({ 'flywheel.agent': 42 }, {}, 'airline', rules)),
      /is the number 42, not an agent id/,
    );
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = { v: deep };
    assert.match(
      errorOf(attributeSpan({ 'flywheel.agent': deep }, {}, 'airline', rules)),
      /is an object, not an agent id/,
    );
    assert.equal(attributeSpan({ 'flywheel.agent': '' }, {}, 'airline', rules).ok, true);
  });

  it("never writes a span another agent's rule claims, and names the rule, the token and the fix", () => {
    const error = errorOf(attributeSpan({ 'service.name': 'checkout-bot' }, {}, 'airline', rules));
    assert.match(error, /service\.name="checkout-bot"/);
    assert.match(error, /agent "checkout"/);
    assert.match(error, /flywheel token create --agent checkout/);
    assert.match(error, /--unmatch service\.name=checkout-bot/);
  });

  it('accepts a span its own agent claims, and an explicit flywheel.agent overrides a rule', () => {
    assert.deepEqual(attributeSpan({ 'service.name': 'checkout-bot' }, {}, 'checkout', rules), {
      ok: true,
      agent: 'checkout',
      by: 'rule',
    });
    assert.equal(
      attributeSpan({ 'service.name': 'checkout-bot', 'flywheel.agent': 'airline' }, {}, 'airline', rules).ok,
      true,
    );
  });

  it('matches a rule only when every attribute of it is on the resource with that value', () => {
    assert.equal(attributeSpan({ 'service.name': 'support-bot' }, {}, 'airline', rules).ok, true);
    assert.equal(
      attributeSpan({ 'service.name': 'support-bot', 'deployment.environment': 'prod' }, {}, 'airline', rules)
        .ok,
      false,
    );
  });
});

describe('span attribution without a token agent', () => {
  it('takes flywheel.agent, else the one agent whose rule matches', () => {
    assert.deepEqual(attributeSpan({ 'flywheel.agent': 'x' }, {}, null, rules), {
      ok: true,
      agent: 'x',
      by: 'flywheel.agent',
    });
    assert.deepEqual(attributeSpan({ 'service.name': 'checkout-bot' }, {}, null, rules), {
      ok: true,
      agent: 'checkout',
      by: 'rule',
    });
  });

  it('rejects a span nothing attributes, saying what to add', () => {
    const error = errorOf(attributeSpan({ 'service.name': 'other' }, {}, null, rules));
    assert.match(error, /add the resource attribute flywheel\.agent=<agent id>/);
    assert.match(error, /flywheel agent set <agent> --match service\.name=/);
  });

  it('rejects a span two agents claim, naming both', () => {
    const overlapping = [...rules, { agent: 'shop', rules: [{ 'service.name': 'checkout-bot' }] }];
    const error = errorOf(attributeSpan({ 'service.name': 'checkout-bot' }, {}, null, overlapping));
    assert.match(error, /checkout: .*shop: /);
  });
});

describe('attribution rules', () => {
  it('parse from key=value[,key=value] and print back the same way', () => {
    const parsed = parseRuleArgument('service.name=support-bot,deployment.environment=prod');
    assert.ok(parsed.ok);
    assert.equal(ruleArgument(parsed.rule), 'service.name=support-bot,deployment.environment=prod');
    assert.ok(sameRule(parsed.rule, { 'deployment.environment': 'prod', 'service.name': 'support-bot' }));
  });

  it('refuse a rule without key=value, on flywheel.agent or with an empty value', () => {
    for (const bad of ['checkout-bot', '=x', 'flywheel.agent=x', 'service.name='])
      assert.equal(parseRuleArgument(bad).ok, false, bad);
  });

  it('are an agent configuration section, empty by default', () => {
    assert.deepEqual(AgentConfig.parse({}).attribution, []);
    assert.equal(AgentConfig.safeParse({ attribution: [{}] }).success, false);
  });
});

describe('agent requests and configuration keys', () => {
  it('refuse an agent id a token or workflow id could not carry, and unknown fields', () => {
    for (const id of ['', 'has space', '-dash-first', 'x'.repeat(65), 'a/b'])
      assert.equal(AgentCreateRequest.safeParse({ id, actor: 'me' }).success, false, id);
    assert.equal(AgentCreateRequest.safeParse({ id: 'ok', actor: 'me', displayname: 'x' }).success, false);
    assert.equal(AgentCreateRequest.safeParse({ id: 'checkout-bot.v2', actor: 'me' }).success, true);
  });

  it('ask for the acting person by name when the actor is missing or blank', () => {
    for (const actor of [undefined, '  ']) {
      const parsed = AgentPatchRequest.safeParse({ set: { retentionDays: 7 }, actor });
      assert.ok(!parsed.success);
      assert.match(parsed.error.issues[0]!.message, /name who does this \(actor\)/);
    }
  });

  it('refuse a change request that changes nothing', () => {
    assert.equal(AgentPatchRequest.safeParse({ actor: 'me' }).success, false);
    assert.equal(AgentPatchRequest.safeParse({ actor: 'me', set: { retentionDays: 7 } }).success, true);
  });

  it('set dotted keys, create objects along the way and remove a key with null', () => {
    const next = withKeys(
      { sampling: { rate: 0.1, maxSample: 5 } },
      {
        'sampling.rate': 0.2,
        'sampling.maxSample': null,
        'redaction.kinds.email': false,
      },
    );
    assert.deepEqual(next, { sampling: { rate: 0.2 }, redaction: { kinds: { email: false } } });
  });

  it('refuse to set inside a list or a value, and a malformed key', () => {
    assert.throws(() => withKeys({ tools: [] }, { 'tools.0': {} }), /tools is a list/);
    assert.throws(
      () => withKeys({ retentionDays: 3 }, { 'retentionDays.x': 1 }),
      /retentionDays is a number/,
    );
    assert.throws(() => withKeys({}, { 'sampling..rate': 1 }), /not a configuration key/);
  });

  it('find the keys the schema dropped as unknown', () => {
    const validated = AgentConfig.parse(withKeys({}, { 'sampling.rat': 0.2, retentionDays: 9 }));
    assert.deepEqual(unknownKeys(validated, { 'sampling.rat': 0.2, retentionDays: 9 }), ['sampling.rat']);
    assert.ok(keysBeside(validated, 'sampling.rat').includes('rate'), 'the keys beside a misspelt one');
    assert.ok(keysBeside(validated, 'retentiondays').includes('retentionDays'));
  });

  it('read values as JSON, else as text', () => {
    assert.deepEqual(parseKeyValue('retentionDays=14'), ['retentionDays', 14]);
    assert.deepEqual(parseKeyValue('sampling.strata.errors=false'), ['sampling.strata.errors', false]);
    assert.deepEqual(parseKeyValue('notifications.webhookUrl=https://x.test/a=b'), [
      'notifications.webhookUrl',
      'https://x.test/a=b',
    ]);
    assert.deepEqual(parseKeyValue('k="14"'), ['k', '14']);
    assert.throws(() => parseKeyValue('retentionDays'), /not key=value/);
  });
});
