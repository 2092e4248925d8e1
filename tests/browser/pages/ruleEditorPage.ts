import type { Locator } from 'playwright-core';
import { rulesTestIds as ids } from '../../../src/pages/Rules/testIds';
import { PluginHost, READY_MS } from './pluginHost';

/** The rule editor at /a/betrace-app/rules/<id> or /rules/new: Monaco, the fields, Test, Replay and History. */
export class RuleEditorPage {
  constructor(readonly host: PluginHost) {}

  private get page() {
    return this.host.page;
  }

  get container(): Locator {
    return this.page.getByTestId(ids.editor.container);
  }
  get diagnostics(): Locator {
    return this.page.getByTestId(ids.editor.diagnostics);
  }
  get pushdown(): Locator {
    return this.page.getByTestId(ids.editor.pushdown);
  }
  get save(): Locator {
    return this.page.getByTestId(ids.editor.save);
  }
  get readOnly(): Locator {
    return this.page.getByTestId(ids.editor.readOnly);
  }
  get dirty(): Locator {
    return this.page.getByTestId(ids.editor.dirty);
  }
  /** Monaco's error markers (squiggles) in the code. */
  get errorMarkers(): Locator {
    return this.page.getByTestId(ids.editor.code).locator('.squiggly-error');
  }
  get description(): Locator {
    return this.page.getByLabel('Description', { exact: true });
  }
  get testResult(): Locator {
    return this.page.getByTestId(ids.test.result);
  }
  get testError(): Locator {
    return this.page.getByTestId(ids.test.error);
  }
  get replayStatus(): Locator {
    return this.page.getByTestId(ids.replay.status);
  }
  get replayStart(): Locator {
    return this.page.getByTestId(ids.replay.start);
  }
  get replayViolations(): Locator {
    return this.page.getByTestId(ids.replay.violations);
  }
  get replayNotAllowed(): Locator {
    return this.page.getByTestId(ids.replay.notAllowed);
  }
  historyVersion(v: number): Locator {
    return this.page.getByTestId(ids.history.version(v));
  }
  get historyDiff(): Locator {
    return this.page.getByTestId(ids.history.diff);
  }
  span(spanId: string): Locator {
    return this.page.getByTestId(ids.test.span(spanId));
  }

  /** Opens a rule (or `new`) and waits for Monaco to be editable. */
  async open(ruleId: string): Promise<void> {
    await this.host.open(`/a/betrace-app/rules/${encodeURIComponent(ruleId)}`);
    await this.container.waitFor({ timeout: READY_MS });
    await this.page
      .getByTestId(ids.editor.code)
      .locator('.monaco-editor textarea')
      .first()
      .waitFor({ state: 'attached', timeout: READY_MS });
  }

  /** Replaces the rule's code as a user would: select all, type over it (as one edit, since Monaco auto-closes brackets). */
  async typeCode(text: string): Promise<void> {
    await this.page.getByTestId(ids.editor.code).locator('.monaco-editor .view-lines').first().click();
    await this.page.keyboard.press('ControlOrMeta+A');
    await this.page.keyboard.press('Delete');
    await this.page.keyboard.insertText(text);
  }

  async fill(field: 'id' | 'name' | 'note' | 'message', value: string): Promise<void> {
    await this.page.getByTestId(ids.editor[field]).fill(value);
  }

  async severity(label: string): Promise<void> {
    await this.page.getByTestId(ids.editor.severity).getByLabel(label, { exact: true }).click();
  }

  async tab(name: 'Test' | 'Replay' | 'History'): Promise<void> {
    await this.page.getByRole('tab', { name }).click();
  }

  async testOnPastedOtlp(json: string): Promise<void> {
    await this.tab('Test');
    await this.page.getByLabel('Paste OTLP/JSON').click({ force: true });
    await this.page.getByTestId(ids.test.otlp).fill(json);
    await this.page.getByTestId(ids.test.run).click();
  }

  async testOnTempoTrace(traceId: string): Promise<void> {
    await this.tab('Test');
    await this.page.getByLabel('Trace id (Tempo)').click({ force: true });
    await this.page.getByTestId(ids.test.traceId).fill(traceId);
    await this.page.getByTestId(ids.test.run).click();
  }

  async rollback(version: number): Promise<void> {
    await this.page.getByTestId(ids.history.rollback(version)).click();
  }

  async diff(version: number): Promise<void> {
    await this.historyVersion(version).getByRole('button', { name: 'Diff with current' }).click();
  }
}
