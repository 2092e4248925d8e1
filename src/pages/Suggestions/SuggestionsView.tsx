import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import {
  sceneGraph,
  SceneObjectBase,
  SceneObjectUrlSyncConfig,
  type SceneComponentProps,
  type SceneObjectState,
  type SceneObjectUrlValues,
} from '@grafana/scenes';
import { Alert, useStyles2 } from '@grafana/ui';
import {
  deleteDiscovery,
  discoveryProblem,
  dismissSuggestion,
  getDiscovery,
  listDiscoveries,
  startDiscovery,
  type DiscoveryJob,
  type DiscoveryProblem,
} from '../../api/discover';
import { SidecarError } from '../../api/client';
import { ACTIONS, can } from '../../utils/permissions';
import { JobList } from './JobList';
import { JobResult } from './JobResult';
import { RunForm } from './RunForm';
import { DEFAULT_RUN_OPTIONS, discoveryRequest, runProblems, type RunOptions } from './runOptions';
import { suggestionsTestIds as ids } from './testIds';

export interface SuggestionsViewState extends SceneObjectState {
  /** The tenant's discovery jobs, newest first. */
  jobs?: DiscoveryJob[];
  jobsLoading: boolean;
  jobsProblem?: DiscoveryProblem;
  /** The open job (URL `job`). */
  jobId?: string;
  job?: DiscoveryJob;
  jobLoading: boolean;
  jobProblem?: DiscoveryProblem;
  options: RunOptions;
  starting: boolean;
  runProblem?: DiscoveryProblem;
  /** Dismissed suggestions are hidden unless this is on (URL `dismissed=show`). */
  showDismissed: boolean;
  /** Suggestions with a dismiss under way. */
  pending: string[];
  actionProblem?: { suggestionId: string; problem: DiscoveryProblem };
  /** Milliseconds between polls of a running job. */
  pollMs: number;
}

const FINISHED = new Set(['done', 'failed', 'cancelled']);

/** The Suggestions page: run discovery over the scene's time range, follow it, read and act on its suggestions. */
export class SuggestionsView extends SceneObjectBase<SuggestionsViewState> {
  protected _urlSync = new SceneObjectUrlSyncConfig(this, { keys: ['job', 'dismissed'] });
  private pollTimer?: ReturnType<typeof setTimeout>;

  constructor(state: Partial<SuggestionsViewState> = {}) {
    super({
      jobsLoading: true,
      jobLoading: false,
      options: DEFAULT_RUN_OPTIONS,
      starting: false,
      showDismissed: false,
      pending: [],
      pollMs: 1000,
      ...state,
    });
    this.addActivationHandler(() => {
      this.loadJobs();
      if (this.state.jobId !== undefined) {
        this.openJob(this.state.jobId);
      }
      return () => clearTimeout(this.pollTimer);
    });
  }

  getUrlState() {
    return { job: this.state.jobId, dismissed: this.state.showDismissed ? 'show' : undefined };
  }

  updateFromUrl(values: SceneObjectUrlValues) {
    const one = (v: SceneObjectUrlValues[string]) => (Array.isArray(v) ? v[0] : v) ?? undefined;
    const jobId = one(values.job) || undefined;
    const showDismissed = one(values.dismissed) === 'show';
    if (showDismissed !== this.state.showDismissed) {
      this.setState({ showDismissed });
    }
    if (jobId !== this.state.jobId) {
      if (jobId === undefined) {
        this.closeJob();
      } else if (this.isActive) {
        this.openJob(jobId);
      } else {
        this.setState({ jobId });
      }
    }
  }

  /** Whether the user may run discovery and act on suggestions. */
  writable(): boolean {
    return can(ACTIONS.rulesWrite);
  }

  /** The scene's time range, in epoch milliseconds. */
  range(): { from: number; to: number } {
    const { from, to } = sceneGraph.getTimeRange(this).state.value;
    return { from: from.valueOf(), to: to.valueOf() };
  }

  async loadJobs() {
    this.setState({ jobsLoading: this.state.jobs === undefined, jobsProblem: undefined });
    try {
      this.setState({ jobs: await listDiscoveries(), jobsLoading: false });
    } catch (e) {
      const problem =
        e instanceof SidecarError && e.status === 404
          ? {
              title: 'This sidecar does not offer discovery',
              message: `It answered 404 (${e.message}): update the BeTrace sidecar to a version with /api/v1/discover.`,
            }
          : discoveryProblem(e, 'load the discovery jobs');
      this.setState({ jobsLoading: false, jobsProblem: problem });
    }
  }

  async openJob(id: string) {
    clearTimeout(this.pollTimer);
    this.setState({
      jobId: id,
      job: this.state.job?.id === id ? this.state.job : undefined,
      jobLoading: true,
      jobProblem: undefined,
      actionProblem: undefined,
    });
    try {
      const job = await getDiscovery(id);
      if (this.state.jobId === id) {
        this.setState({ job, jobLoading: false });
        this.pollIfRunning(job);
      }
    } catch (e) {
      if (this.state.jobId === id) {
        this.setState({ jobLoading: false, jobProblem: discoveryProblem(e, `load discovery ${id}`) });
      }
    }
  }

