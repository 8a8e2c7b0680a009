import type { FailureTaxonomy } from './failure-taxonomy.js';

type JsonSchema = { name: string; schema: Record<string, unknown> };

/**
 * The cluster-diagnosis answer schema narrowed to what the diagnosis check accepts: the
 * taxonomy's categories and subtypes, and evidence from the traces shown. A server that
 * enforces the schema by constrained decoding (llama.cpp, vLLM, OpenAI strict mode) then
 * cannot answer with a category outside the taxonomy, cite a trace it was not shown, name a
 * step the traces do not have, or list evidence without end, which a small model otherwise does and the repair round rarely fixes.
 */
export function diagnosisJsonSchema(
  base: JsonSchema,
  taxonomy: FailureTaxonomy,
  shownTraceIds: readonly string[],
  /** The highest step index among the traces shown. */
  lastStep: number,
): JsonSchema {
  const properties = (base.schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const distinct = (values: string[]) => [...new Set(values)].sort();
  return {
    name: base.name,
    schema: {
      ...base.schema,
      properties: {
        ...properties,
        category: { type: 'string', enum: distinct(taxonomy.subtypes.map((s) => s.category)) },
        subtype: { type: 'string', enum: distinct(taxonomy.subtypes.map((s) => s.subtype)) },
        // Bounded too: a small model under constrained decoding repeats list items until it
        // runs out of tokens, and a cut-off answer is not JSON.
        // Numbers too: Qwen2.5-Coder-0.5B wrote `"step": 1000…` until the token cap.
        failing_step: {
          ...properties.failing_step,
          properties: {
            ...((properties.failing_step?.properties ?? {}) as Record<string, unknown>),
            step: {
              anyOf: [{ type: 'integer', minimum: 0, maximum: Math.max(0, lastStep) }, { type: 'null' }],
            },
          },
        },
        evidence_trace_ids: {
          type: 'array',
          items: { type: 'string', enum: distinct([...shownTraceIds]) },
          minItems: 1,
          maxItems: Math.max(1, new Set(shownTraceIds).size),
        },
      },
    },
  };
}
