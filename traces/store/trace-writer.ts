import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import { compactSpans, type MessageJson } from '../span-compaction.js';
import { matchCustomStrata } from '../strata-match.js';
import { AgentConfig } from '../../schemas/agent-config.js';
import type { Stratum } from '../../schemas/sampling-policy.js';
import type { ChatMessage, TraceRecord } from '../../schemas/trace.js';
import { poolOf, type Db } from '../../db/connection.js';
import { BinaryCopyEncoder, type CopyType, type CopyValue } from './copy-binary.js';
import { isMissingPartition, TracePartitions, utcDay } from './trace-partitions.js';

const COLUMNS = [
  'id',
  'agent_id',
  'prompt_name',
  'prompt_version',
  'session_id',
  'user_id',
  'started_at',
  'ended_at',
  'model',
  'status',
  'input',
  'output',
  'expected',
  'expected_actions',
  'feedback',
  'feedback_text',
  'outcome',
  'reward',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'latency_ms',
  'spans',
  'attributes',
  'strata',
] as const;
const COLUMN_LIST = COLUMNS.join(', ');

// jsonb rejects two escapes JSON.stringify writes: the NUL character (\u0000) and a lone
// UTF-16 surrogate (\ud800-\udfff: a pair is written as the character itself, so every such
// escape is lone). Both become U+FFFD, as a UTF-8 encoder does; the rest of the record is
// kept. An odd run of backslashes before `u` is an escape, an even run is literal text.
const BAD_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;
function jsonbSafe(text: string): string {
  // Most rows hold no escape at all; a plain search rules them out far cheaper than the regex.
  if (!text.includes('\\u') || !/\\u(?:0000|d[89a-f])/i.test(text)) return text;
  return text.replace(BAD_ESCAPE, '$1\\ufffd');
}

function json(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return jsonbSafe(JSON.stringify(value));
}

/** A value as JSON text that jsonb accepts (lone surrogates and NUL replaced). */
export function jsonbText(value: unknown): string {
  return jsonbSafe(JSON.stringify(value));
}

function text(value: string | undefined): string | null {
  return value === undefined ? null : value.replaceAll(String.fromCharCode(0), '\ufffd');
}

/**
 * A row stores the conversation twice: as the trace's input and among the spans' distinct
 * messages, usually as the very same objects. Serializing each message once per row is a
 * third of the JSON work of a bulk import.
 */
function messageJsonCache(): MessageJson {
  const cache = new Map<ChatMessage, string>();
  return (message) => {
    let text = cache.get(message);
    if (text === undefined) {
      text = JSON.stringify(message);
      cache.set(message, text);
    }
    return text;
  };
}

function inputJson(input: TraceRecord['input'], messageJson: MessageJson): string {
  const keys = Object.keys(input);
  if (keys.length !== 1 || keys[0] !== 'messages') return JSON.stringify(input);
  return `{"messages":[${input.messages.map(messageJson).join(',')}]}`;
}

/** The token columns are 32-bit; a count past that is a corrupted attribute, stored as unknown. */
function int4(n: number | undefined): number | undefined {
  return n !== undefined && n <= 2_147_483_647 ? n : undefined;
}

/** A trace as the values of COLUMNS, JSON already serialized for jsonb. */
export function columnValues(r: TraceRecord, strata: readonly string[] = []): CopyValue[] {
  const messageJson = messageJsonCache();
  return [
    r.id,
    r.agent,
    text(r.promptName),
    r.promptVersion,
    text(r.sessionId),
    text(r.userId),
    r.timestamp,
    r.endTimestamp,
    text(r.model),
    r.status,
    jsonbSafe(inputJson(r.input, messageJson)),
    json(r.output),
    json(r.expected),
    json(r.expectedActions),
    r.feedback?.score,
    text(r.feedback?.text),
    r.outcome,
    r.reward,
    int4(r.usage?.inputTokens),
    int4(r.usage?.outputTokens),
    r.costUsd,
    r.latencyMs,
    jsonbSafe(compactSpans(r.spans, messageJson, r.input.messages)),
    json(r.attributes),
    strata,
  ];
}

/** Each column's type, for binary COPY. */
const COLUMN_TYPES: Record<(typeof COLUMNS)[number], CopyType> = {
  id: 'text',
  agent_id: 'text',
  prompt_name: 'text',
  prompt_version: 'int4',
  session_id: 'text',
  user_id: 'text',
  started_at: 'timestamptz',
  ended_at: 'timestamptz',
  model: 'text',
  status: 'text',
  input: 'jsonb',
  output: 'jsonb',
  expected: 'jsonb',
  expected_actions: 'jsonb',
  feedback: 'int2',
  feedback_text: 'text',
  outcome: 'text',
  reward: 'float8',
  input_tokens: 'int4',
  output_tokens: 'int4',
  cost_usd: 'float8',
  latency_ms: 'float8',
  spans: 'jsonb',
  attributes: 'jsonb',
  strata: 'text[]',
};

/**
 * Records as the content of a binary `COPY traces (COLUMNS) FROM STDIN`, a chunk at a time:
 * streamed, Postgres parses and compresses the first rows while later ones are encoded.
 */
export function* copyRows(records: readonly TraceRecord[], strataOf: StrataOf): Generator<Buffer> {
  const encoder = new BinaryCopyEncoder(
    COLUMNS.map((c) => COLUMN_TYPES[c]),
    256 * 1024,
  );
  for (const r of records) {
    encoder.row(columnValues(r, strataOf(r)));
    yield* encoder.take();
  }
  yield* encoder.finish();
}

