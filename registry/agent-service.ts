/**
 * Agents as the CLI and the dev launcher see them: registration (the demo seeds one), their
 * validated configuration, and the list of known ids (retention walks every agent).
 */
export { agentConfig, agentIds, ensureAgent } from './store/agent-repository.js';
