import { MAX_COMPLIANCE_MAPPINGS, parseRuleFile, validateRuleDefinition } from '@betrace/evaluator';

const file = `rules:
  - id: payment-fraud-check
    name: Large payments need a fraud check
    severity: critical
    description: Payments above 1000 must pass a fraud check first.
    message: "charge of {p.amount} {p.currency} without a fraud check"
    compliance:
      - { framework: SOC2, control: CC7.2 }
    enabled: true
    condition: |
      when   { p: payment.charge.where(amount > 1000) }
      always { payment.fraud_check.before(p) }
  - id: retries
    name: Bounded retries
    severity: warning
    condition: trace.count(http.retry) > 3
`;

describe('parseRuleFile', () => {
  it('reads every field of rule-language.md', () => {
    const { rules, diagnostics } = parseRuleFile(file);
    expect(rules).toEqual([
      {
        id: 'payment-fraud-check',
        name: 'Large payments need a fraud check',
        severity: 'critical',
        description: 'Payments above 1000 must pass a fraud check first.',
        message: 'charge of {p.amount} {p.currency} without a fraud check',
        compliance: [{ framework: 'soc2', control: 'CC7.2' }],
        enabled: true,
        condition: 'when   { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.before(p) }\n',
      },
      { id: 'retries', name: 'Bounded retries', severity: 'medium', enabled: true, condition: 'trace.count(http.retry) > 3' },
    ]);
    expect(diagnostics).toEqual([
      { severity: 'info', message: 'severity `warning` is read as `medium`', ruleId: 'retries', ruleIndex: 1, field: 'severity', startLine: 15, startColumn: 15, endLine: 15, endColumn: 22 },
    ]);
  });

  it('points condition diagnostics into the file, inside a block scalar', () => {
    const text = file.replace('payment.fraud_check.before(p)', 'payment.fraud_check.befor(p)');
    const { rules, diagnostics } = parseRuleFile(text);
    expect(rules.map((r) => r.id)).toEqual(['retries']);
    expect(diagnostics[0]).toMatchObject({
      severity: 'error',
      message: 'unknown selector method `befor`; did you mean `before`?',
      ruleId: 'payment-fraud-check',
      field: 'condition',
      startLine: 12,
      startColumn: 36,
      endLine: 12,
      endColumn: 41,
    });
  });

  it('points condition diagnostics into a plain scalar', () => {
    const { diagnostics } = parseRuleFile(file.replace('trace.count(http.retry) > 3', 'trace.count(http.retry) > "x"'));
    expect(diagnostics.find((d) => d.field === 'condition')).toMatchObject({ ruleId: 'retries', startLine: 16, startColumn: 16, endLine: 16, endColumn: 45 });
  });

  it.each<[string, string, string]>([
    ['  - id: Bad Id\n    name: n\n    severity: low\n    condition: a', 'id', 'rule id `Bad Id` must match [a-z0-9][a-z0-9-_.]* (lowercase letters, digits, \'-\', \'_\', \'.\')'],
    ['  - id: x\n    severity: low\n    condition: a', 'name', 'rule `x` needs a `name`'],
    ['  - id: x\n    name: n\n    condition: a', 'severity', 'rule `x` needs a `severity` (info, low, medium, high, critical)'],
    ['  - id: x\n    name: n\n    severity: urgent\n    condition: a', 'severity', 'severity must be one of info, low, medium, high, critical; got "urgent"'],
    ['  - id: x\n    name: n\n    severity: low', 'condition', 'rule `x` needs a `condition`'],
    ['  - id: x\n    name: n\n    severity: low\n    enabled: maybe\n    condition: a', 'enabled', '`enabled` must be true or false'],
    ['  - id: x\n    name: n\n    severity: low\n    compliance: [{ framework: soc2 }]\n    condition: a', 'compliance', 'compliance[0] needs a string `framework` and `control`, e.g. { framework: soc2, control: CC7.2 }'],
    ['  - id: x\n    name: 5\n    severity: low\n    condition: a', 'name', '`name` must be a string'],
  ])('reports %j on field %s', (rule, field, message) => {
    const { rules, diagnostics } = parseRuleFile(`rules:\n${rule}\n`);
    expect(rules).toEqual([]);
    expect(diagnostics).toContainEqual(expect.objectContaining({ severity: 'error', field, message }));
  });

  it('limits compliance mappings per rule: at the limit fine, one past it refused, a control listed twice refused', () => {
    const mappings = (n: number) => `[${Array.from({ length: n }, (_v, i) => `{ framework: soc2, control: CC${i} }`).join(', ')}]`;
    const rule = (compliance: string) => `rules:\n  - id: x\n    name: n\n    severity: low\n    compliance: ${compliance}\n    condition: payment.charge\n`;
    const at = parseRuleFile(rule(mappings(MAX_COMPLIANCE_MAPPINGS)));
    expect([at.rules.length, at.diagnostics]).toEqual([1, []]);
    expect(at.rules[0].compliance).toHaveLength(MAX_COMPLIANCE_MAPPINGS);
    const past = parseRuleFile(rule(mappings(MAX_COMPLIANCE_MAPPINGS + 1)));
    expect(past.rules).toEqual([]);
    expect(past.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        field: 'compliance',
        startLine: 5,
        message: `a rule may map to at most ${MAX_COMPLIANCE_MAPPINGS} compliance controls; this one lists ${MAX_COMPLIANCE_MAPPINGS + 1} (split it into rules, one per control family)`,
      }),
    ]);
    const twice = parseRuleFile(rule('[{ framework: SOC2, control: CC7.2 }, { framework: soc2, control: CC7.2 }]'));
    expect(twice.rules).toEqual([]);
    expect(twice.diagnostics).toEqual([expect.objectContaining({ field: 'compliance', message: 'compliance[1] maps soc2 CC7.2 again; each control is listed once' })]);
    // The API speaks the same schema.
    expect(validateRuleDefinition({ id: 'x', name: 'n', severity: 'low', condition: 'payment.charge', compliance: Array.from({ length: MAX_COMPLIANCE_MAPPINGS + 1 }, (_v, i) => ({ framework: 'soc2', control: `CC${i}` })) }).diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', field: 'compliance' }),
    ]);
  });

  it('warns about unknown fields and keeps the rule', () => {
    const { rules, diagnostics } = parseRuleFile('rules:\n  - id: x\n    name: n\n    severity: low\n    conditon: b\n    condition: checkout\n');
    expect(rules).toHaveLength(1);
    expect(diagnostics).toEqual([expect.objectContaining({ severity: 'warning', field: 'conditon', startLine: 5, startColumn: 15 })]);
  });

  it('refuses duplicate ids', () => {
    const { rules, diagnostics } = parseRuleFile('- { id: x, name: n, severity: low, condition: checkout }\n- { id: x, name: m, severity: low, condition: payment.charge }\n');
    expect(rules).toHaveLength(1);
    expect(diagnostics).toEqual([expect.objectContaining({ message: 'rule id `x` is used twice (rules #1 and #2); ids are unique per tenant', startLine: 2 })]);
  });

  it('reads several YAML documents and reports YAML errors as diagnostics', () => {
    expect(parseRuleFile('rules:\n  - { id: a, name: n, severity: low, condition: x }\n---\nrules:\n  - { id: b, name: n, severity: low, condition: y }\n').rules.map((r) => r.id)).toEqual(['a', 'b']);
    const bad = parseRuleFile('rules: [\n');
    expect(bad.rules).toEqual([]);
    expect(bad.diagnostics[0].message).toMatch(/^YAML: /);
    expect(parseRuleFile('just text').diagnostics[0].message).toBe('a rule file holds `rules:` with a list of rules');
  });
});