export type StrataOf = (r: TraceRecord) => string[];

export interface WriteResult {
  inserted: number;
  duplicates: number;
}

/**
 * The one write path for whole traces (JSONL, importers, new OTLP traces): COPY into a
 * per-connection staging table, then one INSERT … SELECT that skips any id already stored
 * in any partition. COPY is the fast path Postgres offers for bulk loads; the staging step
 * is what makes it idempotent, since COPY itself cannot skip conflicts.
 */
export class TraceWriter {
  private readonly partitions: TracePartitions;
  private readonly knownAgents = new Set<string>();
  private readonly strataConfig = new Map<string, { strata: Stratum[]; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly configTtlMs = 30_000,
  ) {
    this.partitions = new TracePartitions(db);
  }

  /** The custom strata a record matches under its agent's (cached) sampling policy. */
  readonly strataOf: StrataOf = (r) => matchCustomStrata(r, this.strataConfig.get(r.agent)?.strata ?? []);

  private async loadStrata(agents: Iterable<string>): Promise<void> {
    const now = Date.now();
    const stale = [...new Set(agents)].filter((a) => (this.strataConfig.get(a)?.until ?? 0) <= now);
    if (stale.length === 0) return;
    const rows = await this.db
      .selectFrom('agents')
      .select(['id', 'config'])
      .where('id', 'in', stale)
      .execute();
    for (const row of rows) {
      const parsed = AgentConfig.safeParse(row.config);
      // A config that no longer parses must not stop ingest; its custom strata wait for a fix.
      const strata = parsed.success ? parsed.data.sampling.strata.custom : [];
      this.strataConfig.set(row.id, { strata, until: now + this.configTtlMs });
    }
  }

  async ensureAgents(agents: Iterable<string>): Promise<void> {
    const missing = [...new Set(agents)].filter((a) => !this.knownAgents.has(a));
    if (missing.length === 0) return;
    await this.db
      .insertInto('agents')
      .values(missing.map((id) => ({ id, config: JSON.stringify({ tools: [] }) })))
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    for (const a of missing) this.knownAgents.add(a);
  }

  async prepare(records: readonly TraceRecord[]): Promise<void> {
    await this.ensureAgents(records.map((r) => r.agent));
    await this.loadStrata(records.map((r) => r.agent));
    await this.partitions.ensure(records.map((r) => utcDay(r.timestamp)));
  }

  /**
   * Runs a write once more, with the partition cache cleared, when a day's partition this
   * process had created was dropped since (retention runs in the worker, on a schedule): a
   * late trace for that day then recreates it instead of failing with a server error.
   */
  async retryOnDroppedPartition<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!isMissingPartition(error)) throw error;
      this.partitions.forgetAll();
      return write();
    }
  }

  async write(records: readonly TraceRecord[]): Promise<WriteResult> {
    return this.retryOnDroppedPartition(() => this.writeOnce(records));
  }

  private async writeOnce(records: readonly TraceRecord[]): Promise<WriteResult> {
    // Within one batch the first record of an id wins, like a second send would.
    const seen = new Set<string>();
    const unique = records.filter((r) => !seen.has(r.id) && (seen.add(r.id), true));
    if (unique.length === 0) return { inserted: 0, duplicates: records.length };
    await this.prepare(unique);
    const client = await poolOf(this.db).connect();
    try {
      await client.query('begin');
      const inserted = await copyInsert(client, unique, this.strataOf);
      await client.query('commit');
      return { inserted, duplicates: records.length - inserted };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

/**
 * COPY inside the caller's transaction; returns how many rows were new. Ids already stored
 * (in any partition) are filtered first, and the rest are copied straight into the table.
 * Only when a concurrent writer stores one of the same ids in between does the COPY fail
 * on the primary key; then a savepoint rolls it back and the batch goes through a staging
 * table and an INSERT that skips conflicts, which costs twice the writes but never fails.
 */
export async function copyInsert(
  client: pg.PoolClient,
  records: readonly TraceRecord[],
  strataOf: StrataOf,
  { storedIdsRead = false }: { storedIdsRead?: boolean } = {},
): Promise<number> {
  // A caller that has just read, in this transaction, which of these ids are stored (the
  // span merger, under its trace locks) passes only new ones: the lookup probes every
  // partition's key, once more per request.
  let fresh = records;
  if (!storedIdsRead) {
    const present = await client.query<{ id: string }>('select id from traces where id = any($1::text[])', [
      records.map((r) => r.id),
    ]);
    const stored = new Set(present.rows.map((r) => r.id));
    fresh = records.filter((r) => !stored.has(r.id));
  }
  if (fresh.length === 0) return 0;
  await client.query('savepoint direct_copy');
  try {
    await pipeline(
      Readable.from(copyRows(fresh, strataOf)),
      client.query(copyFrom(`copy traces (${COLUMN_LIST}) from stdin (format binary)`)),
    );
    await client.query('release savepoint direct_copy');
    return fresh.length;
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    await client.query('rollback to savepoint direct_copy');
  }
  await client.query(
    `create temp table if not exists trace_stage (like traces including defaults) on commit delete rows`,
  );
  await pipeline(
    Readable.from(copyRows(fresh, strataOf)),
    client.query(copyFrom(`copy trace_stage (${COLUMN_LIST}) from stdin (format binary)`)),
  );
  const result = await client.query(
    `insert into traces (${COLUMN_LIST})
     select ${COLUMN_LIST} from trace_stage s
     where not exists (select 1 from traces t where t.id = s.id)
     on conflict do nothing`,
  );
  return result.rowCount ?? 0;
}
