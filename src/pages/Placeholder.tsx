import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { SceneComponentProps, SceneObjectBase, SceneObjectState } from '@grafana/scenes';
import { EmptyState, useStyles2 } from '@grafana/ui';

export interface PlaceholderState extends SceneObjectState {
  message: string;
  description: string;
  testId: string;
}

/**
 * Stands in for a page whose UI is still to come. Built from @grafana/ui rather than a text panel
 * so it renders without Grafana's panel plugins, in unit tests too.
 */
export class Placeholder extends SceneObjectBase<PlaceholderState> {
  static Component = PlaceholderRenderer;
}

function PlaceholderRenderer({ model }: SceneComponentProps<Placeholder>) {
  const { message, description, testId } = model.useState();
  const styles = useStyles2(getStyles);
  return (
    <div className={styles.container} data-testid={testId}>
      <EmptyState variant="call-to-action" message={message}>
        {description}
      </EmptyState>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({
    padding: theme.spacing(2),
  }),
});
