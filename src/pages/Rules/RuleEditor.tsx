import React, { useCallback } from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { SceneAppPage, SceneComponentProps, SceneObjectBase, SceneObjectState } from '@grafana/scenes';
import { Alert, Badge, Button, Stack, Tab, TabContent, TabsBar, TextLink, useStyles2 } from '@grafana/ui';
import { createRule, getRule, patchRule, rollbackRule, updateRule, type RuleView } from '../../api/rules';
import { adoptSuggestion } from '../../api/discover';
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
import {
  exploreTraceUrl,
  parseSuggestionRef,
  parseTraceDraftRef,
  ruleUrl,
  suggestionsUrl,
} from '../../builders/exploreUrl';
import { loadTraceDraft, sameRef, type TraceDrafting } from '../../extensions/traceDraft';
import {
  adoptInput,
  adoptionDraft,
  AdoptionError,
  loadAdoption,
  loadSuggestionTraces,
  type Adoption,
  type SuggestionTraces,
} from './adopt';
import { DiagnosticList } from './DiagnosticList';
import { ReplayPanel } from './ReplayPanel';
import { RuleForm } from './RuleForm';
import { RuleHistory } from './RuleHistory';
import { RuleTestPanel } from './RuleTestPanel';
import { SkippedAlert } from './SkippedMarker';
import { ErrorState, LoadingState } from './States';
import { useTempoUid } from './tempo';
import { RuleHealthTab } from './RuleHealthTab';
import { rulesTestIds } from './testIds';
import { useUnsavedChangesGuard } from './useUnsavedChangesGuard';

export type EditorTab = 'test' | 'replay' | 'history' | 'health';

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
  /**
   * A new rule adopted from a discovery suggestion (`/rules/new?suggestion=<job>:<sid>`): the draft
   * starts from it, Test has its traces, and Save adopts it instead of creating a plain rule.
   */
  adoption?: Adoption;
  adoptionTraces?: SuggestionTraces;
  /** A new rule drafted from a trace in Explore (`/rules/new?fromTrace=<trace>&span=<span>`): Test has that trace. */
  traceDraft?: TraceDrafting;
}

/** The rule editor: code and fields of one rule, its test runs, replays and versions. */
export class RuleEditor extends SceneObjectBase<RuleEditorState> {
  private analysisTimer?: ReturnType<typeof setTimeout>;
  /** The editor of /rules/new (Scenes keeps it between visits), as opposed to one of /rules/:id. */
  private readonly newRuleEditor: boolean;

