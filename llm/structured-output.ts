import type { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { FailureCategory } from '../schemas/llm-outputs.js';
import { rubricSchemaName, type JudgeRubric } from '../core/judge-rubrics.js';

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

/** The structured-output schema of a judge rubric (binary verdict or 1–5 score). */
export function rubricJsonSchema(rubric: JudgeRubric): { name: string; schema: Record<string, unknown> } {
  const name = rubricSchemaName(rubric);
  if (rubric.scale === 'likert5') {
    return strictObject(name, {
      score: { type: 'integer', minimum: 1, maximum: 5 },
      rationale: { type: 'string' },
    });
  }
  return strictObject(name, {
    verdict: { type: 'string', enum: ['pass', 'fail', 'not_applicable'] },
    failure_category: { anyOf: [{ type: 'string', enum: FailureCategory.options }, { type: 'null' }] },
    failing_step: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
    rationale: { type: 'string' },
  });
}

export const CLUSTER_DIAGNOSIS_SCHEMA = strictObject('cluster_diagnosis', {
  category: { type: 'string' },
  subtype: { type: 'string' },
  root_cause: { type: 'string' },
  failing_step: {
    type: 'object',
    properties: {
      step: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
      span_id: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      description: { type: 'string' },
    },
    required: ['step', 'span_id', 'description'],
    additionalProperties: false,
  },
  evidence_trace_ids: { type: 'array', items: { type: 'string' } },
  intervention: { type: 'string', enum: ['prompt', 'tool', 'context', 'fine_tune', 'rl'] },
  immediate_fix: { type: 'string' },
});
