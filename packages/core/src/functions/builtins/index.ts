import type { BuiltinFunction } from '../types.js';
import { conditionBuiltins } from './conditions.js';
import { coreDataknobsBuiltins } from './dataknobs/index.js';
import { transformBuiltins } from './transforms.js';
import { validatorBuiltins } from './validators.js';

/** The builtin library of core (names as in dataknobs-fsm, with its class names as aliases). */
export const coreBuiltins: readonly BuiltinFunction[] = [
  ...validatorBuiltins,
  ...transformBuiltins,
  ...conditionBuiltins,
  // dataknobs-fsm's spellings (`validators.range_check`, `FieldMapper` with `field_map`); last, so a
  // bare name of both takes either spelling of its params.
  ...coreDataknobsBuiltins,
];
