import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { trainingExport, type TrainingSource } from '../../datasets/fine-tune-export.js';
import { renderDiagnosisReport } from '../../diagnosis/diagnosis-report.js';
import type { ExportedExample } from '../../schemas/dataset-example.js';
import { compileRedactor } from '../../traces/pii-redaction.js';

/*
 * The shapes the trainers read, written from their documentation: OpenAI's chat
 * fine-tuning and preference lines, and the conversational rows Hugging Face chat templates
 * render. Strict objects, so a stray key in a message fails here rather than at upload.
 */
const OpenAiToolCall = z.strictObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.strictObject({ name: z.string().min(1), arguments: z.string() }),
});
const OpenAiMessage = z.union([
  z.strictObject({ role: z.enum(['system', 'user']), content: z.string() }),
  z.strictObject({
    role: z.literal('assistant'),
    content: z.string().nullable(),
    tool_calls: z.array(OpenAiToolCall).min(1).optional(),
  }),
  z.strictObject({ role: z.literal('tool'), content: z.string(), tool_call_id: z.string().min(1) }),
]);
const Tool = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string(),
    description: z.string(),
    parameters: z.record(z.string(), z.unknown()),
  }),
});
const Lineage = z.strictObject({
  exampleId: z.string(),
  exampleKey: z.string(),
  datasetVersionId: z.string(),
  traceId: z.string().nullable(),
  clusterId: z.string().nullable(),
  clusterStableId: z.string().nullable(),
  annotationId: z.string().nullable(),
  cycleId: z.string().nullable(),
});
const OpenAiSftLine = z.strictObject({
  messages: z.array(OpenAiMessage).min(2),
  tools: z.array(Tool),
  metadata: Lineage.optional(),
});
const OpenAiDpoLine = z.strictObject({
  input: z.strictObject({
    messages: z.array(OpenAiMessage).min(1),
    tools: z.array(Tool),
    parallel_tool_calls: z.boolean(),
  }),
  preferred_output: z.array(OpenAiMessage).length(1),
  non_preferred_output: z.array(OpenAiMessage).length(1),
  metadata: Lineage.optional(),
});
const HfMessage = z.union([
  z.strictObject({ role: z.enum(['system', 'user']), content: z.string() }),
  z.strictObject({
    role: z.literal('assistant'),
    content: z.string().nullable(),
    tool_calls: z
      .array(
        z.strictObject({
          type: z.literal('function'),
          function: z.strictObject({ name: z.string(), arguments: z.record(z.string(), z.unknown()) }),
        }),
      )
      .optional(),
  }),
  z.strictObject({ role: z.literal('tool'), content: z.string(), name: z.string().optional() }),
]);
const HfChatLine = z.strictObject({
  messages: z.array(HfMessage).min(2),
  tools: z.array(Tool),
  metadata: Lineage.optional(),
});

const tools = [
  {
    name: 'get_reservation_details',
    description: 'Look up a reservation',
    parameters: { type: 'object', properties: { reservation_id: { type: 'string' } } },
  },
  { name: 'cancel_reservation', description: 'Cancel', parameters: { type: 'object', properties: {} } },
];

function example(key: string, over: Partial<ExportedExample> = {}): ExportedExample {
  return {
    id: `v1:${key}`,
    key,
    datasetVersionId: 'demo-dataset-fine-tune-v1',
    split: 'train',
    slices: [],
    input: {
      messages: [
        { role: 'user', content: `Cancel reservation ${key}, mail me at ann@example.com` },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ name: 'get_reservation_details', arguments: { reservation_id: key } }],
        },
        { role: 'tool', content: '{"cabin": "economy", "insurance": "no"}' },
      ],
    },
    expected: {
      action: 'respond',
      arguments: {},
      content: 'This reservation cannot be cancelled: it is not eligible.',
    },
    contentHash: 'h',
    createdAt: '2026-12-01T00:00:00.000Z',
    createdBy: 'rita',
    gatingExcluded: null,
    lineage: {
      traceId: `trace-${key}`,
      clusterId: 'c1:0',
      clusterStableId: 'demo-fc001',
      annotationId: '7',
      cycleId: 'c1',
      originVersionId: null,
      source: 'cycle',
    },
    ...over,
  };
}

const tookCancel = { action: 'cancel_reservation', arguments: { reservation_id: 'X' } };
const sources: TrainingSource[] = [
  { example: example('A1'), agentStep: tookCancel },
  { example: example('E1', { split: 'eval' }), agentStep: tookCancel },
  { example: example('H1', { split: 'holdout' }), agentStep: tookCancel },
  { example: example('R1', { slices: ['regression'] }), agentStep: tookCancel },
  {
    example: example('B2', {
      expected: { action: 'cancel_reservation', arguments: { reservation_id: 'B2' } },
      lineage: { ...example('B2').lineage, clusterStableId: 'demo-fc002' },
    }),
    agentStep: { action: 'respond', arguments: {}, content: 'Done, it is cancelled.' },
  },
];
const redactor = compileRedactor({});

