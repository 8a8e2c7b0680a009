import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Scenario } from './scenario.js';
import { FaultInjector, type Fault, type FaultKind, type FaultRule } from './fault-plan.js';
import { simulateClusterDiagnosis, simulateRubricJudge } from './simulated-diagnosis.js';
import {
  simulateAgent,
  simulateEmbedding,
  simulateFreeTextReflection,
  simulateTeacherTask,
} from './simulated-models.js';
import { simulateDspyRequest } from './simulated-dspy.js';
import { coachingExamplesIn } from './simulated-coaching.js';

import { SIMULATED_MODELS } from './simulated-model-names.js';

export { SIMULATED_MODELS };

export interface ChatBody {
  model?: string;
  messages?: { role?: string; name?: string; content?: unknown }[];
  seed?: number;
  tools?: { function?: { description?: string } }[];
  response_format?: { json_schema?: { name?: string } };
}

const text = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((p: { text?: string }) => p?.text ?? '').join('\n')
      : '';

const tokens = (s: string) => Math.ceil(s.length / 4);

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, message: string, type: string): void {
  send(res, status, { error: { message, type, param: null, code: null } });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

let counter = 0;

/**
 * A completion and its usage. Completion tokens are what the model generated: the reply, or
 * each tool call's name and arguments. The call's `id` is the server's, not generated, and
 * is left out: it carries the request counter, so charging for it made a run's token total
 * depend on how many requests (retries, faults, other cycles) the server had answered before.
 */
function completion(model: string, prompt: string, message: Record<string, unknown>, finish: string) {
  const calls = (message.tool_calls ?? []) as { function: { name: string; arguments: string } }[];
  const content =
    typeof message.content === 'string'
      ? message.content
      : calls.map((c) => `${c.function.name}${c.function.arguments}`).join('\n');
  return {
    id: `chatcmpl-sim-${++counter}`,
    object: 'chat.completion',
    created: 0,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', refusal: null, ...message },
        finish_reason: finish,
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: tokens(prompt),
      completion_tokens: tokens(content),
      total_tokens: tokens(prompt) + tokens(content),
    },
  };
}

function chat(scenario: Scenario, body: ChatBody, res: ServerResponse): void {
  const answer = chatCompletion(scenario, body);
  send(res, answer.status, answer.body);
}

/** The answer to one Chat Completions request: what the HTTP server sends, usable in-process. */
export function chatCompletion(scenario: Scenario, body: ChatBody): { status: number; body: unknown } {
  let answer: { status: number; body: unknown } = { status: 500, body: null };
  const res = {
    writeHead: () => undefined,
    end: () => undefined,
  };
  const send = (_res: unknown, status: number, payload: unknown) => (answer = { status, body: payload });
  const error = (_res: unknown, status: number, message: string, type: string) =>
    send(_res, status, { error: { message, type, param: null, code: null } });
  respond(scenario, body, res, send, error);
  return answer;
}

