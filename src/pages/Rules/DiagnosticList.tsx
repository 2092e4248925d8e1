import React from 'react';
import { Alert, Stack, Text } from '@grafana/ui';
import type { Analysis } from './draft';
import { rulesTestIds } from './testIds';

/** The evaluator's diagnostics under the editor (the same ones Monaco draws as markers), or the rule's TraceQL pushdown. */
export function DiagnosticList({ analysis }: { analysis: Analysis }) {
  const { diagnostics, pushdown } = analysis;
  return (
    <Stack direction="column" gap={1}>
      {diagnostics.length > 0 && (
        <ul data-testid={rulesTestIds.editor.diagnostics} aria-label="Diagnostics">
          {diagnostics.map((d, i) => (
            <li key={i}>
              <Text color={d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'secondary'}>
                {d.startLine}:{d.startColumn} {d.severity}: {d.message}
              </Text>
            </li>
          ))}
        </ul>
      )}
      {pushdown && (
        <Alert severity="success" title="The rule is valid">
          TraceQL pushdown: <code data-testid={rulesTestIds.editor.pushdown}>{pushdown.query}</code>
          {pushdown.fullScan && ' (every trace is a candidate)'}
        </Alert>
      )}
    </Stack>
  );
}
