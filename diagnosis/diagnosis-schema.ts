import type { FailureTaxonomy } from './failure-taxonomy.js';

type JsonSchema = { name: string; schema: Record<string, unknown> };

/**
 * The cluster-diagnosis answer schema narrowed to what the diagnosis check accepts: the
 * taxonomy's categories and subtypes, evidence from the traces shown, a step and span those
 * traces have. A server that enforces the schema by constrained decoding (llama.cpp, vLLM,
 * OpenAI strict mode) then cannot answer outside it, which a small model otherwise does and
 * the repair round rarely fixes: Qwen2.5-Coder-0.5B named the category "timeout", and wrote
 * `"step": 1000…` and `"span_id": "…-0-0-0…"` until it ran out of tokens (a cut-off answer
 * is not JSON). Bounded lists and closed sets leave a decoder nothing to run on with.
 */
export function diagnosisJsonSchema(
  base: JsonSchema,
  taxonomy: FailureTaxonomy,
  shownTraceIds: readonly string[],
  /** The highest step index among the traces shown, and their steps' span ids. */
  steps: { last: number; spanIds: readonly string[] },
): JsonSchema {
  const properties = (base.schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const distinct = (values: readonly string[]) => [...new Set(values)].sort();
  const failingStep = properties.failing_step ?? {};
  return {
    name: base.name,
    schema: {
      ...base.schema,
      properties: {
        ...properties,
        category: { type: 'string', enum: distinct(taxonomy.subtypes.map((s) => s.category)) },
        subtype: { type: 'string', enum: distinct(taxonomy.subtypes.map((s) => s.subtype)) },
        failing_step: {
          ...failingStep,
          properties: {
            ...((failingStep.properties ?? {}) as Record<string, unknown>),
            step: {
              anyOf: [{ type: 'integer', minimum: 0, maximum: Math.max(0, steps.last) }, { type: 'null' }],
            },
            span_id:
              steps.spanIds.length > 0
                ? { anyOf: [{ type: 'string', enum: distinct(steps.spanIds) }, { type: 'null' }] }
                : { type: 'null' },
          },
        },
        evidence_trace_ids: {
          type: 'array',
          items: { type: 'string', enum: distinct(shownTraceIds) },
          minItems: 1,
          maxItems: Math.max(1, new Set(shownTraceIds).size),
        },
      },
    },
  };
}
