import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { UserError } from '../schemas/user-error.js';
import { nestsDeeperThan, tooDeepMessage } from '../traces/json-depth.js';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

const gunzipAsync = promisify(gunzip);

export const payloadTooLarge = (limit: number) =>
  new UserError(`Payload over the ${limit} byte limit; split it into smaller batches.`, 'payload_too_large');

/**
 * A request body, read in full up to `limit` bytes. A gzip body (OTLP exporters gzip by
 * default) is inflated with the same limit on its inflated size, so a small compressed
 * body cannot expand into gigabytes.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw payloadTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  if (req.headers['content-encoding'] !== 'gzip') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (e) {
    if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw payloadTooLarge(limit);
    throw new UserError(
      'The body is marked gzip but does not inflate; send valid gzip or drop Content-Encoding.',
    );
  }
}

/**
 * A body as JSON. Nesting is bounded because what reads and stores the value recurses; OTLP
 * ingest skips the whole-body walk (`checkDepth: false`) and checks each span it cannot take
 * on its fast path instead.
 */
export function parseJsonBody(body: Buffer, { checkDepth = true }: { checkDepth?: boolean } = {}): unknown {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new UserError(`The body is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (checkDepth && nestsDeeperThan(value)) throw new UserError(`${tooDeepMessage('The body')}.`);
  return value;
}