function respond(
  scenario: Scenario,
  body: ChatBody,
  res: unknown,
  send: (res: unknown, status: number, payload: unknown) => void,
  error: (res: unknown, status: number, message: string, type: string) => void,
): void {
  const model = body.model ?? '';
  const messages = body.messages ?? [];
  const all = messages.map((m) => text(m.content)).join('\n');
  const seed = body.seed ?? 0;
  if (model === SIMULATED_MODELS.agent) {
    // Few-shot examples (coaching) are read as examples, not as part of the system prompt.
    const coaching = coachingExamplesIn(messages.map((m) => ({ ...m, content: text(m.content) })));
    const system = messages
      .filter((m, i) => m.role === 'system' && !coaching.indexes.has(i))
      .map((m) => text(m.content))
      .join('\n');
    const user = messages
      .filter((m) => m.role === 'user')
      .map((m) => text(m.content))
      .join('\n');
    // The agent reads its tool descriptions too, so rules placed there take effect.
    const toolText = (body.tools ?? []).map((t) => t.function?.description ?? '').join('\n');
    const decision = simulateAgent(scenario, system, user, seed, toolText, coaching.examples);
    if (decision.action.action === 'respond' || !body.tools?.length) {
      send(res, 200, completion(model, all, { content: decision.reply || 'OK.' }, 'stop'));
      return;
    }
    const toolCall = {
      id: `call_${counter + 1}`,
      type: 'function',
      function: { name: decision.action.action, arguments: JSON.stringify(decision.action.arguments) },
    };
    send(res, 200, completion(model, all, { content: null, tool_calls: [toolCall] }, 'tool_calls'));
    return;
  }
  const schemaName = body.response_format?.json_schema?.name;
  if (model === SIMULATED_MODELS.judge) {
    // Every judge request is a rubric; its schema name says which dimension.
    const answer = simulateRubricJudge(scenario, schemaName ?? 'judge_task_completion_v1', all, seed);
    send(res, 200, completion(model, all, { content: JSON.stringify(answer) }, 'stop'));
    return;
  }
  if (model === SIMULATED_MODELS.teacher && schemaName === 'cluster_diagnosis') {
    send(
      res,
      200,
      completion(model, all, { content: JSON.stringify(simulateClusterDiagnosis(scenario, all)) }, 'stop'),
    );
    return;
  }
  if (model === SIMULATED_MODELS.teacher && schemaName === undefined) {
    // DSPy's ChatAdapter (mipro-reference's prompt model): `[[ ## field ## ]]` sections.
    const fields = simulateDspyRequest(
      scenario,
      messages.map((m) => ({ role: m.role, content: text(m.content) })),
      seed,
    );
    if (fields !== null) {
      send(res, 200, completion(model, all, { content: fields }, 'stop'));
      return;
    }
    // Free-text reflection (gepa's default proposer); requests without a fenced block keep
    // the structured default below.
    const reflection = simulateFreeTextReflection(scenario, all, seed);
    if (reflection !== null) {
      send(res, 200, completion(model, all, { content: reflection }, 'stop'));
      return;
    }
  }
  if (model === SIMULATED_MODELS.teacher) {
    const schema = body.response_format?.json_schema?.name ?? 'prompt_proposals';
    const answer = simulateTeacherTask(scenario, schema, all, seed);
    send(res, 200, completion(model, all, { content: JSON.stringify(answer) }, 'stop'));
    return;
  }
  error(
    res,
    404,
    `The model '${model}' does not exist. The simulator serves ${Object.values(SIMULATED_MODELS).join(', ')}.`,
    'invalid_request_error',
  );
}

export interface SimulatorServer {
  url: string;
  /**
   * Every chat or embeddings request answered, in order: the model, a key of what was asked (empty for a
   * fault that answered in place of the model), the status, and the injected fault if any.
   * A 200 without a fault is a call the caller paid for. `startedAt`/`endedAt` (epoch ms)
   * say when it arrived and when its answer was sent.
   */
  requests: {
    model: string;
    key: string;
    status?: number;
    fault?: FaultKind;
    startedAt: number;
    endedAt: number;
  }[];
  /** Every fault injected, in order. */
  injected: readonly { role: string; kind: FaultKind }[];
  /** Starts injecting `rules` too, from the next request on (e.g. a burst at a random moment). */
  addFaults(rules: readonly FaultRule[]): void;
  /** The most requests the server was working on at once. */
  peakInFlight(): number;
  close(): Promise<void>;
}

/**
 * Applies an injected fault to a request. Returns true when the fault answered (or will
 * never answer) the request; false when the request should be served, possibly late or with
 * its content spoiled through `spoil`.
 */
async function applyFault(
  fault: Fault | undefined,
  res: ServerResponse,
  held: Set<ServerResponse>,
): Promise<{ answered: boolean; spoil?: (content: string) => string }> {
  if (!fault) return { answered: false };
  switch (fault.kind) {
    case '429':
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': String(fault.rule.retryAfterSeconds),
      });
      res.end(
        JSON.stringify({
          error: {
            message: 'Rate limit reached (simulated)',
            type: 'rate_limit_error',
            param: null,
            code: null,
          },
        }),
      );
      return { answered: true };
    case '500':
    case '503':
      error(res, Number(fault.kind), `The server had an error (simulated ${fault.kind})`, 'server_error');
      return { answered: true };
    case 'timeout':
      // Never answers: the client's own timeout must end it. Closed with the server.
      held.add(res);
      res.on('close', () => held.delete(res));
      return { answered: true };
    case 'slow':
      await new Promise((resolve) => setTimeout(resolve, fault.rule.delayMs));
      return { answered: false };
    case 'truncated':
      return { answered: false, spoil: (content) => content.slice(0, Math.floor(content.length / 2)) };
    case 'off-schema':
      return {
        answered: false,
        spoil: () => '{"unexpected": "an answer in no schema the caller asked for"}',
      };
  }
}

