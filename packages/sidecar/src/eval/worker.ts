/**
 * An evaluation worker: compiles the rule sets the pool sends, evaluates the traces of its shard
 * one at a time under the per-trace budget, and answers each with its violations and skipped
 * rules. It never touches the store: the main thread records every outcome in one place.
 */
import { parentPort, workerData } from 'worker_threads';
import { CompiledRule, compileRule } from '@betrace/evaluator';
import { EvalWorkerData, PROGRESS_JOB, PROGRESS_RULE, ResultMessage, ToWorker } from './protocol';
import { runRules, SkippedRule } from './run';

const port = parentPort;
if (port === null) {
  throw new Error('eval/worker runs as a worker thread of the evaluation pool');
}
const progress = new Int32Array((workerData as EvalWorkerData).progress);
const sets = new Map<number, Map<string, CompiledRule>>();

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'rules': {
      const compiled = new Map<string, CompiledRule>();
      for (const d of m.definitions) {
        const r = compileRule(d).rule;
        if (r !== undefined) {
          compiled.set(d.id, r);
        }
      }
      sets.set(m.setId, compiled);
      return;
    }
    case 'forget':
      sets.delete(m.setId);
      return;
    case 'evaluate': {
      const set = sets.get(m.setId);
      const rules: CompiledRule[] = [];
      const missing: SkippedRule[] = [];
      for (const id of m.ruleIds) {
        const r = set?.get(id);
        if (r === undefined) {
          missing.push({ ruleId: id, reason: 'error', detail: 'the rule did not compile in the evaluation worker' });
        } else {
          rules.push(r);
        }
      }
      Atomics.store(progress, PROGRESS_JOB, m.jobId);
      const run = runRules(rules, m.trace, m.budgetMs, (i) => Atomics.store(progress, PROGRESS_RULE, i + 1));
      Atomics.store(progress, PROGRESS_RULE, 0);
      const result: ResultMessage = { type: 'result', jobId: m.jobId, violations: run.violations, evaluated: run.evaluated, skipped: [...missing, ...run.skipped], durationMs: run.durationMs };
      port.postMessage(result);
      return;
    }
  }
});
port.postMessage({ type: 'ready' });
