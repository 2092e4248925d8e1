import React, { useCallback } from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { SceneAppPage, SceneComponentProps, SceneObjectBase, SceneObjectState } from '@grafana/scenes';
import { Alert, Badge, Button, Stack, Tab, TabContent, TabsBar, useStyles2 } from '@grafana/ui';
import { createRule, getRule, rollbackRule, updateRule, type RuleView } from '../../api/rules';
import { ACTIONS, can } from '../../utils/permissions';
import { RuleCodeEditor } from '../../editor/RuleCodeEditor';
import type { TraceVocabulary } from '../../editor/vocabulary';
import {
  analyse,
  draftOf,
  draftProblems,
  emptyDraft,
  sameDraft,
  toInput,
  type Analysis,
  type RuleDraft,
} from './draft';
import { ruleUrl } from '../../builders/exploreUrl';
import { DiagnosticList } from './DiagnosticList';
import { ReplayPanel } from './ReplayPanel';
import { RuleForm } from './RuleForm';
import { RuleHistory } from './RuleHistory';
import { RuleTestPanel } from './RuleTestPanel';
import { SkippedAlert } from './SkippedMarker';
import { ErrorState, LoadingState } from './States';
import { useTempoUid } from './tempo';
import { rulesTestIds } from './testIds';
import { useUnsavedChangesGuard } from './useUnsavedChangesGuard';

export type EditorTab = 'test' | 'replay' | 'history';

export interface RuleEditorState extends SceneObjectState {
  /** The rule being edited; absent for a new rule. */
  ruleId?: string;
  loading: boolean;
  loadError?: string;
  saved?: RuleView;
  /** The draft as last loaded or saved: what "unsaved changes" compares against. */
  baseline: RuleDraft;
  draft: RuleDraft;
  note: string;
  saving: boolean;
  saveError?: string;
  analysis: Analysis;
  tab: EditorTab;
  /** Milliseconds between the last keystroke and the evaluator's diagnostics. */
  analysisDelayMs: number;
  /** Tempo's span and attribute names, once loaded: diagnostics check the condition against them. */
  vocabulary?: TraceVocabulary;
  /** Milliseconds between polls of a running replay. */
  replayPollMs: number;
}

/** The rule editor: code and fields of one rule, its test runs, replays and versions. */
export class RuleEditor extends SceneObjectBase<RuleEditorState> {
  private analysisTimer?: ReturnType<typeof setTimeout>;

  constructor(state: Partial<RuleEditorState> & { ruleId?: string }) {
    const draft = emptyDraft();
    super({
      loading: state.ruleId !== undefined,
      baseline: draft,
      draft,
      note: '',
      saving: false,
      analysis: analyse(draft.condition),
      tab: 'test',
      analysisDelayMs: 250,
      replayPollMs: 1000,
      ...state,
    });
    this.addActivationHandler(() => {
      if (this.state.ruleId !== undefined && !this.state.saved) {
        this.load();
      }
      return () => clearTimeout(this.analysisTimer);
    });
  }

  async load() {
    const id = this.state.ruleId!;
    this.setState({ loading: true, loadError: undefined });
    try {
      this.loaded(await getRule(id));
    } catch (e) {
      this.setState({ loading: false, loadError: e instanceof Error ? e.message : String(e) });
    }
  }

  private loaded(rule: RuleView) {
    this.namePage(rule.name);
    const draft = draftOf(rule);
    this.setState({
      loading: false,
      saved: rule,
      baseline: draft,
      draft,
      analysis: analyse(draft.condition, this.state.vocabulary),
      note: '',
      saveError: undefined,
    });
  }

  /**
   * The page's title and its breadcrumb name the rule: the drilldown page only knows the id from
   * the URL, so the editor renames it once the rule is loaded (and again when a save renames it).
   */
  private namePage(name: string) {
    for (let o = this.parent; o; o = o.parent) {
      if (o instanceof SceneAppPage) {
        if (o.state.title !== name) {
          o.setState({ title: name });
        }
        return;
      }
    }
  }

  isDirty = (): boolean => !sameDraft(this.state.draft, this.state.baseline);

  /** Provisioned rules come from rule files; without rules:write nothing can be saved either. */
  readOnly(): boolean {
    return Boolean(this.state.saved?.provisioned) || !can(ACTIONS.rulesWrite);
  }

  updateDraft(change: Partial<RuleDraft>) {
    this.setState({ draft: { ...this.state.draft, ...change } });
  }

  /** The condition as typed; the evaluator checks it once typing pauses. */
  setCondition(condition: string) {
    this.updateDraft({ condition });
    clearTimeout(this.analysisTimer);
    this.analysisTimer = setTimeout(
      () => this.setState({ analysis: analyse(this.state.draft.condition, this.state.vocabulary) }),
      this.state.analysisDelayMs
    );
  }

  /** Tempo's names arrived: the condition is checked again against them. */
  setVocabulary(vocabulary: TraceVocabulary) {
    this.setState({ vocabulary, analysis: analyse(this.state.draft.condition, vocabulary) });
  }

  /** Whether Save is possible: writable, a valid rule and fields, and (for a saved rule) something changed. */
  canSave(): boolean {
    const { draft, analysis, saving, ruleId } = this.state;
    return (
      !this.readOnly() &&
      !saving &&
      analysis.pushdown !== undefined &&
      Object.keys(draftProblems(draft)).length === 0 &&
      (ruleId === undefined || this.isDirty())
    );
  }

  /** Ctrl/Cmd+S in the code editor. */
  saveIfReady() {
    if (this.canSave()) {
      this.save();
    }
  }

