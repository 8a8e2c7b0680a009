import { stableHash53 } from './stable-hash.js';
import { nextInt, seedPrng, type PrngState } from './prng.js';

/**
 * The ask/tell protocol every prompt optimizer speaks, and the session that runs one.
 *
 * An optimizer is a generator: it yields requests (evaluate a candidate on examples, ask
 * the teacher for texts) and receives the answers. The session's state is the optimizer's
 * settings plus the log of answers so far — plain JSON. Restoring replays the log through
 * a fresh generator; because optimizers are deterministic (seeded PRNG, no clock, no I/O),
 * the replay reaches exactly the same point, so a checkpoint resumes bit for bit.
 *
 * Texts live outside (Postgres, or memory in benchmarks) and are named by IDs, so the log
 * stays small: a candidate is a map from component ("system", "tool:<name>", "demos") to
 * a text ID. The session owns the single evaluation cache (per candidate and example),
 * the budget account and the early-stopping rule, so every optimizer is held to the same
 * accounting: one rollout is one task-model call on one (candidate, example) pair.
 */

export type Candidate = Readonly<Record<string, string>>;

/** Which evaluated examples of which candidate the teacher should read. */
export interface Evidence {
  candidate: Candidate;
  exampleIds: string[];
}

export type TeachTask =
  /** Random-search baseline: independent rewrites of the candidate's component. */
  | { type: 'rewrite'; candidate: Candidate; component: string; evidence: Evidence; count: number }
  /** ProTeGi "gradient": reasons the component got these examples wrong. */
  | { type: 'critique'; candidate: Candidate; component: string; evidence: Evidence; count: number }
  /** ProTeGi edit: apply one critique to the component. */
  | {
      type: 'edit';
      candidate: Candidate;
      component: string;
      evidence: Evidence;
      critiqueId: string;
      count: number;
    }
  /** ProTeGi Monte-Carlo step: semantically equivalent rewordings. */
  | { type: 'paraphrase'; textId: string; count: number }
  /**
   * GEPA reflective mutation of one component from inputs, outputs and feedback. `triedIds`:
   * rewrites of this component already proposed from this candidate and rejected, shown so
   * the teacher writes another (absent in runs from before it existed).
   */
  | { type: 'reflect'; candidate: Candidate; component: string; evidence: Evidence; triedIds?: string[] }
  /** MIPRO grounded instruction proposal with a prompting tip. */
  | {
      type: 'instruct';
      candidate: Candidate;
      component: string;
      evidence: Evidence;
      demosId: string | null;
      tip: string;
      /** The dataset summary to ground the proposal in; absent in runs from before it existed. */
      summaryId?: string | null;
    }
  /**
   * MIPRO grounding (MIPROv2's dataset summary): observations on one batch of the train
   * split, carrying forward the observations on the batches before (`priorId`). Where the
   * candidate was already run on an example, its step and the verdict are shown too.
   */
  | { type: 'summarize'; candidate: Candidate; exampleIds: string[]; priorId: string | null }
  /** MIPRO demo block rendered from examples (no model call). */
  | { type: 'demos'; exampleIds: string[] };

export type SearchRequest =
  | { kind: 'evaluate'; candidate: Candidate; candidateId: string; exampleIds: string[]; purpose: string }
  /** `sample` numbers the teacher calls of a run: it varies the sampling seed, so asking twice gets two samples. */
  | { kind: 'teach'; task: TeachTask; sample: number };

export type SearchResponse = { kind: 'evaluated'; scores: number[] } | { kind: 'taught'; textIds: string[] };

export type SearchStep = SearchRequest | { kind: 'done'; reason: string };

export interface BudgetConfig {
  /** Task-model calls (candidate × example) the whole run may make. */
  maxRollouts: number;
  /** Teacher (optimizer-LM) calls; null = unbounded. */
  maxTeacherCalls: number | null;
}

export interface StoppingConfig {
  /** Stop after this many incumbent updates without an improvement of at least minDelta; null = never. */
  patience: number | null;
  minDelta: number;
  /** Stop as soon as the incumbent's selection score reaches this; null = never. */
  targetScore: number | null;
  /** Stop after this many evaluation requests; null = unbounded. */
  maxEvaluations: number | null;
}

export interface SearchSetup {
  seed: number;
  baseline: Candidate;
  /** Examples the optimizer may use (never the gate's eval or holdout split). */
  trainIds: string[];
  budget: BudgetConfig;
  stopping: StoppingConfig;
  /**
   * Example → stratum (the dataset's failure cluster), for optimizers that subsample the
   * train split. Optional: setups checkpointed before it existed have none.
   */
  strata?: Readonly<Record<string, string>>;
  /** Warnings known before the run (from budget planning); they lead the outcome's list. */
  warnings?: readonly string[];
}

