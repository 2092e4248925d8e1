import type { Severity } from '@betrace/evaluator';
import type { RuleView } from '../../api/rules';

export type RuleStateFilter = 'all' | 'enabled' | 'disabled' | 'provisioned';

export interface RuleFilters {
  search: string;
  severity: Severity | '';
  state: RuleStateFilter;
}

/** The rule list's search (name, id, description, compliance mappings) and filters. */
export function filterRules(rules: readonly RuleView[], filters: RuleFilters): RuleView[] {
  const words = filters.search.toLowerCase().split(/\s+/).filter(Boolean);
  return rules.filter((r) => {
    if (filters.severity !== '' && r.severity !== filters.severity) {
      return false;
    }
    if (
      (filters.state === 'enabled' && !r.enabled) ||
      (filters.state === 'disabled' && r.enabled) ||
      (filters.state === 'provisioned' && !r.provisioned)
    ) {
      return false;
    }
    const haystack = [r.id, r.name, r.description ?? '', ...(r.compliance ?? []).map(complianceLabel)]
      .join(' ')
      .toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

export function complianceLabel(m: { framework: string; control: string }): string {
  return `${m.framework} ${m.control}`;
}
