import type { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { FailureCategory } from '../schemas/llm-outputs.js';

// JSON schemas in the strict subset OpenAI structured outputs accept (every property
// required, no additional properties). The zod schemas validate what comes back.
export const JUDGE_VERDICT_SCHEMA = {
  name: 'judge_verdict',
  schema: {
    type: 'object',
    properties: {
      verdict: { type: 'string', enum: ['pass', 'fail'] },
      failure_category: { anyOf: [{ type: 'string', enum: FailureCategory.options }, { type: 'null' }] },
      rationale: { type: 'string' },
    },
    required: ['verdict', 'failure_category', 'rationale'],
    additionalProperties: false,
  },
};

export const PROMPT_PROPOSALS_SCHEMA = {
  name: 'prompt_proposals',
  schema: {
    type: 'object',
    properties: {
      candidates: {
        type: 'array',
        items: {
          type: 'object',
          properties: { prompt: { type: 'string' }, rationale: { type: 'string' } },
          required: ['prompt', 'rationale'],
          additionalProperties: false,
        },
      },
    },
    required: ['candidates'],
    additionalProperties: false,
  },
};

/** Parses a structured answer; a malformed one is retried (models are stochastic). */
export function parseStructured<T>(schema: z.ZodType<T>, content: string | null, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(content ?? '');
  } catch {
    throw ApplicationFailure.retryable(
      `The ${what} answer is not JSON: ${String(content).slice(0, 200)}`,
      'MalformedLlmOutput',
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw ApplicationFailure.retryable(
      `The ${what} answer does not match its schema: ${parsed.error.message.slice(0, 400)}`,
      'MalformedLlmOutput',
    );
  }
  return parsed.data;
}

const strictObject = (name: string, properties: Record<string, unknown>) => ({
  name,
  schema: { type: 'object', properties, required: Object.keys(properties), additionalProperties: false },
});
export const CRITIQUES_SCHEMA = strictObject('critiques', {
  reasons: { type: 'array', items: { type: 'string' } },
});
export const PROMPT_EDITS_SCHEMA = strictObject('prompt_edits', {
  prompts: { type: 'array', items: { type: 'string' } },
});
export const PARAPHRASES_SCHEMA = strictObject('paraphrases', {
  prompts: { type: 'array', items: { type: 'string' } },
});
export const REFLECTION_SCHEMA = strictObject('reflected_instruction', { instruction: { type: 'string' } });
export const INSTRUCTION_SCHEMA = strictObject('proposed_instruction', { instruction: { type: 'string' } });