describe('training exports (fine-tune rung)', () => {
  it('writes OpenAI chat fine-tuning lines from the train split only, never eval, holdout or the regression suite', () => {
    const out = trainingExport(sources, {
      format: 'openai-sft',
      tools,
      systemPrompt: 'You are an airline agent.',
      redactor,
    });
    assert.equal(out.rows.length, 2);
    assert.deepEqual(out.withheld, { notTrain: 2, regressionSuite: 1, otherCluster: 0 });
    const lines = out.rows.map((r) => OpenAiSftLine.parse(r));
    assert.deepEqual(
      lines.map((l) => l.metadata?.exampleKey),
      ['A1', 'B2'],
    );
    const a1 = lines[0]!;
    assert.equal(a1.messages[0]!.role, 'system', 'the production prompt leads');
    const call = a1.messages[2] as { tool_calls: { id: string; function: { arguments: string } }[] };
    const result = a1.messages[3] as { tool_call_id: string };
    assert.equal(result.tool_call_id, call.tool_calls[0]!.id, 'a tool result answers the call before it');
    assert.deepEqual(JSON.parse(call.tool_calls[0]!.function.arguments), { reservation_id: 'A1' });
    assert.deepEqual(a1.messages.at(-1), {
      role: 'assistant',
      content: 'This reservation cannot be cancelled: it is not eligible.',
    });
    const b2 = lines[1]!.messages.at(-1) as { tool_calls: { function: { name: string } }[] };
    assert.equal(
      b2.tool_calls[0]!.function.name,
      'cancel_reservation',
      'a corrected tool call is the target',
    );
    assert.equal(lines[0]!.tools.length, 2);
  });

  it('redacts PII in the conversation but keeps lineage ids intact', () => {
    const out = trainingExport(sources, { format: 'openai-sft', tools, redactor });
    const text = JSON.stringify(out.rows);
    assert.ok(!text.includes('ann@example.com'), 'the e-mail address is masked');
    assert.ok(text.includes('[EMAIL]'));
    assert.equal(out.redactions.email, 2);
    assert.equal((out.rows[0]!.metadata as { traceId: string }).traceId, 'trace-A1');
  });

  it('pairs the corrected step with the step the agent took as preference lines, skipping what cannot pair', () => {
    const same = example('S1', { expected: tookCancel });
    const imported = example('I1');
    const out = trainingExport(
      [...sources, { example: same, agentStep: tookCancel }, { example: imported, agentStep: undefined }],
      {
        format: 'openai-dpo',
        tools,
        redactor,
      },
    );
    const lines = out.rows.map((r) => OpenAiDpoLine.parse(r));
    assert.equal(lines.length, 2);
    const a1 = lines[0]!;
    assert.equal(
      a1.preferred_output[0]!.content,
      'This reservation cannot be cancelled: it is not eligible.',
    );
    const rejected = a1.non_preferred_output[0] as { tool_calls: { function: { name: string } }[] };
    assert.equal(rejected.tool_calls[0]!.function.name, 'cancel_reservation');
    assert.deepEqual(
      out.skipped.map((s) => [s.key, s.reason]),
      [
        ['I1', 'no step of the agent was recorded for its trace (imported example?)'],
        ['S1', 'the agent took the expected step: nothing to prefer'],
      ],
    );
  });

  it('writes Hugging Face chat rows with argument objects, filtered to one cluster, lineage optional', () => {
    const out = trainingExport(sources, {
      format: 'hf-chat',
      tools,
      redactor,
      clusterStableId: 'demo-fc002',
      withoutLineage: true,
    });
    assert.equal(out.rows.length, 1);
    assert.equal(out.withheld.otherCluster, 1);
    const line = HfChatLine.parse(out.rows[0]);
    assert.equal(line.metadata, undefined);
    const last = line.messages.at(-1) as {
      tool_calls: { function: { arguments: Record<string, unknown> } }[];
    };
    assert.deepEqual(last.tool_calls[0]!.function.arguments, { reservation_id: 'B2' });
    assert.deepEqual(
      line.messages.map((m) => m.role),
      ['user', 'assistant', 'tool', 'assistant'],
    );
  });

  it('skips, with the reason, an example whose corrected reply has no text', () => {
    const empty = example('X1', { expected: { action: 'respond', arguments: {} } });
    const out = trainingExport([{ example: empty, agentStep: tookCancel }], {
      format: 'openai-sft',
      tools,
      redactor,
    });
    assert.deepEqual(out.rows, []);
    assert.deepEqual(out.skipped, [{ key: 'X1', reason: 'expected: the step is a reply with no text' }]);
  });

  it('names the export command in a fine-tune-rung cluster recommendation', () => {
    const md = renderDiagnosisReport({
      cycleId: 'c1',
      agent: 'demo',
      taxonomy: 't',
      embedder: 'e',
      sampled: 10,
      scored: 10,
      failing: 4,
      judgeCalls: 10,
      judgeCallsWithoutCascade: 10,
      evaluatorErrors: [],
      calibration: [],
      clusters: [
        {
          stableId: 'demo-fc003',
          name: 'cancellation',
          size: 4,
          noise: 0,
          previousId: null,
          category: 'policy_violation',
          subtype: null,
          intervention: 'fine_tune',
          rootCause: null,
          immediateFix: 'Teach eligibility.',
          failingStep: null,
          evidence: [],
          diagnosisError: null,
        },
      ],
    });
    assert.match(md, /flywheel dataset export demo\/fine-tune --format openai-sft --cluster demo-fc003/);
  });
});
