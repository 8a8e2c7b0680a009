import type { Candidate } from '../optimizers/prompt-search.js';
import type { SearchExample, SearchStore, StoredOutput, TextKind } from './search-store.js';

/** A SearchStore in memory: for benchmarks and unit tests that need no database. */
export class MemorySearchStore implements SearchStore {
  readonly textById: Map<string, { text: string; kind: TextKind }>;
  readonly outputsByCandidate = new Map<string, Map<string, StoredOutput>>();
  readonly candidates: Map<string, Candidate>;

  constructor(
    readonly exampleById: ReadonlyMap<string, SearchExample>,
    shared?: Pick<MemorySearchStore, 'textById' | 'candidates'>,
  ) {
    this.textById = shared?.textById ?? new Map<string, { text: string; kind: TextKind }>();
    this.candidates = shared?.candidates ?? new Map<string, Candidate>();
  }

  /**
   * The store of one optimization run: the same examples, texts and candidates, and outputs of
   * its own, as a run's Postgres store keeps the outputs of its run only. Sharing outputs let
   * what earlier runs stored appear in a later run's teacher prompts (MIPRO's dataset summary
   * shows every stored verdict).
   */
  forRun(): MemorySearchStore {
    return new MemorySearchStore(this.exampleById, this);
  }

  texts(ids: readonly string[]) {
    return Promise.resolve(
      new Map(
        ids.flatMap((id): [string, string][] =>
          this.textById.has(id) ? [[id, this.textById.get(id)!.text]] : [],
        ),
      ),
    );
  }

  putTexts(texts: readonly { id: string; text: string; kind: TextKind }[]) {
    for (const t of texts)
      if (!this.textById.has(t.id)) this.textById.set(t.id, { text: t.text, kind: t.kind });
    return Promise.resolve();
  }

  examples(ids: readonly string[]) {
    return Promise.resolve(
      new Map(
        ids.flatMap((id): [string, SearchExample][] =>
          this.exampleById.has(id) ? [[id, this.exampleById.get(id)!]] : [],
        ),
      ),
    );
  }

  outputs(candidateId: string, exampleIds: readonly string[]) {
    const known = this.outputsByCandidate.get(candidateId);
    return Promise.resolve(
      new Map(
        exampleIds.flatMap((id): [string, StoredOutput][] => (known?.has(id) ? [[id, known.get(id)!]] : [])),
      ),
    );
  }

  putOutputs(
    candidateId: string,
    candidate: Candidate,
    rows: readonly ({ exampleId: string } & StoredOutput)[],
  ) {
    this.candidates.set(candidateId, candidate);
    let known = this.outputsByCandidate.get(candidateId);
    if (!known) this.outputsByCandidate.set(candidateId, (known = new Map<string, StoredOutput>()));
    for (const r of rows)
      if (!known.has(r.exampleId)) known.set(r.exampleId, { score: r.score, step: r.step });
    return Promise.resolve();
  }
}
