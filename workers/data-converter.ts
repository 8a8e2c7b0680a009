import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import type { PayloadEncryption } from '../schemas/config.js';
import { AesGcmPayloadCodec } from './payload-codec.js';

/**
 * The payload codec every Flywheel client and worker uses. A process meant to encrypt with
 * no key refuses to start rather than write plain payloads: a worker that silently stored
 * PII in history could not take it back.
 */
export function createPayloadCodec(settings: PayloadEncryption): AesGcmPayloadCodec {
  if (settings.encrypt && settings.keys.length === 0)
    throw new Error(
      'Temporal payloads are encrypted and no key is configured. Set FLYWHEEL_CODEC_KEYS=<id>:<base64 32-byte key> ' +
        '(e.g. "payloads-1:$(openssl rand -base64 32)"), the same keys for every worker, API and CLI process, ' +
        `or FLYWHEEL_CODEC_KEYS_FILE to a file holding them; \`npm start\` generates one into ${settings.keyFile}. ` +
        'To store payloads in plain text instead, set FLYWHEEL_CODEC=off.',
    );
  return new AesGcmPayloadCodec({
    keys: settings.keys.map(({ id, key }) => ({ id, key: Buffer.from(key, 'base64') })),
    encrypt: settings.encrypt,
  });
}

/**
 * The module exporting the failure converter that encodes failure messages and stack traces
 * (workers/failure-converter.ts). A path, as the SDK wants it: clients and workers `require`
 * it, and the workflow bundle includes it (workers/flywheel-worker.ts).
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));

/**
 * `dataConverter` for `new Client(…)` and `Worker.create(…)`: both sides must use the same one.
 * When payloads are encrypted, failure messages and stack traces are too (FAILURE_CONVERTER_PATH);
 * with encryption off they stay plain, as an encoded message would hide nothing.
 */
export function flywheelDataConverter(settings: PayloadEncryption): DataConverter {
  return {
    payloadCodecs: [createPayloadCodec(settings)],
    ...(settings.encrypt ? { failureConverterPath: FAILURE_CONVERTER_PATH } : {}),
  };
}