  constructor(state: Partial<RuleEditorState> & { ruleId?: string }) {
    const draft = emptyDraft();
    super({
      // A suggestion to adopt is loaded at once: no blank editor first.
      loading:
        state.ruleId !== undefined ||
        parseSuggestionRef(locationService.getSearchObject().suggestion) !== undefined ||
        parseTraceDraftRef(locationService.getSearchObject()) !== undefined,
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
    this.newRuleEditor = state.ruleId === undefined;
    this.addActivationHandler(() => {
      if (this.newRuleEditor && this.state.ruleId !== undefined) {
        // It created a rule (which has its own page now): /rules/new is a new rule again.
        this.resetToNew();
      }
      if (this.state.ruleId !== undefined && !this.state.saved) {
        this.load();
      } else if (this.state.ruleId === undefined) {
        this.followSuggestionParam();
      }
      return () => clearTimeout(this.analysisTimer);
    });
  }

  private resetToNew() {
    const draft = emptyDraft();
    this.setState({
      ruleId: undefined,
      saved: undefined,
      loading: false,
      loadError: undefined,
      saveError: undefined,
      adoption: undefined,
      adoptionTraces: undefined,
      traceDraft: undefined,
      baseline: draft,
      draft,
      note: '',
      tab: 'test',
      analysis: analyse(draft.condition),
    });
  }

  /**
   * The new-rule page is kept between visits: it starts from the suggestion its URL names, and
   * drops a suggestion it was opened with before once the URL names none.
   */
  private followSuggestionParam() {
    const ref = parseSuggestionRef(locationService.getSearchObject().suggestion);
    const traceRef = ref ? undefined : parseTraceDraftRef(locationService.getSearchObject());
    const current = this.state.adoption;
    if (ref && (ref.jobId !== current?.jobId || ref.suggestionId !== current?.suggestionId)) {
      this.loadSuggestion(ref.jobId, ref.suggestionId);
    } else if (traceRef) {
      if (!sameRef(traceRef, this.state.traceDraft?.ref)) {
        this.loadFromTrace(traceRef);
      }
    } else if (!ref && (current || this.state.traceDraft || this.state.loadError || this.state.loading)) {
      const draft = emptyDraft();
      this.setState({
        adoption: undefined,
        adoptionTraces: undefined,
        traceDraft: undefined,
        loading: false,
        loadError: undefined,
        baseline: draft,
        draft,
        analysis: analyse(draft.condition),
      });
    }
  }

  async loadSuggestion(jobId: string, suggestionId: string) {
    this.setState({ loading: true, loadError: undefined, adoption: undefined, adoptionTraces: undefined });
    let adoption: Adoption;
    try {
      adoption = await loadAdoption(jobId, suggestionId);
    } catch (e) {
      const why = e instanceof AdoptionError ? e.message : `The sidecar answered: ${e instanceof Error ? e.message : String(e)}`;
      this.setState({ loading: false, loadError: why });
      return;
    }
    const draft = adoptionDraft(adoption);
    this.setState({
      loading: false,
      adoption,
      adoptionTraces: { loading: true, traces: [], problems: [] },
      baseline: draft,
      draft,
      analysis: analyse(draft.condition),
      saveError: undefined,
    });
    const traces = await loadSuggestionTraces(adoption);
    if (this.state.adoption === adoption) {
      this.setState({ adoptionTraces: { loading: false, ...traces } });
    }
  }

  /** A rule drafted from a trace in Explore: the trace from its Tempo datasource, the draft from it. */
  async loadFromTrace(ref: NonNullable<ReturnType<typeof parseTraceDraftRef>>) {
    this.setState({ loading: true, loadError: undefined, adoption: undefined, adoptionTraces: undefined, traceDraft: undefined });
    try {
      const traceDraft = await loadTraceDraft(ref);
      this.setState({
        loading: false,
        traceDraft,
        baseline: traceDraft.draft,
        draft: traceDraft.draft,
        analysis: analyse(traceDraft.draft.condition),
        saveError: undefined,
      });
    } catch (e) {
      this.setState({ loading: false, loadError: e instanceof Error ? e.message : String(e) });
    }
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
    const { adoption } = this.state;
    try {
      if (this.state.ruleId === undefined && adoption) {
        const { rule } = await adoptSuggestion(adoption.jobId, adoption.suggestionId, adoptInput(this.state.draft));
        this.loaded(rule);
        this.setState({ saving: false, ruleId: rule.id, adoption: undefined, adoptionTraces: undefined });
        locationService.replace(ruleUrl(rule.id));
      } else if (this.state.ruleId === undefined) {
        const created = await createRule(input);
        this.loaded(created);
        this.setState({ saving: false, ruleId: created.id, traceDraft: undefined });
        locationService.replace(ruleUrl(created.id));
      } else {
        this.loaded(await updateRule(input));
        this.setState({ saving: false });
      }
    } catch (e) {
      this.setState({ saving: false, saveError: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Enables or disables the saved rule at once, as a new version (PATCH: the rule is not resent). */
  async setEnabled(enabled: boolean) {
    const { saved } = this.state;
    if (this.readOnly() || !saved || this.isDirty()) {
      return;
    }
    this.setState({ saving: true, saveError: undefined });
    try {
      this.loaded(await patchRule(saved.id, { enabled, note: enabled ? 'enabled' : 'disabled' }));
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
  const { loading, loadError, saved, draft, analysis, tab, ruleId, replayPollMs, saving, adoption, adoptionTraces, traceDraft } =
    model.useState();
  const styles = useStyles2(getStyles);
  const tempoUid = useTempoUid();
  const confirm = useCallback((m: string) => window.confirm(m), []);
  useUnsavedChangesGuard(model.isDirty, confirm);

  if (loading) {
    return <LoadingState text="Loading the rule…" testId={rulesTestIds.list.loading} />;
  }
  if (loadError) {
    return (
      <ErrorState
        title={
          ruleId !== undefined
            ? `Could not load the rule ${ruleId}`
            : parseTraceDraftRef(locationService.getSearchObject())
              ? 'Could not draft a rule from the trace'
              : 'Could not open the suggestion'
        }
        error={loadError}
        testId={rulesTestIds.list.error}
      />
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
        {adoption && (
          <Alert severity="info" title="Adopting a suggestion" data-testid={rulesTestIds.editor.adoption}>
            From <TextLink href={suggestionsUrl(adoption.jobId)} inline>discovery {adoption.jobId}</TextLink>:{' '}
            {adoption.suggestion.title}. Test it on the traces it was found in, then adopt it: the rule is created
            from it, disabled unless you enable it.
          </Alert>
        )}
        {traceDraft && (
          <Alert severity="info" title="Drafted from a trace" data-testid={rulesTestIds.editor.fromTrace}>
            From{' '}
            <TextLink
              href={exploreTraceUrl({
                datasourceUid: traceDraft.datasourceUid,
                traceId: traceDraft.traceId,
                spanId: traceDraft.spanId,
              })}
              inline
            >
              trace {traceDraft.traceId}
            </TextLink>
            {traceDraft.spanMissing
              ? `: span ${traceDraft.ref.spanId} is not in it, so the draft starts at its root span.`
              : `, span ${traceDraft.spanId}.`}{' '}
            Test runs it on that trace; edit the clauses into the invariant you mean, then save (the rule starts
            disabled).
          </Alert>
        )}
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
            {ruleId !== undefined && (
              <Tab
                label="Health"
                data-testid={rulesTestIds.health.tab}
                active={tab === 'health'}
                onChangeTab={() => model.setState({ tab: 'health' })}
              />
            )}
          </TabsBar>
          <TabContent className={styles.tab}>
            {tab === 'test' && (
              <RuleTestPanel
                draft={draft}
                tempoUid={traceDraft?.datasourceUid ?? tempoUid}
                suggestionTraces={adoptionTraces}
                initialTraceId={traceDraft?.traceId}
              />
            )}
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
            {tab === 'health' && saved && (
              <RuleHealthTab ruleId={saved.id} hasSlo={(saved as { slo?: unknown }).slo !== undefined} />
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
