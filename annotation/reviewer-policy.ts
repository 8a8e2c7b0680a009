/**
 * The agent's annotation policy on who labels its items: an empty `annotation.reviewers` list
 * lets every reviewer of the agent label; otherwise only the people it names. One rule for
 * storing a label and for spending a model call on a suggested one.
 */
export function notAReviewer(reviewers: readonly string[], reviewer: string, agent: string): string | null {
  if (reviewers.length === 0 || reviewers.includes(reviewer)) return null;
  return `${reviewer} is not a reviewer of agent ${agent} (reviewers: ${reviewers.join(', ')}); add them to the agent's annotation policy.`;
}
