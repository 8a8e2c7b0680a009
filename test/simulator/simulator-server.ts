import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Scenario } from './scenario.js';
import { simulateClusterDiagnosis, simulateRubricJudge } from './simulated-diagnosis.js';
import {
  simulateAgent,
  simulateEmbedding,
  simulateFreeTextReflection,
  simulateTeacherTask,
} from './simulated-models.js';

/** Model names the simulator serves; configure each role with one of them. */
export const SIMULATED_MODELS = {
  agent: 'sim-agent',
  judge: 'sim-judge',
  teacher: 'sim-teacher',
  embedder: 'sim-embed',
} as const;

export interface ChatBody {
  model?: string;
  messages?: { role?: string; content?: unknown }[];
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

function completion(model: string, prompt: string, message: Record<string, unknown>, finish: string) {
  const content =
    typeof message.content === 'string' ? message.content : JSON.stringify(message.tool_calls ?? '');
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
    const system = messages
      .filter((m) => m.role === 'system')
      .map((m) => text(m.content))
      .join('\n');
    const user = messages
      .filter((m) => m.role === 'user')
      .map((m) => text(m.content))
      .join('\n');
    // The agent reads its tool descriptions too, so rules placed there take effect.
    const toolText = (body.tools ?? []).map((t) => t.function?.description ?? '').join('\n');
    const decision = simulateAgent(scenario, system, user, seed, toolText);
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
  /** Every chat request answered, in order: the model and a key of what was asked. */
  requests: { model: string; key: string }[];
  close(): Promise<void>;
}

/** An OpenAI-compatible HTTP server (Chat Completions with tools, Embeddings) over a scenario. */
export async function startSimulator(
  scenario: Scenario,
  port = 0,
  host = '127.0.0.1',
): Promise<SimulatorServer> {
  const requests: SimulatorServer['requests'] = [];
  const server: Server = createServer((req, res) => {
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
      .then((body) => {
        if (path.endsWith('/chat/completions')) {
          const chatBody = body as ChatBody;
          const { model, ...asked } = chatBody;
          res.on('finish', () => requests.push({ model: model ?? '', key: JSON.stringify(asked) }));
          return chat(scenario, chatBody, res);
        }
        if (path.endsWith('/embeddings')) {
          const { input, model } = body as { input?: string | string[]; model?: string };
          const inputs = Array.isArray(input) ? input : [input ?? ''];
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
