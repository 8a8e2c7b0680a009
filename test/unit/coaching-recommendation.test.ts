import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastRequest, suggestSituation } from '../../coaching/coaching-correction.js';
import { localSituationEmbedder } from '../../coaching/situation-embedder.js';
import {
  recommendCoaching,
  shellWord,
  type CoachingCandidate,
} from '../../diagnosis/coaching-recommendation.js';
import { renderDiagnosisReport, type ReportCluster } from '../../diagnosis/diagnosis-report.js';
import { AIRLINE_SCENARIO, loadScenario } from '../simulator/scenario.js';

const scenario = loadScenario(AIRLINE_SCENARIO);
const request = (id: string) => scenario.examples.find((e) => e.id === id)!.request;
/** Three customers asking to move a basic-economy flight: one situation. */
const MOVES = ['ex-001', 'ex-007', 'ex-013'];
/** A cancellation, a damaged bag and a question about flights, of three customers. */
const MIXED = ['ex-008', 'ex-016', 'ex-023'];

/** The candidates of a cluster as the report activity builds them (local embedder). */
async function candidates(ids: readonly string[], corrected: Record<string, string> = {}) {
  const texts = ids.map((id) => {
    const messages = [
      { role: 'system' as const, content: scenario.basePrompt },
      { role: 'user' as const, content: request(id) },
    ];
    return { id, request: lastRequest(messages)!, situation: suggestSituation(messages)! };
  });
  const vectors = await localSituationEmbedder().embed(texts.flatMap((t) => [t.request, t.situation]));
  return texts.map((t, i): CoachingCandidate => ({
    traceId: `trace-${t.id}`,
    situation: t.situation,
    requestVector: vectors[2 * i]!,
    situationVector: vectors[2 * i + 1]!,
    correctedItemId: corrected[t.id] ?? null,
  }));
}

describe('the diagnosis recommending coaching for small, situation-specific clusters', () => {
  it('recommends coaching when one situation recalls every failure of a small cluster, naming the command', async () => {
    const found = recommendCoaching(
      'airline',
      { category: 'policy_escalation', members: 3 },
      await candidates(MOVES),
    );
    assert.ok(found, 'three requests to move a basic-economy flight share a situation');
    assert.equal(found.failures, 3);
    assert.ok(found.minSimilarity >= found.threshold, `${found.minSimilarity} ≥ ${found.threshold}`);
    assert.match(found.situation, /^When replying to: "Hi, I'm .* basic economy .* move it/);
    assert.equal(found.itemId, null);
    assert.equal(
      found.command,
      `flywheel coaching create airline --situation ${shellWord(found.situation)} --trace ${found.traceId} --reply '<what the agent should have said>'`,
    );
    assert.match(found.command, /I'\\''m/, "the apostrophe survives the shell's quoting");
  });

  it("names the review item of a corrected failure, with the cluster's situation when the item is another trace's", async () => {
    const own = recommendCoaching(
      'airline',
      { category: 'planning', members: 3 },
      await candidates(MOVES, { 'ex-001': 'c1:item:a', 'ex-007': 'c1:item:b', 'ex-013': 'c1:item:c' }),
    );
    assert.ok(own);
    assert.equal(own.command, `flywheel coaching from-item ${own.itemId}`);
    const chosen = recommendCoaching(
      'airline',
      { category: 'planning', members: 3 },
      await candidates(MOVES),
    )!;
    const other = MOVES.find((id) => `trace-${id}` !== chosen.traceId)!;
    const elsewhere = recommendCoaching(
      'airline',
      { category: 'planning', members: 3 },
      await candidates(MOVES, { [other]: 'c1:item:z' }),
    );
    assert.ok(elsewhere);
    assert.equal(elsewhere.itemId, 'c1:item:z');
    assert.equal(
      elsewhere.command,
      `flywheel coaching from-item c1:item:z --situation ${shellWord(elsewhere.situation)}`,
    );
  });

  it('recommends nothing for failures in different situations, large or single clusters, infrastructure, or a failure without a request', async () => {
    assert.equal(
      recommendCoaching('airline', { category: 'planning', members: 3 }, await candidates(MIXED)),
      null,
      'a cancellation, a bag claim and a question share no situation',
    );
    const moves = await candidates(MOVES);
    assert.equal(recommendCoaching('airline', { category: 'planning', members: 1 }, moves.slice(0, 1)), null);
    const six = await candidates(['ex-001', 'ex-007', 'ex-013', 'ex-019', 'ex-025', 'ex-031']);
    assert.equal(recommendCoaching('airline', { category: 'planning', members: 6 }, six), null);
    assert.equal(recommendCoaching('airline', { category: 'infra', members: 3 }, moves), null);
    assert.equal(
      recommendCoaching('airline', { category: 'planning', members: 4 }, moves),
      null,
      'the fourth failure has no request to match',
    );
  });

  it('puts the recommendation in the report beside the cluster, which still goes to the optimizer', async () => {
    const coaching = recommendCoaching(
      'airline',
      { category: 'planning', members: 3 },
      await candidates(MOVES),
    )!;
    const cluster: ReportCluster = {
      stableId: 'airline-fc004',
      name: 'basic · economy · move',
      size: 3,
      noise: 0,
      previousId: null,
      category: 'planning',
      subtype: null,
      intervention: 'prompt',
      rootCause: 'Moves basic-economy flights.',
      immediateFix: 'Say basic economy cannot be changed.',
      failingStep: null,
      evidence: [],
      diagnosisError: null,
      coaching,
    };
    const md = renderDiagnosisReport({
      cycleId: 'c1',
      agent: 'airline',
      taxonomy: 'flywheel-agent-failures 1.0.0',
      embedder: 'local',
      sampled: 20,
      scored: 20,
      failing: 3,
      judgeCalls: 20,
      judgeCallsWithoutCascade: 20,
      evaluatorErrors: [],
      clusters: [cluster, { ...cluster, stableId: 'airline-fc005', coaching: null }],
      calibration: [],
    });
    assert.match(md, /To the prompt optimizer: `airline-fc004`, `airline-fc005`/);
    const line = md.split('\n').find((l) => l.startsWith('- Coaching for'));
    assert.ok(line, md);
    assert.match(line, /^- Coaching for `airline-fc004`: its 3 failures share one situation/);
    assert.match(line, /the cluster still goes to the optimizer/);
    assert.ok(line.includes(`\`${coaching.command}\``));
    assert.equal(md.match(/- Coaching for/g)?.length, 1, 'only the cluster with a recommendation');
  });
});
