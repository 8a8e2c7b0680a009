import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { UserError } from '../../schemas/user-error.js';
import { ensureCodecKeyFile } from '../../scripts/codec-key-file.js';
import { CODEC_KEY_FILE, loadConfig, parseCodecKeys } from '../../scripts/load-config.js';
import { clientPayloadCodec, handleCodecRequest } from '../../workers/codec-server.js';
import { createPayloadCodec } from '../../workers/data-converter.js';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  type CodecKey,
} from '../../workers/payload-codec.js';

const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const K1 = key('k1');
const K2 = key('k2');
const SECRET = { reviewer: 'alice@example.com', note: 'passport 123456789' };
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const toPayload = (value: unknown) => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload | undefined) => defaultPayloadConverter.fromPayload(payload!);

async function encodeOne(codec: PayloadCodec, value: unknown): Promise<Payload> {
  const [encoded] = await codec.encode([toPayload(value)]);
  return encoded!;
}

describe('AES-GCM payload codec', () => {
  const codec = new AesGcmPayloadCodec({ keys: [K1] });

  it('round-trips payloads, stores only ciphertext and names the key in the metadata', async () => {
    const values = [SECRET, 'plain string', 42, null, undefined, { nested: { list: [1, 'two'] } }];
    const encoded = await codec.encode(values.map(toPayload));
    for (const payload of encoded) {
      assert.equal(text(payload.metadata?.encoding), ENCRYPTED_ENCODING);
      assert.equal(text(payload.metadata?.[KEY_ID_METADATA]), 'k1');
      assert.deepEqual(Object.keys(payload.metadata ?? {}).sort(), ['encoding', KEY_ID_METADATA].sort());
    }
    assert.ok(!text(encoded[0]!.data).includes('alice'), 'no plain text in the stored bytes');
    assert.ok(!text(encoded[0]!.data).includes('json/plain'), 'not even the inner encoding');
    const decoded = await codec.decode(encoded);
    assert.deepEqual(decoded.map(fromPayload), values);
  });

  it('draws a fresh IV for every payload, so equal inputs never look equal', async () => {
    const a = await encodeOne(codec, SECRET);
    const b = await encodeOne(codec, SECRET);
    assert.notDeepEqual(Buffer.from(a.data!).subarray(0, 12), Buffer.from(b.data!).subarray(0, 12));
    assert.notDeepEqual(Buffer.from(a.data!), Buffer.from(b.data!));
  });

  it('rejects a payload whose ciphertext, IV or tag was altered', async () => {
    const encoded = await encodeOne(codec, SECRET);
    const length = encoded.data!.length;
    for (const at of [0, 12, Math.floor(length / 2), length - 1]) {
      const data = Buffer.from(encoded.data!);
      data[at]! ^= 0x01;
      await assert.rejects(codec.decode([{ ...encoded, data }]), /key "k1" failed authentication/);
    }
    await assert.rejects(
      codec.decode([{ ...encoded, data: encoded.data!.subarray(0, 20) }]),
      /shorter than its IV and auth tag/,
    );
  });

  it('says which key id is missing and what to configure', async () => {
    const encoded = await encodeOne(codec, SECRET);
    const other = new AesGcmPayloadCodec({ keys: [K2] });
    await assert.rejects(other.decode([encoded]), (error: Error) => {
      assert.equal(error.name, 'UnknownCodecKeyError');
      assert.match(error.message, /encrypted with key "k1"/);
      assert.match(error.message, /it has "k2"/);
      assert.match(error.message, /FLYWHEEL_CODEC_KEYS/);
      return true;
    });
    const { [KEY_ID_METADATA]: _, ...withoutId } = encoded.metadata!;
    await assert.rejects(
      codec.decode([{ ...encoded, metadata: withoutId }]),
      /no "encryption-key-id" metadata/,
    );
  });

  it('rotates: a new first key encrypts, the old key still decrypts what it encrypted', async () => {
    const before = await encodeOne(codec, SECRET);
    const rotated = new AesGcmPayloadCodec({ keys: [K2, K1] });
    assert.equal(rotated.activeKeyId, 'k2');
    assert.deepEqual(fromPayload((await rotated.decode([before]))[0]), SECRET);
    const after = await encodeOne(rotated, SECRET);
    assert.equal(text(after.metadata?.[KEY_ID_METADATA]), 'k2');
    // A process not yet given the new key cannot read new payloads, and says so.
    await assert.rejects(codec.decode([after]), /encrypted with key "k2"/);
  });

  it('passes payloads that are not encrypted through decode unchanged (histories from before)', async () => {
    const plain = toPayload(SECRET);
    const [decoded] = await codec.decode([plain]);
    assert.equal(decoded, plain);
    const mixed = await codec.decode([plain, await encodeOne(codec, 'x')]);
    assert.deepEqual(mixed.map(fromPayload), [SECRET, 'x']);
  });

  it('with encryption off, stores new payloads in plain text and still reads encrypted ones', async () => {
    const readOnly = new AesGcmPayloadCodec({ keys: [K1], encrypt: false });
    assert.equal(readOnly.activeKeyId, undefined);
    const plain = toPayload(SECRET);
    assert.deepEqual(await readOnly.encode([plain]), [plain]);
    assert.deepEqual(fromPayload((await readOnly.decode([await encodeOne(codec, SECRET)]))[0]), SECRET);
    assert.throws(() => new AesGcmPayloadCodec({ keys: [] }), /needs at least one key/);
    assert.throws(
      () => new AesGcmPayloadCodec({ keys: [{ id: 'short', key: randomBytes(16) }] }),
      /needs 32/,
    );
    assert.throws(() => new AesGcmPayloadCodec({ keys: [K1, K1] }), /appears twice/);
  });
});

