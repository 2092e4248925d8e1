import React from 'react';
import { render } from '@testing-library/react';
import { locationService } from '@grafana/runtime';
import { UNSAVED_MESSAGE, useUnsavedChangesGuard } from './useUnsavedChangesGuard';

function Guard({ isDirty, confirm }: { isDirty: () => boolean; confirm: (m: string) => boolean }) {
  useUnsavedChangesGuard(isDirty, confirm);
  return null;
}

describe('useUnsavedChangesGuard', () => {
  beforeEach(() => locationService.push('/a/betrace-app/rules/x'));

  it('asks before in-app navigation drops unsaved changes, and stays when the user says no', () => {
    const confirm = jest.fn().mockReturnValue(false);
    let dirty = true;
    const { unmount } = render(<Guard isDirty={() => dirty} confirm={confirm} />);
    locationService.push('/a/betrace-app/signals');
    expect(confirm).toHaveBeenCalledWith(UNSAVED_MESSAGE);
    expect(locationService.getLocation().pathname).toBe('/a/betrace-app/rules/x');

    confirm.mockReturnValue(true);
    locationService.push('/a/betrace-app/signals');
    expect(locationService.getLocation().pathname).toBe('/a/betrace-app/signals');

    // Saved (not dirty): navigation is not interrupted.
    dirty = false;
    confirm.mockClear();
    locationService.push('/a/betrace-app/rules');
    expect(confirm).not.toHaveBeenCalled();
    expect(locationService.getLocation().pathname).toBe('/a/betrace-app/rules');
    unmount();
  });

  it('warns before the page unloads only while dirty, and lets go on unmount', () => {
    let dirty = true;
    const confirm = jest.fn().mockReturnValue(false);
    const { unmount } = render(<Guard isDirty={() => dirty} confirm={confirm} />);
    const event = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
    dirty = false;
    const clean = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(clean);
    expect(clean.defaultPrevented).toBe(false);

    dirty = true;
    unmount();
    locationService.push('/a/betrace-app/evidence');
    expect(confirm).not.toHaveBeenCalled();
    expect(locationService.getLocation().pathname).toBe('/a/betrace-app/evidence');
  });
});
