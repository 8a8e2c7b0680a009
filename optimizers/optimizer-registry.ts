import type { OptimizerChoice } from '../schemas/optimizer-config.js';
import { gepa } from './gepa.js';
import { mipro } from './mipro.js';
import type { Optimizer } from './prompt-search.js';
import { protegi } from './protegi.js';
import { randomSearch } from './random-search.js';

/** The optimizer an agent's configuration names, with its (already validated) settings. */
export function optimizerFor(choice: OptimizerChoice): Optimizer {
  switch (choice.name) {
    case 'random-search':
      return randomSearch(choice.settings);
    case 'protegi':
      return protegi(choice.settings);
    case 'gepa':
      return gepa(choice.settings);
    case 'mipro':
      return mipro(choice.settings);
  }
}