describe('codec server handler', () => {
  const codec = new AesGcmPayloadCodec({ keys: [K1] });
  const asJson = (payload: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  });

  it('encodes and decodes protobuf-JSON payloads as the Web UI sends them', async () => {
    const body = { payloads: [asJson(toPayload(SECRET)), asJson(toPayload(null))] };
    const encoded = await handleCodecRequest(codec, 'encode', body);
    assert.equal(encoded.payloads.length, 2);
    assert.equal(
      Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString(),
      ENCRYPTED_ENCODING,
    );
    // The raw JSON text a transport might hand over works as well as a parsed body.
    const decoded = await handleCodecRequest(codec, 'decode', JSON.stringify(encoded));
    assert.deepEqual(decoded, body);
    // What the SDK writes decodes to the same JSON the UI shows.
    const fromSdk = await handleCodecRequest(codec, 'decode', {
      payloads: [asJson(await encodeOne(codec, SECRET))],
    });
    assert.deepEqual(JSON.parse(Buffer.from(fromSdk.payloads[0]!.data, 'base64').toString()), SECRET);
    assert.deepEqual(await handleCodecRequest(codec, 'decode', { payloads: [] }), { payloads: [] });
  });

  it('accepts payloads without data or metadata, as protobuf JSON leaves empty fields out', async () => {
    const decoded = await handleCodecRequest(codec, 'decode', {
      payloads: [{}, { metadata: null, data: null }],
    });
    assert.deepEqual(decoded.payloads, [
      { metadata: {}, data: '' },
      { metadata: {}, data: '' },
    ]);
  });

  it('answers a bad body with a UserError that says what the body should be', async () => {
    const bad: unknown[] = [
      {},
      { payloads: 'x' },
      { payloads: [{ data: 'not base64!' }] },
      { payloads: [{ metadata: { encoding: 7 } }] },
      '{not json',
      null,
    ];
    for (const body of bad) {
      await assert.rejects(handleCodecRequest(codec, 'decode', body), (error: unknown) => {
        assert.ok(error instanceof UserError, String(error));
        assert.equal(error.status, 400);
        assert.match(error.message, /payloads/);
        assert.match(error.message, /Nothing was decoded/);
        return true;
      });
    }
  });

  it('answers a payload of a key it lacks, or one altered, with a UserError naming the key', async () => {
    const other = new AesGcmPayloadCodec({ keys: [K2] });
    const body = { payloads: [asJson(await encodeOne(codec, SECRET))] };
    await assert.rejects(
      handleCodecRequest(other, 'decode', body),
      (error: unknown) => error instanceof UserError && /key "k1"/.test(error.message),
    );
    const tampered = { payloads: [{ ...body.payloads[0]!, data: Buffer.alloc(40).toString('base64') }] };
    await assert.rejects(
      handleCodecRequest(codec, 'decode', tampered),
      (error: unknown) => error instanceof UserError && /failed authentication/.test(error.message),
    );
  });

  it("serves a client's codec chain in the SDK's order: encode first to last, decode last to first", async () => {
    const tag = (name: string): PayloadCodec => ({
      encode: (ps) =>
        Promise.resolve(ps.map((p) => ({ ...p, data: Buffer.concat([p.data!, Buffer.from(name)]) }))),
      decode: (ps) =>
        Promise.resolve(
          ps.map((p) => {
            assert.ok(text(p.data).endsWith(name), `${name} decodes what it encoded last`);
            return { ...p, data: p.data!.subarray(0, p.data!.length - name.length) };
          }),
        ),
    });
    const client = new Client({ dataConverter: { payloadCodecs: [tag('A'), tag('B')] } });
    const chain = clientPayloadCodec(client);
    const [encoded] = await chain.encode([{ metadata: {}, data: Buffer.from('x') }]);
    assert.equal(text(encoded!.data), 'xAB');
    const [decoded] = await chain.decode([encoded!]);
    assert.equal(text(decoded!.data), 'x');
  });
});

