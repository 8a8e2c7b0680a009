import { z } from 'zod';
import { formatIssues } from '../schemas/format-issues.js';
import { PromptBody, PromptConfig } from '../schemas/prompt.js';
import { UserError } from '../schemas/user-error.js';

/**
 * A candidate prompt kept in a repository, as `flywheel eval --prompt` reads it: a text file
 * is the system prompt (the version keeps production's demos and tool descriptions); a
 * `.json` file is `{prompt, config}` as `flywheel prompt show` prints a version, so a team
 * can keep the whole served form under review. Extra keys of that output are ignored.
 */
export const CandidatePromptJson = z.looseObject({
  prompt: PromptBody.refine((p) => (typeof p === 'string' ? /\S/.test(p) : p.length > 0), {
    message: 'prompt is empty',
  }),
  config: PromptConfig.optional(),
});

export interface CandidatePrompt {
  prompt: PromptBody;
  /** Absent: production's config (demos, tool descriptions) is served with the new text. */
  config?: PromptConfig;
}

export function parseCandidatePromptFile(file: string, text: string): CandidatePrompt {
  if (!file.toLowerCase().endsWith('.json')) {
    if (!/\S/.test(text))
      throw new UserError(`${file} is empty: a candidate prompt file holds the system prompt's text.`);
    return { prompt: text };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      `${file} is not valid JSON (${e instanceof Error ? e.message : String(e)}): a .json candidate is {"prompt": ..., "config": {...}} as \`flywheel prompt show\` prints it; use another extension for plain text.`,
    );
  }
  const parsed = CandidatePromptJson.safeParse(raw);
  if (!parsed.success)
    throw new UserError(
      `${file} is not a candidate prompt (${formatIssues(parsed.error, { root: 'file' })}): a .json candidate is {"prompt": "<system prompt>" or [{role, content}], "config": {...}}.`,
    );
  return parsed.data.config === undefined
    ? { prompt: parsed.data.prompt }
    : { prompt: parsed.data.prompt, config: parsed.data.config };
}
