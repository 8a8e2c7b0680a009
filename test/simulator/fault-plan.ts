import { z } from 'zod';
import { nextFloat, seedPrng } from '../../optimizers/prng.js';
import { SIMULATED_MODELS } from './simulated-model-names.js';

/**
 * Faults the simulator injects, as production model servers show them: rate limits with
 * Retry-After, bursts of 500/503, requests that never answer, slow answers, and answers cut
 * short or off their schema. Rules apply per role (or `*`) at a rate; a fault may repeat for
 * a burst of consecutive requests to the same role. Decisions come from a seeded generator,
 * so a run with the same plan, seed and request order sees the same faults.
 */

export const FaultKind = z.enum(['429', '500', '503', 'timeout', 'slow', 'truncated', 'off-schema']);
export type FaultKind = z.infer<typeof FaultKind>;

export const FaultRule = z.object({
  /** A role (agent, judge, teacher, embedder) or `*` for every one. */
  role: z.enum(['agent', 'judge', 'teacher', 'embedder', '*']),
  kind: FaultKind,
  rate: z.number().min(0).max(1),
  /** Consecutive requests to the role that get the fault once it strikes. */
  burst: z.number().int().positive().default(1),
  /** 429: the Retry-After the answer carries. */
  retryAfterSeconds: z.number().nonnegative().default(1),
  /** slow: how long the answer waits. */
  delayMs: z.number().int().nonnegative().default(2000),
  /** At most this many requests get this rule's fault in the whole run; unset: no limit. */
  times: z.number().int().positive().optional(),
});
export type FaultRule = z.infer<typeof FaultRule>;

const roles = new Map<string, FaultRule['role']>(
  Object.entries(SIMULATED_MODELS).map(([role, m]) => [m, role as FaultRule['role']]),
);
const roleOfModel = (model: string): FaultRule['role'] | undefined => roles.get(model);

/**
 * `judge:429:0.2,teacher:500:0.1:burst=3,*:slow:0.05:delay=500` — the form of
 * FLYWHEEL_SIMULATOR_FAULTS. Each entry: role, kind, rate, then optional key=value settings.
 */
export function parseFaultSpec(spec: string): FaultRule[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [role, kind, rate, ...options] = entry.split(':');
      const settings: Record<string, number> = {};
      for (const option of options) {
        const [key, value] = option.split('=');
        const field = { burst: 'burst', retry: 'retryAfterSeconds', delay: 'delayMs', times: 'times' }[
          key ?? ''
        ];
        if (!field || value === undefined || !Number.isFinite(Number(value)))
          throw new Error(
            `fault "${entry}": unknown setting "${option}" (use burst=N, retry=SECONDS, delay=MS, times=N)`,
          );
        settings[field] = Number(value);
      }
      const parsed = FaultRule.safeParse({ role, kind, rate: Number(rate), ...settings });
      if (!parsed.success)
        throw new Error(
          `fault "${entry}" is not role:kind:rate[:burst=N][:retry=S][:delay=MS] with role agent|judge|teacher|embedder|* and kind ${FaultKind.options.join('|')}`,
        );
      return parsed.data;
    });
}

export interface Fault {
  kind: FaultKind;
  rule: FaultRule;
}

export class FaultInjector {
  private readonly random: () => number;
  /** Per role: the fault still striking and how many more requests it takes. */
  private readonly bursts = new Map<string, { fault: Fault; left: number }>();
  private readonly strikes = new Map<FaultRule, number>();
  readonly injected: { role: string; kind: FaultKind }[] = [];

  private readonly rules: FaultRule[];

  constructor(rules: readonly FaultRule[], seed = 1) {
    this.rules = [...rules];
    const state = seedPrng(seed);
    this.random = () => nextFloat(state);
  }

  /** More rules from now on, checked after the earlier ones (a fault burst started mid-run). */
  add(rules: readonly FaultRule[]): void {
    this.rules.push(...rules);
  }

  /** The fault for the next request to `model`, if any. */
  next(model: string): Fault | undefined {
    const role = roleOfModel(model) ?? 'agent';
    const running = this.bursts.get(role);
    let fault: Fault | undefined;
    const spent = (rule: FaultRule) =>
      rule.times !== undefined && (this.strikes.get(rule) ?? 0) >= rule.times;
    if (running && !spent(running.fault.rule)) {
      fault = running.fault;
      if (--running.left <= 0) this.bursts.delete(role);
    } else {
      this.bursts.delete(role);
      for (const rule of this.rules) {
        if (rule.role !== '*' && rule.role !== role) continue;
        if (spent(rule) || this.random() >= rule.rate) continue;
        fault = { kind: rule.kind, rule };
        if (rule.burst > 1) this.bursts.set(role, { fault, left: rule.burst - 1 });
        break;
      }
    }
    if (fault) {
      this.strikes.set(fault.rule, (this.strikes.get(fault.rule) ?? 0) + 1);
      this.injected.push({ role, kind: fault.kind });
    }
    return fault;
  }
}
