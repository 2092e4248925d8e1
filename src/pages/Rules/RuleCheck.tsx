import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { SceneComponentProps, SceneObjectBase, SceneObjectState } from '@grafana/scenes';
import { Alert, Field, TextArea, useStyles2 } from '@grafana/ui';
import { parseRule, pushdownRule, type Diagnostic } from '@betrace/evaluator';
import { testIds } from '../../components/testIds';

export interface RuleCheckState extends SceneObjectState {
  source: string;
}

/**
 * Checks rule text as it is typed, with the evaluator the sidecar runs. The full rule editor
 * (Monaco, test runs, versions) builds on this.
 */
export class RuleCheck extends SceneObjectBase<RuleCheckState> {
  setSource(source: string) {
    this.setState({ source });
  }

  static Component = RuleCheckRenderer;
}

function RuleCheckRenderer({ model }: SceneComponentProps<RuleCheck>) {
  const { source } = model.useState();
  const styles = useStyles2(getStyles);
  const result = parseRule(source);
  const pushdown = result.ast ? pushdownRule(result.ast) : undefined;
  return (
    <div className={styles.container} data-testid={testIds.rules.container}>
      <Field label="Rule condition" description="The BeTrace rule language; checked as you type.">
        <TextArea
          data-testid={testIds.rules.ruleInput}
          rows={6}
          value={source}
          onChange={(e) => model.setSource(e.currentTarget.value)}
          className={styles.code}
        />
      </Field>
      {result.diagnostics.length > 0 && <DiagnosticList diagnostics={result.diagnostics} />}
      {pushdown && (
        <Alert severity="success" title="The rule is valid" data-testid={testIds.rules.valid}>
          TraceQL pushdown: <code data-testid={testIds.rules.pushdown}>{pushdown.query}</code>
          {pushdown.fullScan && ' (every trace is a candidate)'}
        </Alert>
      )}
    </div>
  );
}

function DiagnosticList({ diagnostics }: { diagnostics: Diagnostic[] }) {
  return (
    <ul data-testid={testIds.rules.diagnostics}>
      {diagnostics.map((d, i) => (
        <li key={i}>
          {d.startLine}:{d.startColumn} {d.severity}: {d.message}
        </li>
      ))}
    </ul>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({
    padding: theme.spacing(2),
  }),
  code: css({
    fontFamily: theme.typography.fontFamilyMonospace,
  }),
});
