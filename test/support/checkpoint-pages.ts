import type { LoadedPartition } from '../../src/core/ports/checkpoint-store';

/**
 * The same load, with `beforePage()` called each time its reader asks for the next page of keys: that is,
 * after it handled the previous page (for watching memory during a page-by-page restore).
 */
export function watchPages(loaded: LoadedPartition, beforePage: () => void): LoadedPartition {
  const state = loaded.state;
  if (!state) return loaded;
  return {
    ...loaded,
    state: {
      ...state,
      keyPages: async function* () {
        for await (const page of state.keyPages()) {
          beforePage();
          yield page;
        }
      },
    },
  };
}
