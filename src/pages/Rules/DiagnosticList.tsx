import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Alert, Stack, Text, useStyles2 } from '@grafana/ui';
import type { Analysis } from './draft';
import { rulesTestIds } from './testIds';

/** The evaluator's diagnostics under the editor (the same ones Monaco draws as markers), or the rule's TraceQL pushdown. */
export function DiagnosticList({ analysis }: { analysis: Analysis }) {
  const styles = useStyles2(getStyles);
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
          TraceQL pushdown{pushdown.fullScan && ' (every trace is a candidate)'}:
          <code data-testid={rulesTestIds.editor.pushdown} className={styles.pushdown}>
            {pushdown.query}
          </code>
        </Alert>
      )}
    </Stack>
  );
}

// A pushdown is one long line with no spaces to break at (`{ name = "a" && .x > 1 } >> { … }`): left
// to itself it ran out of its box and over the fields beside the editor. It wraps anywhere instead.
const getStyles = (theme: GrafanaTheme2) => ({
  pushdown: css({
    display: 'block',
    marginTop: theme.spacing(0.5),
    whiteSpace: 'pre-wrap',
    overflowWrap: 'anywhere',
    wordBreak: 'break-word',
  }),
});