  async save() {
    if (this.readOnly()) {
      return;
    }
    this.setState({ saving: true, saveError: undefined });
    const input = toInput(this.state.draft, this.state.note);
    try {
      if (this.state.ruleId === undefined) {
        const created = await createRule(input);
        this.loaded(created);
        this.setState({ saving: false, ruleId: created.id });
        locationService.replace(ruleUrl(created.id));
      } else {
        this.loaded(await updateRule(input));
        this.setState({ saving: false });
      }
    } catch (e) {
      this.setState({ saving: false, saveError: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Enables or disables the saved rule at once, as a new version (the form's other fields stay as saved). */
  async setEnabled(enabled: boolean) {
    const { saved } = this.state;
    if (this.readOnly() || !saved || this.isDirty()) {
      return;
    }
    this.setState({ saving: true, saveError: undefined });
    try {
      this.loaded(await updateRule(toInput({ ...draftOf(saved), enabled }, enabled ? 'enabled' : 'disabled')));
      this.setState({ saving: false });
    } catch (e) {
      this.setState({ saving: false, saveError: e instanceof Error ? e.message : String(e) });
    }
  }

  async rollback(version: number) {
    if (this.readOnly() || this.state.ruleId === undefined) {
      return;
    }
    this.setState({ saving: true, saveError: undefined });
    try {
      this.loaded(await rollbackRule(this.state.ruleId, version));
      this.setState({ saving: false });
    } catch (e) {
      this.setState({ saving: false, saveError: e instanceof Error ? e.message : String(e) });
    }
  }

  static Component = RuleEditorRenderer;
}

function RuleEditorRenderer({ model }: SceneComponentProps<RuleEditor>) {
  const { loading, loadError, saved, draft, analysis, tab, ruleId, replayPollMs, saving } = model.useState();
  const styles = useStyles2(getStyles);
  const tempoUid = useTempoUid();
  const confirm = useCallback((m: string) => window.confirm(m), []);
  useUnsavedChangesGuard(model.isDirty, confirm);

  if (loading) {
    return <LoadingState text="Loading the rule…" testId={rulesTestIds.list.loading} />;
  }
  if (loadError) {
    return (
      <ErrorState title={`Could not load the rule ${ruleId}`} error={loadError} testId={rulesTestIds.list.error} />
    );
  }
  const readOnly = model.readOnly();
  const dirty = model.isDirty();
  return (
    <div className={styles.container} data-testid={rulesTestIds.editor.container}>
      <Stack gap={1} alignItems="center">
        {saved?.provisioned && (
          <Alert severity="info" title="Provisioned rule" data-testid={rulesTestIds.editor.readOnly}>
            This rule comes from a rule file and is read-only here: change the file to change the rule.
          </Alert>
        )}
        {!saved?.provisioned && readOnly && (
          <Alert severity="info" title="Read-only" data-testid={rulesTestIds.editor.readOnly}>
            You can test this rule but not change it: that needs the {ACTIONS.rulesWrite} permission.
          </Alert>
        )}
        {saved && !readOnly && (
          <Button
            data-testid={rulesTestIds.editor.toggle}
            size="sm"
            variant="secondary"
            icon={saved.enabled ? 'pause' : 'play'}
            disabled={dirty || saving}
            tooltip={dirty ? 'Save or discard your changes first' : undefined}
            onClick={() => model.setEnabled(!saved.enabled)}
          >
            {saved.enabled ? 'Disable rule' : 'Enable rule'}
          </Button>
        )}
        <SkippedAlert skipped={saved?.skipped} tempoUid={tempoUid} testId={rulesTestIds.editor.skipped} />
        {dirty && !readOnly && (
          <Badge color="orange" icon="pen" text="unsaved changes" data-testid={rulesTestIds.editor.dirty} />
        )}
      </Stack>
      <div className={styles.columns}>
        <div className={styles.main}>
          <div data-testid={rulesTestIds.editor.code}>
            <RuleCodeEditor
              value={draft.condition}
              onChange={(v) => model.setCondition(v)}
              readOnly={readOnly}
              diagnostics={analysis.diagnostics}
              tempoUid={tempoUid}
              onVocabulary={(v) => model.setVocabulary(v)}
              onSave={() => model.saveIfReady()}
            />
          </div>
          <DiagnosticList analysis={analysis} />
          <TabsBar>
            <Tab label="Test" active={tab === 'test'} onChangeTab={() => model.setState({ tab: 'test' })} />
            <Tab label="Replay" active={tab === 'replay'} onChangeTab={() => model.setState({ tab: 'replay' })} />
            {ruleId !== undefined && (
              <Tab label="History" active={tab === 'history'} onChangeTab={() => model.setState({ tab: 'history' })} />
            )}
          </TabsBar>
          <TabContent className={styles.tab}>
            {tab === 'test' && <RuleTestPanel draft={draft} tempoUid={tempoUid} />}
            {tab === 'replay' && (
              <ReplayPanel
                draft={draft}
                valid={analysis.pushdown !== undefined}
                tempoUid={tempoUid}
                pollMs={replayPollMs}
              />
            )}
            {tab === 'history' && saved && (
              <RuleHistory
                ruleId={saved.id}
                currentVersion={saved.version}
                canRollback={!readOnly && !dirty}
                onRollback={(v) => model.rollback(v)}
              />
            )}
          </TabContent>
        </div>
        <div className={styles.side}>
          <RuleForm model={model} readOnly={readOnly} />
        </div>
      </div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2), width: '100%' }),
  columns: css({ display: 'flex', gap: theme.spacing(2), flexWrap: 'wrap', alignItems: 'flex-start' }),
  main: css({ flex: '2 1 560px', minWidth: 0, display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  side: css({ flex: '1 1 320px', minWidth: 280 }),
  tab: css({ paddingTop: theme.spacing(2) }),
});
