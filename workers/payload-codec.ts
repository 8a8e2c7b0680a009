import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

/** The metadata `encoding` of a payload this codec encrypted. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
/** GCM's standard nonce size; a fresh random one per payload (2^32 payloads per key stay far below the collision bound). */
const IV_BYTES = 12;
const TAG_BYTES = 16;

// A CommonJS package: its namespaces are properties of the default export under ESM.
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** One key of the keyring: `id` is stored in every payload it encrypts, `key` is 32 random bytes. */
export interface CodecKey {
  id: string;
  key: Uint8Array;
}

/** A payload that names a key this process was not given: the fix is configuration, not code. */
export class UnknownCodecKeyError extends Error {
  override name = 'UnknownCodecKeyError';
  constructor(
    readonly keyId: string,
    known: readonly string[],
  ) {
    super(
      `A Temporal payload is encrypted with key "${keyId}", which this process does not have ` +
        `(it has ${known.length ? known.map((k) => `"${k}"`).join(', ') : 'no keys'}). ` +
        `Add "${keyId}:<base64 key>" to FLYWHEEL_CODEC_KEYS (after the active key) on every worker, API and CLI: ` +
        'keys that encrypted histories still within retention must stay configured.',
    );
  }
}

/** An encrypted payload that does not decrypt: altered in storage, or a different key under the same id. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? fromUtf8.decode(value) : undefined;
}

/**
 * AES-256-GCM encryption of whole payloads, so workflow inputs, results, signals, updates,
 * queries and memos reach the Temporal Service (and its database, and the Web UI) only as
 * ciphertext. Each payload is serialized as a `Payload` proto, metadata included (the plain
 * `encoding` would otherwise say what is inside), then encrypted under a random 12-byte IV;
 * the stored payload is `IV ‖ ciphertext ‖ auth tag` with metadata `encoding:
 * binary/encrypted` and the key id.
 *
 * The keyring rotates without downtime: the first key encrypts, every key decrypts. Rotation
 * adds a new first key; an old one is removed only once no history within retention (nor a
 * running workflow) was written with it. Payloads that are not encrypted pass through
 * decode untouched, so histories recorded before encryption was turned on still replay.
 * With `encrypt: false` nothing new is encrypted and the keys only read older payloads.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, KeyObject>;
  private readonly active: { id: string; key: KeyObject; metadataId: Uint8Array } | undefined;

  constructor(keyring: { keys: readonly CodecKey[]; encrypt?: boolean }) {
    const keys = new Map<string, KeyObject>();
    for (const { id, key } of keyring.keys) {
      if (key.length !== KEY_BYTES)
        throw new Error(`Payload key "${id}" has ${key.length} bytes; AES-256 needs ${KEY_BYTES}.`);
      if (keys.has(id)) throw new Error(`Payload key id "${id}" appears twice in the keyring.`);
      keys.set(id, createSecretKey(key));
    }
    this.keys = keys;
    const first = keyring.keys[0];
    if (keyring.encrypt ?? true) {
      if (!first) throw new Error('A payload codec that encrypts needs at least one key.');
      this.active = { id: first.id, key: keys.get(first.id)!, metadataId: utf8.encode(first.id) };
    }
  }

  /** The id new payloads are encrypted with; undefined when this codec only decrypts. */
  get activeKeyId(): string | undefined {
    return this.active?.id;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const active = this.active;
    if (!active) return Promise.resolve(payloads);
    return Promise.resolve(
      payloads.map((payload) => {
        const plain = ProtoPayload.encode(payload).finish();
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv(ALGORITHM, active.key, iv);
        const body = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: {
            encoding: utf8.encode(ENCRYPTED_ENCODING),
            [KEY_ID_METADATA]: active.metadataId,
          },
          data: body,
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    // Synchronous work in a promise: a throw becomes a rejection, as the SDK expects of a codec.
    return new Promise((resolve) => resolve(payloads.map((payload) => this.decrypt(payload))));
  }

  private decrypt(payload: Payload): Payload {
    if (metadataText(payload, 'encoding') !== ENCRYPTED_ENCODING) return payload;
    const keyId = metadataText(payload, KEY_ID_METADATA);
    if (keyId === undefined)
      throw new PayloadDecryptionError(
        `An encrypted Temporal payload has no "${KEY_ID_METADATA}" metadata, so no key can decrypt it.`,
      );
    const key = this.keys.get(keyId);
    if (!key) throw new UnknownCodecKeyError(keyId, [...this.keys.keys()]);
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(
        `An encrypted Temporal payload (key "${keyId}") is ${data.length} bytes, shorter than its IV and auth tag.`,
      );
    const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `A Temporal payload encrypted with key "${keyId}" failed authentication: it was altered, or the key ` +
          `configured as "${keyId}" is not the one that encrypted it.`,
      );
    }
    return ProtoPayload.decode(plain);
  }
}
