import type { AgentTool, PromptConfig } from '../schemas/prompt.js';

/**
 * What users of a prompt version get, component by component, in the optimizer's component
 * names (`system`, `demos`, `tool:<name>`): the version's text, its demos and the description
 * of every agent tool (the version's own where its config gives one, else the agent's). A
 * release is compared with production on this form, not on the prompt text, because an
 * optimizer candidate may change only tool descriptions.
 */
export type ShippedForm = Readonly<Record<string, string>>;

export const SYSTEM = 'system';
export const DEMOS = 'demos';
export const toolComponent = (name: string) => `tool:${name}`;

/** Whitespace at the ends changes nothing an agent does; blank components are absent. */
function normalised(entries: [string, string | undefined][]): ShippedForm {
  const form: Record<string, string> = {};
  for (const [component, text] of entries) {
    const t = text?.trim();
    if (t) form[component] = t;
  }
  return form;
}

export function shippedFormOfVersion(
  version: { text: string; config: PromptConfig },
  tools: readonly AgentTool[],
): ShippedForm {
  const given = version.config.toolDescriptions ?? {};
  return normalised([
    [SYSTEM, version.text],
    [DEMOS, version.config.demos],
    ...tools.map((t): [string, string | undefined] => [
      toolComponent(t.name),
      Object.hasOwn(given, t.name) ? given[t.name] : t.description,
    ]),
  ]);
}

/** `components`: an optimizer candidate's component → text. Components of unknown tools ship nothing. */
export function shippedFormOfCandidate(
  components: Readonly<Record<string, string>>,
  tools: readonly AgentTool[],
): ShippedForm {
  const text = (c: string) => (Object.hasOwn(components, c) ? components[c] : undefined);
  return normalised([
    [SYSTEM, text(SYSTEM)],
    [DEMOS, text(DEMOS)],
    ...tools.map((t): [string, string | undefined] => [
      toolComponent(t.name),
      text(toolComponent(t.name)) ?? t.description,
    ]),
  ]);
}

/** The components whose shipped text differs between two forms, sorted; empty: they ship the same. */
export function changedComponents(candidate: ShippedForm, production: ShippedForm): string[] {
  const names = new Set([...Object.keys(candidate), ...Object.keys(production)]);
  return [...names].filter((c) => candidate[c] !== production[c]).sort();
}

/** What a commit message says a release changed, e.g. "system prompt, tool descriptions (book, cancel)". */
export function describeChanges(changed: readonly string[]): string {
  const tools = changed.filter((c) => c.startsWith('tool:')).map((c) => c.slice('tool:'.length));
  return [
    ...(changed.includes('system') ? ['system prompt'] : []),
    ...(changed.includes('demos') ? ['demos'] : []),
    ...(tools.length ? [`tool descriptions (${tools.join(', ')})`] : []),
  ].join(', ');
}

/**
 * A candidate whose shipped form equals production's is not a candidate: releasing it would
 * serve production against itself, and a rollout could only promote or roll back noise.
 */
export function isReleasable(candidate: ShippedForm, production: ShippedForm): boolean {
  return changedComponents(candidate, production).length > 0;
}

/**
 * The one immutable version a candidate is released as: the system component is the prompt;
 * the config keeps production's other keys (model parameters) and carries the candidate's
 * demos and every tool description that differs from the agent's own, so the version alone
 * says what ships (a description an earlier release changed stays changed).
 */
export function versionOfCandidate(
  components: Readonly<Record<string, string>>,
  tools: readonly AgentTool[],
  productionConfig: PromptConfig,
): { prompt: string; config: PromptConfig } {
  const { toolDescriptions: _tools, demos: _demos, ...kept } = productionConfig;
  const text = (c: string) => (Object.hasOwn(components, c) ? components[c] : undefined);
  const toolDescriptions: Record<string, string> = {};
  for (const t of tools) {
    const d = text(toolComponent(t.name));
    if (d !== undefined && d.trim() !== '' && d.trim() !== (t.description ?? '').trim())
      toolDescriptions[t.name] = d;
  }
  const demos = text(DEMOS);
  return {
    prompt: text(SYSTEM) ?? '',
    config: {
      ...kept,
      ...(Object.keys(toolDescriptions).length ? { toolDescriptions } : {}),
      ...(demos?.trim() ? { demos } : {}),
    },
  };
}

/**
 * The optimizer's starting candidate for a production version: its text, its demos and the
 * descriptions its users get, so the search (and the gate's baseline) starts from what is
 * served, not from the agent's configured descriptions. Blank components are left out.
 */
export function componentsOfVersion(
  version: { text: string; config: PromptConfig },
  tools: readonly AgentTool[],
): { component: string; text: string }[] {
  const given = version.config.toolDescriptions ?? {};
  return [
    { component: SYSTEM, text: version.text },
    { component: DEMOS, text: version.config.demos ?? '' },
    ...tools.map((t) => ({
      component: toolComponent(t.name),
      text: (Object.hasOwn(given, t.name) ? given[t.name] : undefined) ?? t.description ?? '',
    })),
  ].filter((c) => c.text.trim() !== '');
}

/**
 * A version as a diff shows it: the text, then its demos and the descriptions of `toolNames`
 * (the tools either side of the diff overrides), each under a heading, so a release that
 * changed only tool descriptions does not diff as empty. Without demos or tool names it is
 * the text alone.
 */
export function diffableText(
  version: { text: string; config: PromptConfig },
  tools: readonly AgentTool[],
  toolNames: readonly string[],
): string {
  const given = version.config.toolDescriptions ?? {};
  const sections = [
    ...(version.config.demos ? [`[demos]\n${version.config.demos}`] : []),
    ...toolNames.map((name) => {
      const own = Object.hasOwn(given, name) ? given[name] : undefined;
      return `[tool ${name}]\n${own ?? tools.find((t) => t.name === name)?.description ?? ''}`;
    }),
  ];
  if (sections.length === 0) return version.text;
  return [version.text.trimEnd(), ...sections.map((s) => s.trimEnd())].join('\n\n') + '\n';
}
