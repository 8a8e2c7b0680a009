import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';

/*
 * The replay corpus: histories recorded from real cycles, one folder per release
 * (test/histories/<release>/), each with a manifest naming every file's workflow, its ID and
 * the outcome it stands for. Every history of every release is replayed in CI against the
 * current workflow code (test/integration/replay.test.ts): a deploy meets cycles that a worker
 * of any of these releases started, so none of them may stop replaying.
 */

export const HISTORIES_DIR = fileURLToPath(new URL('../histories/', import.meta.url));

/** What a recorded cycle stands for: the outcomes a deploy meets, finished or waiting for people. */
export const CORPUS_OUTCOMES = [
  'released',
  'rolled-back',
  'gate-failed',
  'awaiting-approval',
  'awaiting-reviewers',
] as const;
export type CorpusOutcome = (typeof CORPUS_OUTCOMES)[number];

export interface CorpusEntry {
  /** The history file, in the JSON format of `temporal workflow show -o json` and the Web UI. */
  file: string;
  outcome: CorpusOutcome;
  workflowType: 'cycleWorkflow' | 'optimizeWorkflow' | 'rolloutWorkflow';
  /** Child workflow IDs derive from the cycle's ID, so a replay must use the recorded one. */
  workflowId: string;
  runId: string;
  /** `running` for a cycle recorded while it waited: the history a deployed worker picks up. */
  state: 'running' | 'completed' | 'continued-as-new';
}

export interface CorpusManifest {
  release: string;
  recordedAt: string;
  /** The commit whose workflow code wrote these histories. */
  commit: string;
  /** Payloads are encrypted with the fixed test key (test/helpers/test-payload-encryption.ts), or plain. */
  payloads: 'test-key' | 'plain';
  entries: CorpusEntry[];
}

export function corpusReleases(): string[] {
  return readdirSync(HISTORIES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function readManifest(release: string): CorpusManifest {
  return JSON.parse(
    readFileSync(path.join(HISTORIES_DIR, release, 'manifest.json'), 'utf8'),
  ) as CorpusManifest;
}

/** A recorded history as JSON, which `Worker.runReplayHistory` takes as it is. */
export function readHistory(release: string, file: string): unknown {
  return JSON.parse(readFileSync(path.join(HISTORIES_DIR, release, file), 'utf8'));
}

/** One recorded history of one release. */
export interface CorpusHistory extends CorpusEntry {
  release: string;
}

/** Every history of every release, oldest release first. */
export function corpus(): CorpusHistory[] {
  return corpusReleases().flatMap((release) =>
    readManifest(release).entries.map((entry) => ({ ...entry, release })),
  );
}

/** Replays the recorded `histories` (see replayAll). */
export function replayCorpus(
  options: ReplayWorkerOptions,
  histories: CorpusHistory[],
): Promise<(Error | undefined)[]> {
  return replayAll(
    options,
    histories.map((h) => ({
      workflowId: h.workflowId,
      history: historyFromJSON(readHistory(h.release, h.file)),
    })),
  );
}

/**
 * Replays `histories` on one replay worker (a worker per history would start a fresh VM
 * context each time) and returns each one's error, undefined when it replayed cleanly.
 */
export async function replayAll(
  options: ReplayWorkerOptions,
  histories: { workflowId: string; history: History }[],
): Promise<(Error | undefined)[]> {
  const errors: (Error | undefined)[] = [];
  for await (const result of Worker.runReplayHistories(options, histories)) errors.push(result.error);
  return errors;
}

export function writeManifest(dir: string, manifest: CorpusManifest): void {
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

interface RunToRecord {
  workflowId: string;
  runId: string;
}

/**
 * Writes one workflow's history as the server holds it (payloads still encrypted: the replay
 * decodes them with the test key, as a worker would) and returns its manifest entry.
 */
export async function recordRun(
  client: Client,
  dir: string,
  run: RunToRecord & { file: string; outcome: CorpusOutcome; workflowType: CorpusEntry['workflowType'] },
): Promise<CorpusEntry & { history: History }> {
  const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
  mkdirSync(dir, { recursive: true });
  // Indented like the CLI's export, so a diff of two releases reads event by event.
  writeFileSync(
    path.join(dir, run.file),
    `${JSON.stringify(JSON.parse(historyToJSON(history)) as unknown, null, 2)}\n`,
  );
  const last = history.events?.at(-1);
  const state = last?.workflowExecutionContinuedAsNewEventAttributes
    ? 'continued-as-new'
    : last?.workflowExecutionCompletedEventAttributes
      ? 'completed'
      : 'running';
  return {
    file: run.file,
    outcome: run.outcome,
    workflowType: run.workflowType,
    workflowId: run.workflowId,
    runId: run.runId,
    state,
    history,
  };
}

/**
 * A cycle and the children it started: the cycle's history, its rollout's, and of the
 * optimizer's chain of continued runs the first, the second (the first to start from a
 * checkpoint) and the last (the one that returns to the cycle). The runs between them replay
 * the same code from the same kind of checkpoint and would only grow the corpus. A snapshot
 * of a cycle that will go on (`children: false`) leaves out children recorded with its end.
 */
export async function recordCycle(
  client: Client,
  dir: string,
  outcome: CorpusOutcome,
  cycleId: string,
  options: { children: boolean } = { children: true },
): Promise<CorpusEntry[]> {
  const strip = ({ history: _history, ...entry }: CorpusEntry & { history: History }): CorpusEntry => entry;
  const cycle = await recordRun(client, dir, {
    workflowId: cycleId,
    runId: (await client.workflow.getHandle(cycleId).describe()).runId,
    file: `${outcome}.json`,
    outcome,
    workflowType: 'cycleWorkflow',
  });
  const entries: CorpusEntry[] = [strip(cycle)];
  if (!options.children) return entries;
  for (const event of cycle.history.events ?? []) {
    const started = event.childWorkflowExecutionStartedEventAttributes;
    if (!started?.workflowExecution?.workflowId || !started.workflowExecution.runId) continue;
    const workflowId = started.workflowExecution.workflowId;
    const workflowType = started.workflowType?.name as CorpusEntry['workflowType'];
    const kind = workflowType === 'optimizeWorkflow' ? 'optimize' : 'rollout';
    const chain = await continuedRuns(client, workflowId, started.workflowExecution.runId);
    const kept = chain.length <= 3 ? chain : [chain[0]!, chain[1]!, chain.at(-1)!];
    for (const runId of kept) {
      const index = chain.indexOf(runId);
      const file =
        chain.length === 1
          ? `${outcome}.${kind}.json`
          : `${outcome}.${kind}.run-${index + 1}-of-${chain.length}.json`;
      entries.push(strip(await recordRun(client, dir, { workflowId, runId, file, outcome, workflowType })));
    }
  }
  return entries;
}

/** The run IDs of a workflow's continue-as-new chain, first to last, by following its histories. */
async function continuedRuns(client: Client, workflowId: string, firstRunId: string): Promise<string[]> {
  const runs = [firstRunId];
  for (;;) {
    const history = await client.workflow.getHandle(workflowId, runs.at(-1)).fetchHistory();
    const next = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return runs;
    runs.push(next);
  }
}
