import type { Client } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { UserError } from '../schemas/user-error.js';
import { PayloadDecryptionError, UnknownCodecKeyError } from './payload-codec.js';

/*
 * The Temporal codec-server protocol, transport-free: the Web UI (and `temporal … --codec-endpoint`)
 * POSTs `{ payloads }` to `<endpoint>/decode` or `/encode` and gets `{ payloads }` back, each
 * payload in protobuf JSON (metadata values and data in base64). The HTTP layer mounts this
 * behind authentication: whoever may call /decode reads every history in plain text.
 */

/** One payload as protobuf JSON writes it; protobuf JSON leaves out empty fields. */
const JsonPayload = z.object({
  metadata: z.record(z.string(), z.base64()).nullish(),
  data: z.base64().nullish(),
});
export const CodecRequest = z.object({ payloads: z.array(JsonPayload) });
export type CodecRequest = z.infer<typeof CodecRequest>;

export interface CodecResponse {
  payloads: { metadata: Record<string, string>; data: string }[];
}

export const CODEC_ACTIONS = ['encode', 'decode'] as const;
export type CodecAction = (typeof CODEC_ACTIONS)[number];
export const isCodecAction = (value: string): value is CodecAction =>
  (CODEC_ACTIONS as readonly string[]).includes(value);

const fromJson = ({ metadata, data }: z.infer<typeof JsonPayload>): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

const base64 = (bytes: Uint8Array | null | undefined) =>
  bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') : '';

const toJson = (payload: Payload): CodecResponse['payloads'][number] => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, base64(v)])),
  data: base64(payload.data),
});

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    throw new UserError('A codec request body is JSON: {"payloads": [...]}. Nothing was decoded.');
  }
}

/**
 * Answers one codec-server request: `body` is the request's JSON (parsed, or the raw text).
 * Bad input and payloads this keyring cannot decrypt are UserErrors (400) that say why.
 */
export async function handleCodecRequest(
  codec: PayloadCodec,
  action: CodecAction,
  body: unknown,
): Promise<CodecResponse> {
  const parsed = CodecRequest.safeParse(parseBody(body));
  if (!parsed.success)
    throw new UserError(
      `A codec ${action} request is {"payloads": [{"metadata": {"<name>": "<base64>"}, "data": "<base64>"}]}: ` +
        `${z.prettifyError(parsed.error)}. Nothing was ${action}d.`,
    );
  const payloads = parsed.data.payloads.map(fromJson);
  try {
    const result = action === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    return { payloads: result.map(toJson) };
  } catch (error) {
    if (error instanceof UnknownCodecKeyError || error instanceof PayloadDecryptionError)
      throw new UserError(error.message);
    throw error;
  }
}

/**
 * The codec chain a client encodes with, as one codec (encode in order, decode in reverse, as
 * the SDK does): the codec server then answers with exactly the keys the API's client has.
 */
export function clientPayloadCodec(client: Client): PayloadCodec {
  const codecs = client.options.loadedDataConverter.payloadCodecs;
  return {
    async encode(payloads) {
      for (const codec of codecs) payloads = await codec.encode(payloads);
      return payloads;
    },
    async decode(payloads) {
      for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
      return payloads;
    },
  };
}
