import { describeHistoryStore } from '@fsm/core/testing';
import { MemoryStore } from './memory-store.js';

describeHistoryStore('memory', () => new MemoryStore());
