import type { BatchItemRecord } from '@fsm/core';

/**
 * Two streams of a batch's items, each in index order, as one in index order. An index in both (saved
 * twice by different paths) comes once: the first stream's.
 */
export async function* mergeByItemIndex(
  first: AsyncIterator<BatchItemRecord>,
  second: AsyncIterator<BatchItemRecord>,
): AsyncGenerator<BatchItemRecord> {
  let a = await first.next();
  let b = await second.next();
  try {
    while (!a.done || !b.done) {
      if (b.done || (!a.done && a.value.itemIndex <= b.value.itemIndex)) {
        const item = a.value as BatchItemRecord;
        if (!b.done && b.value.itemIndex === item.itemIndex) b = await second.next();
        yield item;
        a = await first.next();
      } else {
        yield b.value;
        b = await second.next();
      }
    }
  } finally {
    // Stopped early (a consumer's break): let both readers end.
    if (!a.done) await first.return?.();
    if (!b.done) await second.return?.();
  }
}
