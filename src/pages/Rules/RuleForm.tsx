import React from 'react';
import type { SelectableValue } from '@grafana/data';
import {
  Alert,
  Button,
  Field,
  FieldValidationMessage,
  IconButton,
  Input,
  RadioButtonGroup,
  Stack,
  Switch,
  TextArea,
} from '@grafana/ui';
import { SEVERITIES, type Severity } from '@betrace/evaluator';
import { draftProblems } from './draft';
import type { RuleEditor } from './RuleEditor';
import { rulesTestIds } from './testIds';

const SEVERITY_OPTIONS: Array<SelectableValue<Severity>> = SEVERITIES.map((s) => ({ label: s, value: s }));

/** The rule's fields beside the code, the change note and Save (a new version). */
export function RuleForm({ model, readOnly }: { model: RuleEditor; readOnly: boolean }) {
  const { draft, note, saveError, ruleId, adoption } = model.useState();
  // Adopting: the sidecar creates the rule from the suggestion, with these fields; mappings come after.
  const adopting = adoption !== undefined && ruleId === undefined;
  const problems = draftProblems(draft);
  const compliance = draft.compliance ?? [];
  const setCompliance = (i: number, change: Partial<{ framework: string; control: string }>) =>
    model.updateDraft({ compliance: compliance.map((c, j) => (j === i ? { ...c, ...change } : c)) });

  return (
    <Stack direction="column" gap={0}>
      <Field
        label="Id"
        description="Stable and unique; cannot change once saved"
        invalid={!!problems.id && draft.id !== ''}
        error={problems.id}
      >
        <Input
          data-testid={rulesTestIds.editor.id}
          value={draft.id}
          disabled={readOnly || ruleId !== undefined}
          onChange={(e) => model.updateDraft({ id: e.currentTarget.value })}
        />
      </Field>
      <Field label="Name" invalid={!!problems.name && ruleId !== undefined} error={problems.name}>
        <Input
          data-testid={rulesTestIds.editor.name}
          value={draft.name}
          disabled={readOnly}
          onChange={(e) => model.updateDraft({ name: e.currentTarget.value })}
        />
      </Field>
      <Field label="Severity">
        <div data-testid={rulesTestIds.editor.severity}>
          <RadioButtonGroup<Severity>
            options={SEVERITY_OPTIONS}
            value={draft.severity}
            disabled={readOnly}
            onChange={(v) => model.updateDraft({ severity: v })}
          />
        </div>
      </Field>
      <Field
        label="Enabled"
        description={
          adopting
            ? 'Off: the adopted rule is kept and versioned but not evaluated until you enable it'
            : 'A disabled rule is kept and versioned but not evaluated'
        }
      >
        <Switch
          data-testid={rulesTestIds.editor.enabled}
          value={draft.enabled}
          disabled={readOnly}
          onChange={(e) => model.updateDraft({ enabled: e.currentTarget.checked })}
        />
      </Field>
      <Field label="Description">
        <TextArea
          rows={2}
          value={draft.description ?? ''}
          disabled={readOnly}
          onChange={(e) => model.updateDraft({ description: e.currentTarget.value })}
        />
      </Field>
      <Field
        label="Message template"
        description="e.g. charge of {p.amount} {p.currency} without a fraud check; {rule.name}, {trace.root.name}"
      >
        <Input
          data-testid={rulesTestIds.editor.message}
          value={draft.message ?? ''}
          disabled={readOnly}
          onChange={(e) => model.updateDraft({ message: e.currentTarget.value })}
        />
      </Field>
      <Field
        label="Compliance mappings"
        description={
          adopting
            ? 'Add mappings once the suggestion is adopted, as a new version of the rule'
            : 'Evaluations of a mapped rule become evidence for these controls'
        }
      >
        <div data-testid={rulesTestIds.editor.compliance}>
          <Stack direction="column" gap={1}>
            {compliance.map((c, i) => (
              <Stack key={i} gap={1} alignItems="center">
                <Input
                  aria-label={`Framework ${i + 1}`}
                  placeholder="soc2"
                  value={c.framework}
                  disabled={readOnly}
                  onChange={(e) => setCompliance(i, { framework: e.currentTarget.value })}
                />
                <Input
                  aria-label={`Control ${i + 1}`}
                  placeholder="CC7.2"
                  value={c.control}
                  disabled={readOnly}
                  onChange={(e) => setCompliance(i, { control: e.currentTarget.value })}
                />
                {!readOnly && (
                  <IconButton
                    name="trash-alt"
                    tooltip="Remove mapping"
                    onClick={() => model.updateDraft({ compliance: compliance.filter((_, j) => j !== i) })}
                  />
                )}
              </Stack>
            ))}
            {problems.compliance && <FieldValidationMessage>{problems.compliance}</FieldValidationMessage>}
            {!readOnly && !adopting && (
              <div>
                <Button
                  size="sm"
                  variant="secondary"
                  icon="plus"
                  onClick={() => model.updateDraft({ compliance: [...compliance, { framework: '', control: '' }] })}
                >
                  Add mapping
                </Button>
              </div>
            )}
          </Stack>
        </div>
      </Field>
      <Field
        label="Objective (SLO)"
        description="The share of triggering traces that must comply, over a window: e.g. 99.9% over 30d. Leave both empty for none. BeTrace reports the error budget and burn rates, and generates burn-rate alerts (docs/slo.md)"
        invalid={!!problems.slo}
        error={problems.slo}
      >
        <Stack gap={1} alignItems="center">
          <Input
            data-testid={rulesTestIds.editor.sloObjective}
            aria-label="Objective"
            placeholder="99.9%"
            width={12}
            value={draft.slo.objective}
            disabled={readOnly}
            onChange={(e) => model.updateDraft({ slo: { ...draft.slo, objective: e.currentTarget.value } })}
          />
          <span>over</span>
          <Input
            data-testid={rulesTestIds.editor.sloWindow}
            aria-label="Window"
            placeholder="30d"
            width={10}
            value={draft.slo.window}
            disabled={readOnly}
            onChange={(e) => model.updateDraft({ slo: { ...draft.slo, window: e.currentTarget.value } })}
          />
        </Stack>
      </Field>
      {!readOnly && (
        <>
          {!adopting && (
            <Field label="Change note" description="Recorded with the new version in the rule's history">
              <Input
                data-testid={rulesTestIds.editor.note}
                value={note}
                placeholder="why this change"
                onChange={(e) => model.setState({ note: e.currentTarget.value })}
              />
            </Field>
          )}
          {saveError && (
            <Alert
              severity="error"
              title="The sidecar did not save the rule"
              data-testid={rulesTestIds.editor.saveError}
            >
              {saveError}
            </Alert>
          )}
          <div>
            <Button
              data-testid={rulesTestIds.editor.save}
              icon="save"
              disabled={!model.canSave()}
              onClick={() => model.save()}
            >
              {adopting ? 'Adopt as rule' : ruleId === undefined ? 'Create rule' : 'Save as new version'}
            </Button>
          </div>
        </>
      )}
    </Stack>
  );
}