describe('payload key configuration', () => {
  const homes: string[] = [];
  const home = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-codec-'));
    homes.push(dir);
    return dir;
  };
  after(() => homes.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const b64 = () => randomBytes(32).toString('base64');

  it('reads id:base64 entries, first one active, and never echoes key material in errors', () => {
    const [a, b] = [b64(), b64()];
    assert.deepEqual(
      parseCodecKeys(`# comment\nnew-2:${a}\n\nold.1:${b}  # kept for old histories\n`, 'file'),
      [
        { id: 'new-2', key: a },
        { id: 'old.1', key: b },
      ],
    );
    assert.deepEqual(
      parseCodecKeys(`x:${a},y:${b}`, 'env').map((k) => k.id),
      ['x', 'y'],
    );
    const short = randomBytes(16).toString('base64');
    for (const [input, message] of [
      [`nokey${a}`, /entry 1 is not <id>:<base64 key>/],
      [`bad id:${a}`, /entry 1 is not/],
      [`k:${short}`, /key "k" is not 32 bytes of base64.*openssl rand -base64 32/],
      [`k:${a},k:${b}`, /key id "k" appears twice/],
    ] as const) {
      assert.throws(
        () => parseCodecKeys(input, 'FLYWHEEL_CODEC_KEYS'),
        (error: Error) =>
          message.test(error.message) && !error.message.includes(a) && !error.message.includes(short),
      );
    }
  });

  it('takes FLYWHEEL_CODEC_KEYS, else FLYWHEEL_CODEC_KEYS_FILE, else the key file in the home', () => {
    const cwd = home();
    const k = b64();
    const fromEnv = loadConfig({ FLYWHEEL_CODEC_KEYS: `a:${k}` }, cwd).temporal.payloadEncryption;
    assert.deepEqual(fromEnv, {
      encrypt: true,
      keys: [{ id: 'a', key: k }],
      source: 'FLYWHEEL_CODEC_KEYS',
      keyFile: path.join(cwd, '.flywheel', CODEC_KEY_FILE),
    });
    writeFileSync(path.join(cwd, 'keys.txt'), `f:${k}\n`);
    const fromFile = loadConfig({ FLYWHEEL_CODEC_KEYS_FILE: 'keys.txt' }, cwd).temporal.payloadEncryption;
    assert.deepEqual(fromFile.keys, [{ id: 'f', key: k }]);
    assert.throws(
      () => loadConfig({ FLYWHEEL_CODEC_KEYS: `a:${k}`, FLYWHEEL_CODEC_KEYS_FILE: 'keys.txt' }, cwd),
      /set one of them/,
    );
    assert.throws(() => loadConfig({ FLYWHEEL_CODEC_KEYS_FILE: 'missing.txt' }, cwd), /cannot be read/);
    assert.throws(() => loadConfig({ FLYWHEEL_CODEC: 'yes' }, cwd), /FLYWHEEL_CODEC=yes is not a setting/);
    const off = loadConfig({ FLYWHEEL_CODEC: 'off' }, cwd).temporal.payloadEncryption;
    assert.equal(off.encrypt, false);
    assert.equal(createPayloadCodec(off).activeKeyId, undefined);
  });

  it('refuses to build an encrypting codec without a key, and says what to set', () => {
    const unset = loadConfig({}, home()).temporal.payloadEncryption;
    assert.deepEqual(unset.keys, []);
    assert.throws(
      () => createPayloadCodec(unset),
      (error: Error) =>
        /FLYWHEEL_CODEC_KEYS=<id>:<base64 32-byte key>/.test(error.message) &&
        /FLYWHEEL_CODEC=off/.test(error.message) &&
        error.message.includes(unset.keyFile),
    );
  });

  it('generates the dev key once, readable by its owner only, and every later start reads it', () => {
    const cwd = home();
    const { keyFile } = loadConfig({}, cwd).temporal.payloadEncryption;
    const first = ensureCodecKeyFile(keyFile, new Date('2026-12-07T10:00:00Z'));
    assert.equal(first.created, true);
    assert.equal(first.keys[0]!.id, 'local-20261207');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const second = ensureCodecKeyFile(keyFile, new Date('2026-12-08T10:00:00Z'));
    assert.deepEqual(second, { keys: first.keys, created: false });
    const loaded = loadConfig({}, cwd).temporal.payloadEncryption;
    assert.deepEqual(loaded.keys, first.keys);
    assert.equal(loaded.source, keyFile);
    assert.equal(createPayloadCodec(loaded).activeKeyId, 'local-20261207');
  });
});