export interface IncumbentPoint {
  rollouts: number;
  candidateId: string;
  score: number;
}

export interface SearchOutcome {
  best: Candidate;
  bestCandidateId: string;
  bestScore: number;
  baselineCandidateId: string;
  baselineScore: number | null;
  rollouts: number;
  teacherCalls: number;
  evaluations: number;
  stopReason: string;
  warnings: string[];
  /** Every incumbent change: what the optimizer would have returned at that budget. */
  trajectory: IncumbentPoint[];
}

/** Stable ID of a candidate: a hash of its sorted components. */
export function candidateIdOf(candidate: Candidate): string {
  const key = JSON.stringify(
    Object.keys(candidate)
      .sort()
      .map((k) => [k, candidate[k]]),
  );
  const hi = stableHash53(key, 1).toString(36);
  const lo = stableHash53(key, 2).toString(36);
  return `cand_${hi}${lo}`;
}

export function withComponent(candidate: Candidate, component: string, textId: string): Candidate {
  return { ...candidate, [component]: textId };
}

class StopSearch extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface SearchContext {
  readonly setup: SearchSetup;
  readonly prng: PrngState;
  /** Scores aligned with `exampleIds`; only pairs not evaluated before cost rollouts. */
  evaluate(
    candidate: Candidate,
    exampleIds: readonly string[],
    purpose: string,
  ): Generator<SearchRequest, number[], SearchResponse>;
  teach(task: TeachTask): Generator<SearchRequest, string[], SearchResponse>;
  /** Cached score, if this pair was evaluated. */
  cached(candidate: Candidate, exampleId: string): number | undefined;
  /** The optimizer's current pick and its selection score; drives early stopping and the trajectory. */
  incumbent(candidate: Candidate, score: number): void;
  warn(message: string): void;
  readonly rolloutsUsed: number;
  readonly rolloutsLeft: number;
}

export type Optimizer = (ctx: SearchContext) => Generator<SearchRequest, void, SearchResponse>;

export interface SearchCheckpoint {
  log: SearchResponse[];
}

/**
 * Runs one optimizer. `next()` returns the pending request (the same one until it is
 * answered with `respond()`), or done. `checkpoint()` is the JSON to carry through
 * continue-as-new; `new PromptSearch(setup, optimizer, checkpoint)` resumes from it.
 */
export class PromptSearch {
  private readonly log: SearchResponse[] = [];
  private readonly scores = new Map<string, Map<string, number>>();
  private readonly generator: Generator<SearchRequest, void, SearchResponse>;
  private pending: SearchStep;
  private rollouts = 0;
  private teacherCalls = 0;
  private teachRequests = 0;
  private evaluations = 0;
  private warnings: string[] = [];
  private trajectory: IncumbentPoint[] = [];
  private best: { candidate: Candidate; score: number } | null = null;
  private baselineScore: number | null = null;
  private sinceImprovement = 0;
  private bestSeen = -Infinity;
  private stopped: string | null = null;

  constructor(
    readonly setup: SearchSetup,
    optimizer: Optimizer,
    checkpoint?: SearchCheckpoint,
  ) {
    if (setup.trainIds.length === 0) throw new Error('the optimizer needs at least one train example');
    if (!(setup.budget.maxRollouts > 0)) throw new Error('maxRollouts must be positive');
    this.warnings = [...(setup.warnings ?? [])];
    this.generator = optimizer(this.context());
    this.pending = this.advance(undefined);
    for (const response of checkpoint?.log ?? []) this.respond(response);
  }

  next(): SearchStep {
    return this.pending;
  }

  respond(response: SearchResponse): void {
    const pending = this.pending;
    if (pending.kind === 'done') throw new Error('the search is done; nothing is pending');
    const expected = pending.kind === 'evaluate' ? 'evaluated' : 'taught';
    if (response.kind !== expected) throw new Error(`expected an ${expected} response, got ${response.kind}`);
    if (
      response.kind === 'evaluated' &&
      pending.kind === 'evaluate' &&
      response.scores.length !== pending.exampleIds.length
    ) {
      throw new Error(`expected ${pending.exampleIds.length} scores, got ${response.scores.length}`);
    }
    this.log.push(response);
    this.pending = this.advance(response);
  }

  checkpoint(): SearchCheckpoint {
    return { log: [...this.log] };
  }

