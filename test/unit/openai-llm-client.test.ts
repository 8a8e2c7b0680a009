import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { OpenAiLlmClient, RESAMPLE_TEMPERATURE } from '../../llm/openai-llm-client.js';
import { toolCallInContent } from '../../llm/tool-call-in-content.js';
import { FailureType } from '../../schemas/failure-types.js';

interface Seen {
  temperature: number;
  messages: { role: string; content: string }[];
}
type Reply = { status: number; body: unknown; delayMs?: number };

/**
 * A fake OpenAI-compatible server whose answers a test scripts per request, to inject the
 * faults of real servers (500s on the sampled output, tool calls left in the text,
 * structured output off its schema, slow answers) that the simulator never produces.
 */
class FakeServer {
  seen: Seen[] = [];
  script: (request: Seen, index: number) => Reply = () => ({ status: 500, body: {} });
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const request = JSON.parse(raw) as Seen;
        this.seen.push(request);
        const reply = this.script(request, this.seen.length - 1);
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(reply.status, { 'content-type': 'application/json', 'retry-after-ms': '1' });
          res.end(JSON.stringify(reply.body));
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}/v1`;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

const completion = (message: Record<string, unknown>) => ({
  status: 200,
  body: {
    id: 'x',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', ...message } }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  },
});
const formatError = {
  status: 500,
  body: {
    error: { code: 500, message: 'The model produced output that does not match the expected format' },
  },
};
const TOOLS = [
  { name: 'cancel_booking', description: 'cancel', parameters: { type: 'object', properties: {} } },
  { name: 'lookup_booking', description: 'look up', parameters: { type: 'object', properties: {} } },
];
const VERDICT = {
  name: 'verdict',
  schema: {
    type: 'object',
    properties: { verdict: { type: 'string', enum: ['pass', 'fail'] } },
    required: ['verdict'],
    additionalProperties: false,
  },
};

describe('the OpenAI-compatible client against a faulty server', () => {
  const server = new FakeServer();
  before(() => server.start());
  after(() => server.stop());
  const client = (timeoutSeconds?: number) =>
    new OpenAiLlmClient(
      { baseUrl: server.url, model: 'm', apiKey: 'k', ...(timeoutSeconds ? { timeoutSeconds } : {}) },
      null,
    );
  const user = [{ role: 'user' as const, content: 'cancel ABC123' }];

  it('resamples once after server errors that repeat at temperature 0', async () => {
    server.seen = [];
    server.script = (r) => (r.temperature === 0 ? formatError : completion({ content: 'done' }));
    const answer = await client().chat({ messages: user, temperature: 0 });
    assert.equal(answer.content, 'done');
    const temperatures = server.seen.map((r) => r.temperature);
    assert.deepEqual(
      temperatures,
      [0, 0, 0, RESAMPLE_TEMPERATURE],
      'three identical attempts, then one resampled',
    );
  });

  it('reports a server error that resampling does not heal as retryable, not as a bad request', async () => {
    server.seen = [];
    server.script = () => formatError;
    await assert.rejects(
      client().chat({ messages: user }),
      (e: unknown) =>
        e instanceof ApplicationFailure && e.type === FailureType.LlmUnavailable && !e.nonRetryable,
    );
  });

  it('reads a tool call the server left in the text as a tool call of a declared tool', async () => {
    server.script = () =>
      completion({
        content: '```json\n{"name": "cancel_booking", "arguments": {"booking_id": "ABC123"}}\n```',
      });
    const answer = await client().chat({ messages: user, tools: TOOLS });
    assert.equal(answer.content, null);
    assert.deepEqual(answer.toolCalls, [{ name: 'cancel_booking', arguments: '{"booking_id":"ABC123"}' }]);
  });

  it('asks once more when a structured answer is off its schema, with the validation error', async () => {
    server.seen = [];
    server.script = (_r, i) =>
      completion({ content: i === 0 ? '{"verdict": "maybe"}' : '{"verdict": "fail"}' });
    const answer = await client().chat({ messages: user, jsonSchema: VERDICT });
    assert.equal(answer.content, '{"verdict": "fail"}');
    assert.equal(server.seen.length, 2);
    const repair = server.seen[1]!.messages.at(-1)!;
    assert.equal(repair.role, 'user');
    assert.match(repair.content, /does not match the required JSON schema.*allowed values/);
    assert.deepEqual(answer.usage, { promptTokens: 20, completionTokens: 10 });
  });

  it('gives up on a request after the configured timeout', async () => {
    server.seen = [];
    server.script = () => ({ ...completion({ content: 'late' }), delayMs: 1500 });
    const started = Date.now();
    await assert.rejects(client(0.2).chat({ messages: user }));
    assert.ok(Date.now() - started < 1500 * server.seen.length, 'every attempt was cut at the timeout');
  });
});

describe('a tool call written in the message text', () => {
  const declared = ['cancel_booking', 'lookup_booking'];

  it('is read when it is exactly one object naming a declared tool', () => {
    assert.deepEqual(toolCallInContent('{"name":"lookup_booking","arguments":{"id":"A1"}}', declared), {
      name: 'lookup_booking',
      arguments: '{"id":"A1"}',
    });
    assert.deepEqual(
      toolCallInContent(' {"name":"cancel_booking","arguments":"{\\"id\\":\\"A1\\"}"} ', declared),
      {
        name: 'cancel_booking',
        arguments: '{"id":"A1"}',
      },
    );
  });

  it('stays a reply when it names no declared tool, carries prose or other fields', () => {
    assert.equal(toolCallInContent('{"name":"delete_everything","arguments":{}}', declared), null);
    assert.equal(toolCallInContent('Sure! {"name":"cancel_booking","arguments":{}}', declared), null);
    assert.equal(toolCallInContent('{"name":"cancel_booking","arguments":{},"note":"x"}', declared), null);
    assert.equal(toolCallInContent('{"name":"cancel_booking","arguments":[1]}', declared), null);
    assert.equal(toolCallInContent('Your booking is cancelled.', declared), null);
    assert.equal(toolCallInContent(null, declared), null);
  });
});
