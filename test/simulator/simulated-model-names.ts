/** Model names the simulator serves; configure each role with one of them. */
export const SIMULATED_MODELS = {
  agent: 'sim-agent',
  judge: 'sim-judge',
  teacher: 'sim-teacher',
  embedder: 'sim-embed',
} as const;
