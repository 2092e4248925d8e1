import { formatObjective, formatWindow, MAX_SLO_WINDOW_MS, MIN_SLO_WINDOW_MS, parseObjective, parseRuleFile, sloText, validateRuleDefinition } from '@betrace/evaluator';

const rule = (slo: string) => `rules:\n  - id: checkout-ok\n    name: Checkouts complete\n    severity: high\n    slo: ${slo}\n    condition: checkout\n`;

describe('the slo field of a rule', () => {
  it('is parsed into a fraction and milliseconds', () => {
    const { rules, diagnostics } = parseRuleFile(rule('{ objective: 99.9%, window: 30d }'));
    expect(diagnostics).toEqual([]);
    expect(rules[0].slo).toEqual({ objective: 0.999, windowMs: 2_592_000_000 });
  });

  it('reads a block mapping, quoted values, hours and weeks', () => {
    expect(parseRuleFile(rule('\n      objective: "99.95 %"\n      window: 720h')).rules[0].slo).toEqual({ objective: 0.9995, windowMs: 2_592_000_000 });
    expect(parseRuleFile(rule('{ objective: "95%", window: 4w }')).rules[0].slo).toEqual({ objective: 0.95, windowMs: 28 * 86_400_000 });
  });

  it('keeps decimal objectives exact', () => {
    expect([parseObjective('99.9%'), parseObjective('99.99%'), parseObjective('99.999%'), parseObjective('90%'), parseObjective('0.5%')]).toEqual([0.999, 0.9999, 0.99999, 0.9, 0.005]);
  });

  it.each<[string, string]>([
    ['{ objective: 99.9, window: 30d }', '`slo.objective` must be a percentage strictly between 0 and 100 followed by %, e.g. "99.9%"; got 99.9'],
    ['{ objective: 100%, window: 30d }', '`slo.objective` must be a percentage strictly between 0 and 100 followed by %, e.g. "99.9%"; got "100%"'],
    ['{ objective: 0%, window: 30d }', '`slo.objective` must be a percentage strictly between 0 and 100 followed by %, e.g. "99.9%"; got "0%"'],
    ['{ objective: 101%, window: 30d }', '`slo.objective` must be a percentage strictly between 0 and 100 followed by %, e.g. "99.9%"; got "101%"'],
    ['{ window: 30d }', '`slo` needs an `objective`, a percentage such as "99.9%"'],
    ['{ objective: 99%, window: 30 }', '`slo.window` must be a duration with its unit (h, d or w), e.g. 30d; got 30'],
    ['{ objective: 99%, window: 30x }', '`slo.window` must be a duration with its unit (h, d or w), e.g. 30d; got "30x"'],
    ['{ objective: 99% }', '`slo` needs a `window`, a duration with its unit between 1d and 90d, e.g. 30d'],
    ['{ objective: 99%, window: 23h }', '`slo.window` must be between 1d and 90d; got 23h'],
    ['{ objective: 99%, window: 91d }', '`slo.window` must be between 1d and 90d; got 91d'],
    ['{ objective: 99%, window: 30d, target: 1 }', '`slo.target` is not a field of `slo` (objective, window)'],
    ['99.9%', '`slo` must be a mapping { objective, window }, e.g. { objective: "99.9%", window: 30d }'],
  ])('refuses %s, naming the field', (slo, message) => {
    const { rules, diagnostics } = parseRuleFile(rule(slo));
    expect(rules).toEqual([]);
    expect(diagnostics).toEqual([{ severity: 'error', message, ruleId: 'checkout-ok', ruleIndex: 0, field: 'slo', startLine: 5, startColumn: 10, endLine: 5, endColumn: 10 + slo.length }]);
  });

  it('takes windows at its limits and refuses one past them', () => {
    const at = (ms: number) => validateRuleDefinition({ id: 'x', name: 'n', severity: 'low', condition: 'trace.count(checkout) > 0', slo: { objective: '99%', window: formatWindow(ms) } });
    expect(at(MIN_SLO_WINDOW_MS).rule?.slo?.windowMs).toBe(MIN_SLO_WINDOW_MS);
    expect(at(MAX_SLO_WINDOW_MS).rule?.slo?.windowMs).toBe(MAX_SLO_WINDOW_MS);
    expect(at(MIN_SLO_WINDOW_MS - 3_600_000).diagnostics).toEqual([expect.objectContaining({ field: 'slo', message: '`slo.window` must be between 1d and 90d; got 23h' })]);
    expect(at(MAX_SLO_WINDOW_MS + 86_400_000).diagnostics).toEqual([expect.objectContaining({ field: 'slo', message: '`slo.window` must be between 1d and 90d; got 91d' })]);
  });

  it('is taken back in the form the API answers it, so a rule read can be sent again', () => {
    const first = validateRuleDefinition({ id: 'x', name: 'n', severity: 'low', condition: 'trace.count(checkout) > 0', slo: { objective: '99.5%', window: '7d' } }).rule!;
    expect(first.slo).toEqual({ objective: 0.995, windowMs: 604_800_000 });
    expect(validateRuleDefinition(JSON.parse(JSON.stringify(first))).rule).toEqual(first);
    expect(validateRuleDefinition({ ...first, slo: { objective: 99.5, windowMs: 604_800_000 } }).diagnostics).toEqual([
      expect.objectContaining({ field: 'slo', message: '`slo.objective` as a fraction must be strictly between 0 and 1; got 99.5' }),
    ]);
  });

  it('is written back as users write it', () => {
    expect(sloText({ objective: 0.999, windowMs: 2_592_000_000 })).toEqual({ objective: '99.9%', window: '30d' });
    expect([formatObjective(0.99999), formatObjective(0.95), formatWindow(36 * 3_600_000)]).toEqual(['99.999%', '95%', '36h']);
  });
});
