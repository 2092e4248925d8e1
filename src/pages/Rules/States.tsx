import React from 'react';
import { Alert, EmptyState, LoadingPlaceholder } from '@grafana/ui';

/** Loading, empty and error states of the Rules pages. */
export function LoadingState({ text, testId }: { text: string; testId?: string }) {
  return (
    <div data-testid={testId}>
      <LoadingPlaceholder text={text} />
    </div>
  );
}

export function EmptyRules({
  filtered,
  testId,
  children,
}: {
  filtered: boolean;
  testId?: string;
  children?: React.ReactNode;
}) {
  return (
    <div data-testid={testId}>
      <EmptyState
        variant={filtered ? 'not-found' : 'call-to-action'}
        message={filtered ? 'No rules match the filters' : 'No rules yet'}
      >
        {filtered
          ? 'Clear the search or the filters to see every rule.'
          : (children ?? 'Rules are invariants over whole traces.')}
      </EmptyState>
    </div>
  );
}

export function ErrorState({ title, error, testId }: { title: string; error: string; testId?: string }) {
  return (
    <Alert severity="error" title={title} data-testid={testId}>
      {error}
    </Alert>
  );
}