  outcome(): SearchOutcome {
    const baselineId = candidateIdOf(this.setup.baseline);
    const best = this.best ?? { candidate: this.setup.baseline, score: this.baselineScore ?? 0 };
    return {
      best: best.candidate,
      bestCandidateId: candidateIdOf(best.candidate),
      bestScore: best.score,
      baselineCandidateId: baselineId,
      baselineScore: this.baselineScore,
      rollouts: this.rollouts,
      teacherCalls: this.teacherCalls,
      evaluations: this.evaluations,
      stopReason: this.stopped ?? 'not finished',
      warnings: [...this.warnings],
      trajectory: [...this.trajectory],
    };
  }

  private advance(response: SearchResponse | undefined): SearchStep {
    try {
      const step = response === undefined ? this.generator.next() : this.generator.next(response);
      if (step.done) return this.finish('the optimizer finished');
      return step.value;
    } catch (error) {
      if (error instanceof StopSearch) return this.finish(error.reason);
      throw error;
    }
  }

  private finish(reason: string): SearchStep {
    this.stopped ??= reason;
    return { kind: 'done', reason: this.stopped };
  }

  private context(): SearchContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- generators below need the session
    const session = this;
    const { budget, stopping } = this.setup;
    return {
      setup: this.setup,
      prng: seedPrng(this.setup.seed),
      *evaluate(candidate, exampleIds, purpose) {
        const id = candidateIdOf(candidate);
        let known = session.scores.get(id);
        if (!known) session.scores.set(id, (known = new Map<string, number>()));
        const missing = [...new Set(exampleIds.filter((e) => !known.has(e)))];
        if (missing.length > 0) {
          if (stopping.maxEvaluations !== null && session.evaluations >= stopping.maxEvaluations) {
            throw new StopSearch(`maximum evaluations reached (${stopping.maxEvaluations})`);
          }
          if (session.rollouts + missing.length > budget.maxRollouts) {
            throw new StopSearch(
              `rollout budget reached (${session.rollouts} of ${budget.maxRollouts} used)`,
            );
          }
          const response = yield {
            kind: 'evaluate',
            candidate,
            candidateId: id,
            exampleIds: missing,
            purpose,
          };
          if (response.kind !== 'evaluated') throw new Error('expected evaluation scores');
          missing.forEach((e, i) => known.set(e, response.scores[i]!));
          session.rollouts += missing.length;
          session.evaluations++;
        }
        return exampleIds.map((e) => known.get(e)!);
      },
      *teach(task) {
        const paid = task.type !== 'demos';
        if (paid && budget.maxTeacherCalls !== null && session.teacherCalls >= budget.maxTeacherCalls) {
          throw new StopSearch(`teacher call budget reached (${budget.maxTeacherCalls})`);
        }
        const response = yield { kind: 'teach', task, sample: session.teachRequests++ };
        if (response.kind !== 'taught') throw new Error('expected taught texts');
        if (paid) session.teacherCalls++;
        return response.textIds;
      },
      cached(candidate, exampleId) {
        return session.scores.get(candidateIdOf(candidate))?.get(exampleId);
      },
      incumbent(candidate, score) {
        const id = candidateIdOf(candidate);
        if (id === candidateIdOf(session.setup.baseline) && session.baselineScore === null) {
          session.baselineScore = score;
        }
        // The optimizer owns selection: its latest pick is the answer, even when a noisier
        // estimate makes the score look lower than an earlier pick's.
        const previous = session.best;
        if (!previous || candidateIdOf(previous.candidate) !== id || previous.score !== score) {
          session.trajectory.push({ rollouts: session.rollouts, candidateId: id, score });
        }
        session.best = { candidate, score };
        if (score >= session.bestSeen + stopping.minDelta) {
          session.bestSeen = score;
          session.sinceImprovement = 0;
        } else {
          session.sinceImprovement++;
        }
        if (stopping.targetScore !== null && score >= stopping.targetScore) {
          throw new StopSearch(`target score ${stopping.targetScore} reached`);
        }
        if (stopping.patience !== null && session.sinceImprovement >= stopping.patience) {
          throw new StopSearch(`no improvement of ${stopping.minDelta} in ${stopping.patience} updates`);
        }
      },
      warn(message) {
        if (!session.warnings.includes(message)) session.warnings.push(message);
      },
      get rolloutsUsed() {
        return session.rollouts;
      },
      get rolloutsLeft() {
        return budget.maxRollouts - session.rollouts;
      },
    };
  }
}

/** k distinct items drawn uniformly (partial Fisher–Yates on a copy). */
export function sampleWithoutReplacement<T>(prng: PrngState, items: readonly T[], k: number): T[] {
  const pool = [...items];
  const n = Math.min(k, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + nextInt(prng, pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

export function shuffled<T>(prng: PrngState, items: readonly T[]): T[] {
  return sampleWithoutReplacement(prng, items, items.length);
}

export const meanOf = (xs: readonly number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
