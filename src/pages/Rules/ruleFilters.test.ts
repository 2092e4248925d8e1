import type { RuleView } from '../../api/rules';
import { filterRules } from './ruleFilters';

const base = { condition: 'x', version: 1, updatedAt: '', updatedBy: '' };
const rules: RuleView[] = [
  {
    ...base,
    id: 'a',
    name: 'Fraud check',
    severity: 'critical',
    enabled: true,
    provisioned: false,
    compliance: [{ framework: 'soc2', control: 'CC7.2' }],
  },
  { ...base, id: 'b', name: 'Retries', severity: 'low', enabled: false, provisioned: false },
  {
    ...base,
    id: 'c',
    name: 'PHI audit',
    severity: 'critical',
    enabled: true,
    provisioned: true,
    description: 'HIPAA audit log',
  },
];
const ids = (f: Parameters<typeof filterRules>[1]) => filterRules(rules, f).map((r) => r.id);
const all = { search: '', severity: '' as const, state: 'all' as const };

describe('filterRules', () => {
  it('searches name, id, description and compliance mappings, every word', () => {
    expect(ids({ ...all, search: 'cc7.2' })).toEqual(['a']);
    expect(ids({ ...all, search: 'hipaa' })).toEqual(['c']);
    expect(ids({ ...all, search: 'fraud soc2' })).toEqual(['a']);
    expect(ids({ ...all, search: 'fraud hipaa' })).toEqual([]);
    expect(ids(all)).toEqual(['a', 'b', 'c']);
  });

  it('filters by severity and state', () => {
    expect(ids({ ...all, severity: 'critical' })).toEqual(['a', 'c']);
    expect(ids({ ...all, state: 'disabled' })).toEqual(['b']);
    expect(ids({ ...all, state: 'enabled' })).toEqual(['a', 'c']);
    expect(ids({ ...all, state: 'provisioned', severity: 'critical' })).toEqual(['c']);
  });
});
