import type { BuiltinFunction } from '../types.js';
import { conditionBuiltins } from './conditions.js';
import { transformBuiltins } from './transforms.js';
import { validatorBuiltins } from './validators.js';

/** The builtin library of core (names as in dataknobs-fsm, with its class names as aliases). */
export const coreBuiltins: readonly BuiltinFunction[] = [
  ...validatorBuiltins,
  ...transformBuiltins,
  ...conditionBuiltins,
];