/** A response whose message content passes through `spoil` before it is sent. */
function spoiling(res: ServerResponse, spoil: (content: string) => string): ServerResponse {
  const end = res.end.bind(res);
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') {
      try {
        const body = JSON.parse(chunk) as { choices?: { message?: { content?: string | null } }[] };
        const message = body.choices?.[0]?.message;
        if (message && typeof message.content === 'string') message.content = spoil(message.content);
        chunk = JSON.stringify(body);
      } catch {
        // not a JSON answer: send as it is
      }
    }
    return (end as (...a: unknown[]) => ServerResponse)(chunk, ...rest);
  }) as ServerResponse['end'];
  return res;
}

export interface SimulatorOptions {
  /** Faults to inject (see fault-plan.ts); none by default. */
  faults?: readonly FaultRule[];
  faultSeed?: number;
}

/** An OpenAI-compatible HTTP server (Chat Completions with tools, Embeddings) over a scenario. */
export async function startSimulator(
  scenario: Scenario,
  port = 0,
  host = '127.0.0.1',
  options: SimulatorOptions = {},
): Promise<SimulatorServer> {
  const requests: SimulatorServer['requests'] = [];
  let injector = options.faults?.length
    ? new FaultInjector(options.faults, options.faultSeed ?? 1)
    : undefined;
  const held = new Set<ServerResponse>();
  let inFlight = 0;
  let peak = 0;
  const server: Server = createServer((req, res) => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    res.on('close', () => (inFlight -= 1));
    const path = (req.url ?? '').replace(/\?.*$/, '');
    if (req.method === 'GET' && path.endsWith('/models')) {
      send(res, 200, {
        object: 'list',
        data: Object.values(SIMULATED_MODELS).map((id) => ({
          id,
          object: 'model',
          created: 0,
          owned_by: 'flywheel-simulator',
        })),
      });
      return;
    }
    if (req.method !== 'POST')
      return error(res, 404, `No route ${req.method} ${path}`, 'invalid_request_error');
    readJson(req)
      .then(async (body) => {
        const startedAt = Date.now();
        const model = (body as { model?: string }).model ?? '';
        const fault = injector?.next(model);
        const applied = await applyFault(fault, res, held);
        if (applied.answered) {
          requests.push({
            model,
            key: '',
            status: res.statusCode,
            fault: fault?.kind,
            startedAt,
            endedAt: Date.now(),
          });
          return;
        }
        if (applied.spoil) spoiling(res, applied.spoil);
        if (path.endsWith('/chat/completions')) {
          const chatBody = body as ChatBody;
          const { model: _model, ...asked } = chatBody;
          res.on('finish', () =>
            requests.push({
              model,
              key: JSON.stringify(asked),
              status: res.statusCode,
              ...(fault ? { fault: fault.kind } : {}),
              startedAt,
              endedAt: Date.now(),
            }),
          );
          return chat(scenario, chatBody, res);
        }
        if (path.endsWith('/embeddings')) {
          const { input } = body as { input?: string | string[] };
          const inputs = Array.isArray(input) ? input : [input ?? ''];
          requests.push({
            model,
            key: JSON.stringify(inputs),
            status: 200,
            ...(fault ? { fault: fault.kind } : {}),
            startedAt,
            endedAt: Date.now(),
          });
          return send(res, 200, {
            object: 'list',
            model,
            data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: simulateEmbedding(t) })),
            usage: { prompt_tokens: tokens(inputs.join(' ')), total_tokens: tokens(inputs.join(' ')) },
          });
        }
        return error(res, 404, `No route POST ${path}`, 'invalid_request_error');
      })
      .catch((e: unknown) =>
        error(res, 400, `Could not parse the request body: ${String(e)}`, 'invalid_request_error'),
      );
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/v1`,
    requests,
    get injected() {
      return injector?.injected ?? [];
    },
    addFaults(rules) {
      if (injector) injector.add(rules);
      else injector = new FaultInjector(rules, options.faultSeed ?? 1);
    },
    peakInFlight: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.close(() => resolve());
      }),
  };
}
