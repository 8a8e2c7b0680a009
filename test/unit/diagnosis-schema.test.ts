import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { diagnosisJsonSchema } from '../../diagnosis/diagnosis-schema.js';
import { loadTaxonomy } from '../../workers/load-taxonomy.js';
import { CLUSTER_DIAGNOSIS_SCHEMA } from '../../llm/structured-output.js';

describe('the cluster-diagnosis answer schema', () => {
  const taxonomy = loadTaxonomy();
  const schema = diagnosisJsonSchema(CLUSTER_DIAGNOSIS_SCHEMA, taxonomy, ['t-2', 't-1'], {
    last: 3,
    spanIds: ['s-1', 's-2'],
  });
  const validate = new Ajv({ strict: false }).compile(schema.schema);
  const sub = taxonomy.subtypes[0]!;
  const answer = {
    category: sub.category,
    subtype: sub.subtype,
    root_cause: 'r',
    failing_step: { step: 0, span_id: null, description: 'd' },
    evidence_trace_ids: ['t-1'],
    intervention: 'prompt',
    immediate_fix: 'f',
  };

  it('admits a diagnosis in the taxonomy that cites the traces shown', () => {
    assert.equal(schema.name, CLUSTER_DIAGNOSIS_SCHEMA.name);
    assert.ok(validate(answer), JSON.stringify(validate.errors));
  });

  it('leaves a constrained decoder no category outside the taxonomy, no trace it was not shown and no step or span the traces lack', () => {
    assert.equal(validate({ ...answer, category: 'timeout' }), false);
    assert.equal(validate({ ...answer, subtype: 'tool_unavailable_everywhere' }), false);
    assert.equal(validate({ ...answer, evidence_trace_ids: ['t-9'] }), false);
    assert.equal(validate({ ...answer, failing_step: { ...answer.failing_step, step: 1000000 } }), false);
    assert.ok(validate({ ...answer, failing_step: { ...answer.failing_step, step: null, span_id: 's-2' } }));
    assert.equal(
      validate({ ...answer, failing_step: { ...answer.failing_step, span_id: 's-2-0-0-0' } }),
      false,
    );
    assert.equal(
      validate({ ...answer, evidence_trace_ids: ['t-1', 't-2', 't-1'] }),
      false,
      'at most one per trace shown',
    );
  });
});
