import { useEffect } from 'react';
import { locationService } from '@grafana/runtime';

export const UNSAVED_MESSAGE = 'This rule has unsaved changes. Leave and discard them?';

/**
 * Warns before unsaved changes are lost. react-router 6's `useBlocker` needs a data router, and
 * Grafana mounts apps in a plain <Router>, so in-app navigation is blocked through the history of
 * Grafana's location service (what Grafana's own dashboard prompt does), and leaving the page
 * (reload, close, another site) through `beforeunload`. `isDirty` is read at navigation time, so
 * a save that navigates right away is not blocked by its own stale state.
 */
export function useUnsavedChangesGuard(
  isDirty: () => boolean,
  confirm: (message: string) => boolean = (m) => window.confirm(m)
) {
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (isDirty()) {
        e.preventDefault();
      }
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    const unblock = locationService.getHistory().block(() => {
      if (!isDirty()) {
        return undefined;
      }
      return confirm(UNSAVED_MESSAGE) ? undefined : false;
    });
    return () => {
      window.removeEventListener('beforeunload', onBeforeUnload);
      unblock();
    };
  }, [isDirty, confirm]);
}
