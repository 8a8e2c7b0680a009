import { servesCandidate } from './sticky-bucket.js';
import { stableHash53 } from '../optimizers/stable-hash.js';
import type { ResolvedPrompt } from '../schemas/prompt.js';

/** A version as resolve serves it; versions are immutable, so these are cached by id. */
export interface ServedVersion {
  id: string;
  name: string;
  version: number;
  type: ResolvedPrompt['type'];
  prompt: ResolvedPrompt['prompt'];
  config: ResolvedPrompt['config'];
}

/** What a prompt name routes to right now (see routing-snapshot.ts for how fresh). */
export interface RoutingState {
  name: string;
  /** false: no prompt has this name. */
  exists: boolean;
  production: ServedVersion | null;
  rollout: { id: string; weight: number; baseline: ServedVersion; candidate: ServedVersion } | null;
}

/** An answer serialised once per snapshot: a request only picks one and writes it. */
export interface PreparedAnswer {
  body: ResolvedPrompt;
  json: string;
  etag: string;
}

function prepare(body: ResolvedPrompt): PreparedAnswer {
  const json = JSON.stringify(body);
  return { body, json, etag: `"${stableHash53(json).toString(36)}"` };
}

function answer(
  v: ServedVersion,
  arm: 'production' | 'candidate',
  rollout: RoutingState['rollout'],
): PreparedAnswer {
  return prepare({
    name: v.name,
    version: v.version,
    promptVersionId: v.id,
    type: v.type,
    prompt: v.prompt,
    config: v.config,
    label: arm,
    variant: arm,
    rolloutId: rollout?.id ?? null,
    weight: rollout?.weight ?? 0,
  });
}

/**
 * The two possible answers of a routing state. During a running rollout the rollout row is
 * the routing truth: its baseline serves the units outside the candidate's share, whatever
 * `production` points at meanwhile; without one, the `production` label serves everyone.
 */
export function prepareAnswers(state: RoutingState): {
  production: PreparedAnswer | null;
  candidate: PreparedAnswer | null;
} {
  const r = state.rollout;
  if (r)
    return {
      production: answer(r.baseline, 'production', r),
      candidate: answer(r.candidate, 'candidate', r),
    };
  return {
    production: state.production ? answer(state.production, 'production', null) : null,
    candidate: null,
  };
}

/**
 * Sticky choice for one unit: the candidate when the unit's bucket (fixed per rollout) is
 * under the rollout weight, so a unit that saw the candidate keeps it as the weight grows.
 */
export function chooseAnswer(
  state: RoutingState,
  answers: ReturnType<typeof prepareAnswers>,
  unitKey: string,
): PreparedAnswer | null {
  const r = state.rollout;
  if (r && r.weight > 0 && answers.candidate && servesCandidate(unitKey, r.id, r.weight))
    return answers.candidate;
  return answers.production;
}
