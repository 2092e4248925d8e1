import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2, SelectableValue } from '@grafana/data';
import { sceneGraph } from '@grafana/scenes';
import {
  Button,
  Checkbox,
  Field,
  FieldValidationMessage,
  Input,
  RadioButtonGroup,
  Stack,
  Text,
  useStyles2,
} from '@grafana/ui';
import { SUGGESTION_KINDS, type SuggestionKind } from '@betrace/evaluator';
import type { DiscoverySource } from '../../api/discover';
import { runProblems } from './runOptions';
import type { SuggestionsView } from './SuggestionsView';
import { suggestionsTestIds as ids } from './testIds';

const SOURCES: Array<SelectableValue<DiscoverySource>> = [
  { label: 'Auto', value: 'auto', description: 'Tempo when the sidecar pulls from Tempo, else its own trace history' },
  { label: 'Trace history', value: 'history', description: 'The recent traces the sidecar received' },
  { label: 'Tempo', value: 'tempo', description: 'Traces in Tempo over the range' },
];

/** Run discovery over the page's time range, with the miner's options. */
export function RunForm({ model }: { model: SuggestionsView }) {
  const { options, starting, job } = model.useState();
  // The time picker changes the range: re-render with it, so the range check is current.
  sceneGraph.getTimeRange(model).useState();
  const styles = useStyles2(getStyles);
  const problems = runProblems(options, model.range());
  const running = job?.state === 'running';
  const toggleKind = (k: SuggestionKind, on: boolean) =>
    model.setOptions({ kinds: on ? [...options.kinds, k] : options.kinds.filter((x) => x !== k) });

  return (
    <div className={styles.form} data-testid={ids.options}>
      <Stack gap={2} wrap="wrap" alignItems="flex-start">
        <Field
          label="Top"
          description="Suggestions kept, best first (1–200)"
          invalid={!!problems.top}
          error={problems.top}
          noMargin
        >
          <Input
            data-testid={ids.top}
            width={10}
            value={options.top}
            onChange={(e) => model.setOptions({ top: e.currentTarget.value })}
          />
        </Field>
        <Field
          label="Min support"
          description="Traces the trigger must hold in"
          invalid={!!problems.minSupport}
          error={problems.minSupport}
          noMargin
        >
          <Input
            data-testid={ids.minSupport}
            width={12}
            placeholder="default"
            value={options.minSupport}
            onChange={(e) => model.setOptions({ minSupport: e.currentTarget.value })}
          />
        </Field>
        <Field
          label="Min confidence"
          description="Fraction of those it held in"
          invalid={!!problems.minConfidence}
          error={problems.minConfidence}
          noMargin
        >
          <Input
            data-testid={ids.minConfidence}
            width={12}
            placeholder="default"
            value={options.minConfidence}
            onChange={(e) => model.setOptions({ minConfidence: e.currentTarget.value })}
          />
        </Field>
        <Field label="Traces from" noMargin>
          <div data-testid={ids.source}>
            <RadioButtonGroup<DiscoverySource>
              options={SOURCES}
              value={options.source}
              onChange={(source) => model.setOptions({ source })}
            />
          </div>
        </Field>
      </Stack>
      <Field label="Kinds" description="None ticked: every kind" noMargin>
        <div data-testid={ids.kinds}>
          <Stack gap={2} wrap="wrap">
            {SUGGESTION_KINDS.map((k) => (
              <Checkbox
                key={k}
                label={k}
                value={options.kinds.includes(k)}
                onChange={(e) => toggleKind(k, e.currentTarget.checked)}
              />
            ))}
          </Stack>
        </div>
      </Field>
      {problems.range && <FieldValidationMessage>{problems.range}</FieldValidationMessage>}
      <Stack gap={1} alignItems="center">
        <Button
          data-testid={ids.run}
          icon="bolt"
          disabled={starting || running || Object.keys(problems).length > 0}
          tooltip={running ? 'A discovery is running: wait for it or cancel it' : undefined}
          onClick={() => model.run()}
        >
          {starting ? 'Starting…' : 'Run discovery'}
        </Button>
        <Text color="secondary">over the time range picked at the top right</Text>
      </Stack>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  form: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
});
