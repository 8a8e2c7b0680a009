import { describeRule, ruleArgument, type AttributionRule } from '../schemas/agent-attribution.js';

/**
 * Which agent an OTLP span belongs to. The token that sent the span decides, so a token of
 * agent A never writes into agent B:
 *
 * 1. `flywheel.agent` (a span attribute, else a resource attribute) names the agent
 *    explicitly; naming another agent than the token's rejects the span.
 * 2. Otherwise an agent's attribution rules (resource attributes such as `service.name`)
 *    may claim the span; a span another agent's rule claims is rejected, since the operator
 *    said those spans are that agent's.
 * 3. Otherwise the span is the token's agent's. `service.name` and `gen_ai.agent.name` are
 *    kept as attributes and decide nothing: frameworks fill them with their own defaults
 *    (`unknown_service:node`, a sub-agent's name) that name no Flywheel agent.
 *
 * Without a token agent (an ingest path that is not scoped to one agent) the span needs
 * `flywheel.agent` or exactly one matching rule. Every rejection names what to add or change.
 */

export interface AgentAttributionRules {
  agent: string;
  rules: readonly AttributionRule[];
}

export type SpanAttribution =
  { ok: true; agent: string; by: 'flywheel.agent' | 'rule' | 'token' } | { ok: false; error: string };

export const AGENT_ATTRIBUTE = 'flywheel.agent';

/** OTLP attribute values are strings, numbers or booleans; a rule compares their text. */
function attributeText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function matches(rule: AttributionRule, resource: Record<string, unknown>): boolean {
  return Object.entries(rule).every(([key, value]) => attributeText(resource[key]) === value);
}

/** The agents whose rules match the resource, each with the first rule that did. */
export function agentsClaiming(
  resource: Record<string, unknown>,
  agents: readonly AgentAttributionRules[],
): { agent: string; rule: AttributionRule }[] {
  const claims: { agent: string; rule: AttributionRule }[] = [];
  for (const { agent, rules } of agents) {
    const rule = rules.find((r) => matches(r, resource));
    if (rule) claims.push({ agent, rule });
  }
  return claims;
}

/** The explicit agent: the span's own attribute wins over its resource's. Empty means absent. */
function explicitAgent(
  resource: Record<string, unknown>,
  spanAttributes: Record<string, unknown>,
): { value: unknown; where: string } | undefined {
  for (const [where, source] of [
    ['span attribute', spanAttributes],
    ['resource attribute', resource],
  ] as const) {
    const value = source[AGENT_ATTRIBUTE];
    if (value !== undefined && value !== null && value !== '') return { value, where };
  }
  return undefined;
}

/** A value named in a message: never serialised whole, it may be large or deeply nested. */
function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const tokenFor = (agent: string) => `a token of "${agent}" (flywheel token create --agent ${agent})`;

export function attributeSpan(
  resource: Record<string, unknown>,
  spanAttributes: Record<string, unknown>,
  tokenAgent: string | null,
  agents: readonly AgentAttributionRules[],
): SpanAttribution {
  const explicit = explicitAgent(resource, spanAttributes);
  if (explicit) {
    const { value, where } = explicit;
    if (typeof value !== 'string')
      return {
        ok: false,
        error: `${AGENT_ATTRIBUTE} (${where}) is ${shown(value)}, not an agent id: set it to the agent id as a string${tokenAgent ? `, e.g. "${tokenAgent}", or remove it` : ''}`,
      };
    if (tokenAgent === null || value === tokenAgent) return { ok: true, agent: value, by: 'flywheel.agent' };
    return {
      ok: false,
      error: `${AGENT_ATTRIBUTE}="${value}" (${where}) names another agent than this token's "${tokenAgent}": send agent ${value}'s spans with ${tokenFor(value)}, or set ${AGENT_ATTRIBUTE}="${tokenAgent}" (or remove it) if they are ${tokenAgent}'s`,
    };
  }
  const claims = agentsClaiming(resource, agents);
  if (tokenAgent !== null) {
    if (claims.length === 0 || claims.some((c) => c.agent === tokenAgent))
      return { ok: true, agent: tokenAgent, by: claims.length === 0 ? 'token' : 'rule' };
    const [first] = claims;
    return {
      ok: false,
      error: `its resource (${describeRule(first!.rule)}) is attributed to agent "${first!.agent}" by that agent's attribution rule, not to this token's "${tokenAgent}": send these spans with ${tokenFor(first!.agent)}, or add the resource attribute ${AGENT_ATTRIBUTE}="${tokenAgent}" if they are ${tokenAgent}'s (and remove the rule with flywheel agent set ${first!.agent} --unmatch ${ruleArgument(first!.rule)} if it is wrong)`,
    };
  }
  if (claims.length === 1) return { ok: true, agent: claims[0]!.agent, by: 'rule' };
  if (claims.length === 0)
    return {
      ok: false,
      error: `the span names no agent: add the resource attribute ${AGENT_ATTRIBUTE}=<agent id>, send it with an agent's token, or attribute its service to an agent with flywheel agent set <agent> --match service.name=<its service.name>`,
    };
  return {
    ok: false,
    error: `its resource matches the attribution rules of several agents (${claims.map((c) => `${c.agent}: ${describeRule(c.rule)}`).join('; ')}): add the resource attribute ${AGENT_ATTRIBUTE}=<agent id>, or make the rules distinct`,
  };
}
