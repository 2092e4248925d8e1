import { evidenceOutcomesQuery, evidenceSpanset, traceqlString } from './traceql';

describe('traceqlString', () => {
  it.each([
    ['CC6.1', '"CC6.1"'],
    ['164.312(b)', '"164.312(b)"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['two\nlines\tand\rreturn', '"two\\nlines\\tand\\rreturn"'],
    ['ünïcode ✓', '"ünïcode ✓"'],
    ['', '""'],
  ])('quotes %j as %s', (value, literal) => {
    expect(traceqlString(value)).toBe(literal);
  });

  it('refuses control characters it cannot write, naming the character', () => {
    expect(() => traceqlString('a\u0000b')).toThrow('a TraceQL string cannot hold the control character U+0000');
    expect(() => traceqlString('\u007f')).toThrow('U+007F');
  });
});

describe('evidence queries', () => {
  it('selects every evidence span when nothing is chosen', () => {
    expect(evidenceSpanset({})).toBe('{ resource.service.name = "betrace" && name = "compliance.evidence" }');
  });

  it('narrows to a framework and a control, quoted', () => {
    expect(evidenceSpanset({ framework: 'hipaa', control: '164.312(b)' })).toBe(
      '{ resource.service.name = "betrace" && name = "compliance.evidence" && span.compliance.framework = "hipaa" && span.compliance.control = "164.312(b)" }'
    );
  });

  it('cannot be broken out of by a value', () => {
    expect(evidenceSpanset({ control: '" } || { true' })).toBe(
      '{ resource.service.name = "betrace" && name = "compliance.evidence" && span.compliance.control = "\\" } || { true" }'
    );
  });

  it('counts records over time per control and outcome', () => {
    expect(evidenceOutcomesQuery({ framework: 'soc2', control: 'CC6.1' })).toBe(
      '{ resource.service.name = "betrace" && name = "compliance.evidence" && span.compliance.framework = "soc2" && span.compliance.control = "CC6.1" } | count_over_time() by (span.compliance.control, span.compliance.outcome)'
    );
  });
});