describe('validateRuleDefinition', () => {
  it('validates JSON from the API', () => {
    expect(validateRuleDefinition({ id: 'x', name: 'n', severity: 'high', condition: 'a.where(b > 1)' }).rule).toEqual({
      id: 'x',
      name: 'n',
      severity: 'high',
      enabled: true,
      condition: 'a.where(b > 1)',
    });
    const bad = validateRuleDefinition({ id: 'x', name: 'n', severity: 'high', condition: 'a.where(b >)' });
    expect(bad.rule).toBeUndefined();
    expect(bad.diagnostics).toEqual([expect.objectContaining({ field: 'condition', startLine: 1, startColumn: 12 })]);
    expect(validateRuleDefinition('nope').diagnostics[0].message).toBe('a rule must be an object');
  });

  it('reports every problem of every rule, sorted by line, whatever the order of the fields', () => {
    const text = [
      'rules:',
      '  - id: Bad_Id',
      '    condition: "trace.cnt(http.retry) > 3"',
      '    name: 5',
      '    severity: urgent',
      '  - id: two',
      '    condition: "a.before(b, within 5 s)"',
      '    enabled: yes',
      '  - name: three',
      '    severity: low',
      '    compliance: soc2',
      '    condition: checkout',
    ].join('\n');
    const { rules, diagnostics } = parseRuleFile(text);
    expect(rules).toEqual([]);
    expect(diagnostics.map((d) => `${d.startLine}:${d.startColumn} ${d.severity} ${d.message}`)).toEqual([
      "2:9 error rule id `Bad_Id` must match [a-z0-9][a-z0-9-_.]* (lowercase letters, digits, '-', '_', '.')",
      '3:23 error unknown function `trace.cnt`; did you mean `trace.count`?',
      '4:11 error `name` must be a string',
      '5:15 error severity must be one of info, low, medium, high, critical; got "urgent"',
      '6:5 error rule `two` needs a `name`',
      '6:5 error rule `two` needs a `severity` (info, low, medium, high, critical)',
      '7:36 error a duration is written without a space before its unit: `5s`',
      '8:14 error `enabled` must be true or false',
      '9:5 error rule #3 needs an `id`',
      '11:17 error `compliance` must be a list of { framework, control }',
    ]);
  });

  it('a YAML error keeps only its own rule from being read', () => {
    const text = 'rules:\n  - { id: a, name: n, severity: low, condition: checkout }\n  - { id: b, name: n, severity: low, condition: x: y }\n  - { id: c, severity: low, condition: checkout }\n';
    const { rules, diagnostics } = parseRuleFile(text);
    expect(rules.map((r) => r.id)).toEqual(['a']);
    expect(diagnostics.map((d) => `${d.startLine} ${d.message.slice(0, 5)}`)).toEqual(['3 YAML:', '4 rule ']);
  });

  it('a message placeholder that can never render is an error at its place in the file', () => {
    const text = [
      'rules:',
      '  - id: charge',
      '    name: n',
      '    severity: low',
      '    message: "charge {p.amount} by {nope.user} in {trace.root.nam}"',
      '    condition: "when { p: payment.charge } always { fraud.check }"',
      '  - id: unbound',
      '    name: n',
      '    severity: low',
      '    message: "{p.amount}"',
      '    condition: payment.charge',
    ].join('\n');
    const { rules, diagnostics } = parseRuleFile(text);
    expect(rules).toEqual([]);
    expect(diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', code: 'unknown-placeholder', field: 'message', ruleId: 'charge', message: 'unknown variable in placeholder `{nope.user}`: the bound span is `p`', startLine: 5, startColumn: 36, endLine: 5, endColumn: 47 }),
      expect.objectContaining({ message: 'unknown placeholder `{trace.root.nam}`; did you mean `{trace.root.name}`?', startLine: 5, startColumn: 51, endLine: 5, endColumn: 67 }),
      expect.objectContaining({ ruleId: 'unbound', message: 'unknown variable in placeholder `{p.amount}`: the condition binds no span (`when { p: … }`)', startLine: 10, startColumn: 15, endLine: 10, endColumn: 25 }),
    ]);
    const json = validateRuleDefinition({ id: 'x', name: 'n', severity: 'low', message: 'by {q.user}', condition: 'when { p: payment.charge } always { fraud.check }' });
    expect(json.rule).toBeUndefined();
    expect(json.diagnostics).toEqual([expect.objectContaining({ message: 'unknown variable in placeholder `{q.user}`: the bound span is `p`; did you mean `{p.user}`?', startLine: 1, startColumn: 4, endColumn: 12 })]);
  });

  it("checks each rule's one-letter names against the span names of the file's other rules", () => {
    const text = 'rules:\n  - { id: a, name: n, severity: low, condition: "when { p: x } always { y }" }\n  - { id: b, name: n, severity: low, condition: "x and z" }\n';
    const { diagnostics } = parseRuleFile(text);
    // `x` is used by both rules; `y` and `z` by one only.
    expect(diagnostics.map((d) => `${d.ruleId} ${d.message.split(';')[0]}`)).toEqual([
      'a `y` is read as a span name, and no known span has that name',
      'b `z` is read as a span name, and no known span has that name',
    ]);
    expect(parseRuleFile(text, undefined, { vocabulary: { spanNames: ['y', 'z'] } }).diagnostics).toEqual([]);
  });
});
