import type { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failure-types.js';
import { FailureCategory } from '../schemas/llm-outputs.js';
import { rubricSchemaName, type JudgeRubric } from '../evaluation/judge-rubrics.js';
import { formatIssues } from '../schemas/format-issues.js';

// JSON schemas in the strict subset OpenAI structured outputs accept (every property
// required, no additional properties). The zod schemas validate what comes back.
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

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Checks a structured answer against its schema; the error says what to fix, for a repair round. */
export function checkStructured<T>(schema: z.ZodType<T>, content: string | null): Checked<T> {
  let json: unknown;
  try {
    json = JSON.parse(content ?? '');
  } catch {
    return { ok: false, error: `not JSON: ${String(content).slice(0, 200)}` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    error: formatIssues(parsed.error, { root: '(answer)' }),
  };
}

/** Parses a structured answer; a malformed one is retried (models are stochastic). */
export function parseStructured<T>(schema: z.ZodType<T>, content: string | null, what: string): T {
  const checked = checkStructured(schema, content);
  if (checked.ok) return checked.value;
  throw ApplicationFailure.retryable(
    `The ${what} answer is ${checked.error.startsWith('not JSON') ? '' : 'off its schema: '}${checked.error.slice(0, 400)}`,
    FailureType.MalformedLlmOutput,
  );
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
export const OBSERVATIONS_SCHEMA = strictObject('dataset_observations', { observations: { type: 'string' } });

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
