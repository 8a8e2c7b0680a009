import type { ChatRequest, ChatResponse, LlmClient } from '../../llm/llm-client.js';
import type { Scenario } from './scenario.js';
import { simulateEmbedding } from './simulated-models.js';
import { chatCompletion, type ChatBody } from './simulator-server.js';

interface CompletionBody {
  choices: {
    message: { content: string | null; tool_calls?: { function: { name: string; arguments: string } }[] };
  }[];
  usage: { prompt_tokens: number; completion_tokens: number };
}

/**
 * The simulator without HTTP: builds the same Chat Completions body the OpenAI client
 * sends and answers it with the server's own handler. Benchmarks use it to run hundreds
 * of thousands of rollouts in seconds; the HTTP server stays what tests and the demo use.
 */
export class InProcessSimulatorClient implements LlmClient {
  calls = 0;

  constructor(
    private readonly scenario: Scenario,
    readonly model: string,
  ) {}

  chat(request: ChatRequest): Promise<ChatResponse> {
    this.calls++;
    const body: ChatBody = {
      model: this.model,
      messages: request.messages,
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.tools?.length
        ? {
            tools: request.tools.map((t) => ({
              type: 'function',
              function: { name: t.name, description: t.description, parameters: t.parameters },
            })),
          }
        : {}),
      ...(request.jsonSchema ? { response_format: { json_schema: { name: request.jsonSchema.name } } } : {}),
    };
    const answer = chatCompletion(this.scenario, body);
    if (answer.status !== 200) return Promise.reject(new Error(`simulator answered ${answer.status}`));
    const completion = answer.body as CompletionBody;
    const message = completion.choices[0]!.message;
    return Promise.resolve({
      content: message.content,
      toolCalls: (message.tool_calls ?? []).map((c) => ({
        name: c.function.name,
        arguments: c.function.arguments,
      })),
      usage: {
        promptTokens: completion.usage.prompt_tokens,
        completionTokens: completion.usage.completion_tokens,
      },
      cached: false,
    });
  }

  embed(texts: string[]): Promise<number[][]> {
    return Promise.resolve(texts.map((t) => simulateEmbedding(t)));
  }
}
