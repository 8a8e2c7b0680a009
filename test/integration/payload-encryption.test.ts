import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, WorkflowFailedError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { ApiServer } from '../../api/http-server.js';
import { cycleStatus, startCycle } from '../../cycles/cycle-service.js';
import { clientPayloadCodec, handleCodecRequest } from '../../workers/codec-server.js';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../workers/payload-codec.js';
import { waitForStage } from '../helpers/cycle-driver.js';
import { startSeededStack, stopSeededStack, type TestStack } from '../helpers/test-stack.js';
import { TEST_PAYLOAD_ENCRYPTION } from '../helpers/test-payload-encryption.js';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');

/** Every payload in a history, wherever it sits (inputs, results, memos, UI summaries), except search attributes. */
function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return found;
  const metadata = (value as { metadata?: unknown }).metadata;
  if (typeof metadata === 'object' && metadata !== null && 'encoding' in metadata) {
    found.push(value);
    return found;
  }
  for (const [key, child] of Object.entries(value)) if (key !== 'searchAttributes') payloadsIn(child, found);
  return found;
}

type ProtoFailure = temporal.api.failure.v1.IFailure;

/** Every failure in a history (each event's `failure`, and their causes). */
function failuresIn(value: unknown, found: ProtoFailure[] = []): ProtoFailure[] {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return found;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'failure' || key === 'cause') {
      if (child) found.push(child as ProtoFailure);
    }
    failuresIn(child, found);
  }
  return found;
}

/** The messages of an error and its causes, outermost first. */
function messages(error: unknown): string[] {
  const out: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) out.push(e.message);
  return out;
}

describe('workflow histories hold no plain payloads', () => {
  let stack: TestStack;
  let api: ApiServer;

  before(async () => ({ stack, api } = await startSeededStack({ traces: 120, seed: 31 })));
  after(() => stopSeededStack({ stack, api }));

  it('stores inputs and results encrypted with the active key, which the codec server decodes for the Web UI', async () => {
    const client = stack.env.client;
    const worker = await stack.newWorker();
    await worker.runUntil(async () => {
      const cycleId = `cycle-demo-encrypted-${Date.now()}`;
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: { agent: 'demo', seed: 2, sampleRate: 0.5, annotationDeadlineSeconds: 600 },
      });
      // The status query's answer crosses the worker's codec and then the client's.
      await waitForStage(client, cycleId, ['awaiting_annotation', 'done']);

      // What the Temporal Service stores, read without the codec.
      const raw = new Client({
        connection: stack.env.connection,
        namespace: stack.env.namespace ?? 'default',
      });
      const history = await raw.workflow.getHandle(cycleId).fetchHistory();
      const events = history.events ?? [];
      const started = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      assert.ok(started, 'the cycle input is in the history');
      const activityResults = events.flatMap(
        (e) => e.activityTaskCompletedEventAttributes?.result?.payloads ?? [],
      );
      assert.ok(activityResults.length >= 3, `activity results were recorded (${activityResults.length})`);
      const payloads = payloadsIn(events);
      assert.ok(payloads.length > activityResults.length);
      for (const payload of payloads) {
        assert.equal(text(payload.metadata?.encoding), ENCRYPTED_ENCODING);
        assert.equal(text(payload.metadata?.[KEY_ID_METADATA]), TEST_PAYLOAD_ENCRYPTION.keys[0]!.id);
        assert.ok(!text(payload.data).includes('"agent":"demo"'), 'no plain cycle input in any payload');
      }

      // The Web UI sends the stored payload to the codec server and shows the plain input.
      const decoded = await handleCodecRequest(clientPayloadCodec(client), 'decode', {
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(started.metadata ?? {}).map(([k, v]) => [k, base64(v)]),
            ),
            data: base64(started.data),
          },
        ],
      });
      const shown = decoded.payloads[0]!;
      assert.equal(Buffer.from(shown.metadata.encoding!, 'base64').toString(), 'json/plain');
      assert.equal(
        (JSON.parse(Buffer.from(shown.data, 'base64').toString()) as { agent: string }).agent,
        'demo',
      );

      // A process with other keys cannot read the cycle, and says which key it lacks.
      const stranger = new Client({
        connection: stack.env.connection,
        namespace: stack.env.namespace ?? 'default',
        dataConverter: {
          payloadCodecs: [new AesGcmPayloadCodec({ keys: [{ id: 'other', key: randomBytes(32) }] })],
        },
      });
      await assert.rejects(cycleStatus(stranger, cycleId), /encrypted with key "flywheel-test"/);
      await client.workflow.getHandle(cycleId).terminate('test done');
    });
  });

  it('stores failure messages and stack traces encrypted; a client with the codec reads them', async () => {
    const client = stack.env.client;
    const worker = await stack.newWorker();
    // An unknown agent fails the cycle's first activity for good (a UserError), quoting the id.
    const marker = `pii-marker-${randomBytes(6).toString('hex')}`;
    const cycleId = `cycle-failure-encrypted-${Date.now()}`;
    await worker.runUntil(async () => {
      await startCycle(client, {
        taskQueue: stack.taskQueue,
        workflowId: cycleId,
        input: { agent: marker, seed: 2, sampleRate: 0.5, annotationDeadlineSeconds: 600 },
      });
      // With the codec, the real message comes back through the failure's encoded attributes.
      const failed = await client.workflow
        .getHandle(cycleId)
        .result()
        .then(
          () => assert.fail('a cycle for an unknown agent completed'),
          (e: unknown) => e,
        );
      assert.ok(failed instanceof WorkflowFailedError, String(failed));
      assert.ok(
        messages(failed).some((m) => m.includes(`Unknown agent "${marker}"`)),
        messages(failed).join(' ← '),
      );
    });

    // What the Temporal Service stores: no message, no stack trace, only ciphertext.
    const raw = new Client({ connection: stack.env.connection, namespace: stack.env.namespace ?? 'default' });
    const events = (await raw.workflow.getHandle(cycleId).fetchHistory()).events ?? [];
    assert.ok(events.some((e) => e.activityTaskFailedEventAttributes?.failure));
    assert.ok(events.some((e) => e.workflowExecutionFailedEventAttributes?.failure));
    const failures = failuresIn(events);
    assert.ok(failures.length >= 3, `failures in the history: ${failures.length}`);
    for (const failure of failures) {
      assert.equal(failure.message, 'Encoded failure');
      assert.equal(failure.stackTrace ?? '', '');
      assert.equal(text(failure.encodedAttributes?.metadata?.encoding), ENCRYPTED_ENCODING);
      assert.ok(
        !text(failure.encodedAttributes?.data).includes(marker),
        'no plain message in the attributes',
      );
    }
  });
});