  closeJob() {
    clearTimeout(this.pollTimer);
    this.setState({ jobId: undefined, job: undefined, jobProblem: undefined, actionProblem: undefined });
  }

  private pollIfRunning(job: DiscoveryJob) {
    clearTimeout(this.pollTimer);
    if (FINISHED.has(job.state)) {
      return;
    }
    this.pollTimer = setTimeout(async () => {
      try {
        const next = await getDiscovery(job.id);
        const current = this.state.job;
        // A poll answered after a cancel must not bring the job back to life on screen.
        if (!this.isActive || this.state.jobId !== job.id || (current && FINISHED.has(current.state))) {
          return;
        }
        this.setState({ job: next });
        if (FINISHED.has(next.state)) {
          this.loadJobs();
        } else {
          this.pollIfRunning(next);
        }
      } catch (e) {
        if (this.state.jobId === job.id) {
          this.setState({ jobProblem: discoveryProblem(e, `follow discovery ${job.id}`) });
        }
      }
    }, this.state.pollMs);
  }

  setOptions(change: Partial<RunOptions>) {
    this.setState({ options: { ...this.state.options, ...change } });
  }

  async run() {
    const range = this.range();
    if (!this.writable() || Object.keys(runProblems(this.state.options, range)).length > 0) {
      return;
    }
    this.setState({ starting: true, runProblem: undefined });
    try {
      const job = await startDiscovery(discoveryRequest(this.state.options, range));
      this.setState({ starting: false, jobId: job.id, job, jobProblem: undefined, actionProblem: undefined });
      this.setState({ jobs: [job, ...(this.state.jobs ?? []).filter((j) => j.id !== job.id)] });
      this.pollIfRunning(job);
    } catch (e) {
      this.setState({ starting: false, runProblem: discoveryProblem(e, 'start discovery') });
    }
  }

  /** Cancels the open, running job. */
  async cancel() {
    const { job } = this.state;
    if (!job || FINISHED.has(job.state)) {
      return;
    }
    clearTimeout(this.pollTimer);
    try {
      const cancelled = await deleteDiscovery(job.id);
      if (this.state.jobId === job.id) {
        this.setState({ job: cancelled });
      }
      this.loadJobs();
    } catch (e) {
      this.setState({ jobProblem: discoveryProblem(e, `cancel discovery ${job.id}`) });
      this.pollIfRunning(job);
    }
  }

  /** Deletes a finished job and its suggestions. */
  async remove(id: string) {
    try {
      await deleteDiscovery(id);
      if (this.state.jobId === id) {
        this.closeJob();
      }
      this.setState({ jobs: (this.state.jobs ?? []).filter((j) => j.id !== id) });
      this.loadJobs();
    } catch (e) {
      this.setState({ jobsProblem: discoveryProblem(e, `delete discovery ${id}`) });
    }
  }

  async dismiss(suggestionId: string) {
    const { job } = this.state;
    if (!job || !this.writable()) {
      return;
    }
    this.setState({ pending: [...this.state.pending, suggestionId], actionProblem: undefined });
    try {
      const dismissed = await dismissSuggestion(job.id, suggestionId);
      const current = this.state.job;
      if (current?.id === job.id) {
        this.setState({
          job: {
            ...current,
            suggestions: current.suggestions?.map((s) => (s.id === suggestionId ? { ...s, ...dismissed } : s)),
          },
        });
      }
    } catch (e) {
      this.setState({ actionProblem: { suggestionId, problem: discoveryProblem(e, 'dismiss the suggestion') } });
    } finally {
      this.setState({ pending: this.state.pending.filter((id) => id !== suggestionId) });
    }
  }

  static Component = SuggestionsViewRenderer;
}

function SuggestionsViewRenderer({ model }: SceneComponentProps<SuggestionsView>) {
  const { runProblem, jobProblem } = model.useState();
  const styles = useStyles2(getStyles);
  const writable = model.writable();
  return (
    <div className={styles.container} data-testid={ids.container}>
      {!writable && (
        <Alert severity="info" title="Read-only" data-testid={ids.readOnly}>
          You can read past discoveries and their suggestions. Running discovery, adopting and dismissing suggestions
          need the {ACTIONS.rulesWrite} permission.
        </Alert>
      )}
      {writable && <RunForm model={model} />}
      {runProblem && (
        <Alert severity={runProblem.noSource ? 'warning' : 'error'} title={runProblem.title} data-testid={ids.runError}>
          {runProblem.message}
        </Alert>
      )}
      {jobProblem && (
        <Alert severity="error" title={jobProblem.title} data-testid={ids.jobError}>
          {jobProblem.message}
        </Alert>
      )}
      <JobResult model={model} />
      <JobList model={model} />
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2), width: '100%' }),
});
