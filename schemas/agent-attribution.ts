import { z } from 'zod';

/**
 * Which OTLP spans belong to an agent besides the ones its own token sends: each rule lists
 * resource attributes (`service.name`, `deployment.environment`, any other) and matches a
 * span whose resource carries every one of them with exactly that value.
 */
export const AttributionRule = z
  .record(z.string().min(1, 'an attribute name is not empty'), z.string().min(1, 'a value is not empty'))
  .refine((rule) => Object.keys(rule).length > 0, {
    message: 'a rule names at least one resource attribute, e.g. {"service.name": "checkout-bot"}',
  })
  .refine((rule) => !('flywheel.agent' in rule), {
    message:
      'flywheel.agent names the agent itself and needs no rule; match on service.name or another attribute',
  });
export type AttributionRule = z.infer<typeof AttributionRule>;

export const AttributionRules = z.array(AttributionRule).default([]);

/** `service.name="checkout-bot", deployment.environment="prod"`: a rule as people write it. */
export function describeRule(rule: AttributionRule): string {
  return Object.entries(rule)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(', ');
}

/**
 * A rule as a command-line argument, `service.name=checkout-bot,deployment.environment=prod`,
 * and back. A value holding a comma cannot be written this way; set such a rule in the
 * configuration's `attribution` list instead.
 */
export function ruleArgument(rule: AttributionRule): string {
  return Object.entries(rule)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** Parses `key=value[,key=value]`; the message says what a rule looks like. */
export function parseRuleArgument(
  text: string,
): { ok: true; rule: AttributionRule } | { ok: false; error: string } {
  const entries: [string, string][] = [];
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      return {
        ok: false,
        error: `"${text}" is not a rule: write resource attributes as key=value, e.g. service.name=checkout-bot (several: service.name=checkout-bot,deployment.environment=prod)`,
      };
    entries.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  const parsed = AttributionRule.safeParse(Object.fromEntries(entries));
  if (!parsed.success)
    return { ok: false, error: `"${text}": ${parsed.error.issues.map((i) => i.message).join('; ')}` };
  return { ok: true, rule: parsed.data };
}

/** Rules are equal when they list the same attributes with the same values, in any order. */
export function sameRule(a: AttributionRule, b: AttributionRule): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}
