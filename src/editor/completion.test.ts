import { attributeRef, completionsAt, openCall, spanNameSelector } from './completion';
import type { TraceVocabulary } from './vocabulary';

const vocabulary: TraceVocabulary = {
  spanNames: ['payment.charge', 'payment.fraud_check', 'GET /api/users/{id}'],
  spanAttributes: ['amount', 'http.status_code', 'status'],
  resourceAttributes: ['deployment.environment'],
};

const labels = (before: string) =>
  completionsAt(before, vocabulary).items.map((i) => `${i.kind}:${i.label}=>${i.insertText}`);

describe('completionsAt', () => {
  it('offers keywords, functions, trace fields and span names at the start of a term', () => {
    const r = completionsAt('when { ', vocabulary);
    expect(r.replaceLength).toBe(0);
    expect(labels('when { ')).toEqual([
      ...[
        'when',
        'always',
        'never',
        'and',
        'or',
        'not',
        'in',
        'matches',
        'contains',
        'within',
        'true',
        'false',
        'null',
      ].map((k) => `keyword:${k}=>${k}`),
      ...['count', 'min', 'max', 'sum', 'avg', 'all', 'exists', 'span'].map((f) => `function:${f}=>${f}(`),
      ...['trace.duration', 'trace.span_count', 'trace.root.name', 'trace.root.service', 'trace.has_error'].map(
        (f) => `field:${f}=>${f}`
      ),
      'span:payment.charge=>payment.charge',
      'span:payment.fraud_check=>payment.fraud_check',
      'span:GET /api/users/{id}=>span("GET /api/users/{id}")',
    ]);
  });

  it('after a dotted word offers methods and the span names it begins, replacing the whole word', () => {
    const r = completionsAt('when { payment.', vocabulary);
    expect(r.replaceLength).toBe('payment.'.length);
    expect(labels('when { payment.')).toEqual([
      'method:where=>payment.where(',
      'method:child_of=>payment.child_of(',
      'method:parent_of=>payment.parent_of(',
      'method:descendant_of=>payment.descendant_of(',
      'method:ancestor_of=>payment.ancestor_of(',
      'method:sibling_of=>payment.sibling_of(',
      'method:before=>payment.before(',
      'method:after=>payment.after(',
      'span:payment.charge=>payment.charge',
      'span:payment.fraud_check=>payment.fraud_check',
    ]);
  });

  it('after a call offers only methods', () => {
    expect(labels('payment.charge.where(amount > 1).')).toEqual([
      'method:where=>where(',
      'method:child_of=>child_of(',
      'method:parent_of=>parent_of(',
      'method:descendant_of=>descendant_of(',
      'method:ancestor_of=>ancestor_of(',
      'method:sibling_of=>sibling_of(',
      'method:before=>before(',
      'method:after=>after(',
    ]);
  });

  it('inside where(…) offers intrinsics and attributes, scoping the ones a bare name cannot say', () => {
    const r = completionsAt('payment.charge.where(am', vocabulary);
    expect(r.replaceLength).toBe(2);
    expect(labels('payment.charge.where(am')).toEqual([
      'field:name=>name',
      'field:duration=>duration',
      'field:status=>status',
      'field:status_message=>status_message',
      'field:kind=>kind',
      'field:service=>service',
      'attribute:amount=>amount',
      'attribute:http.status_code=>span.http.status_code',
      'attribute:status=>span.status',
      'attribute:resource.deployment.environment=>resource.deployment.environment',
      ...['and', 'or', 'not', 'in', 'matches', 'contains', 'true', 'false', 'null'].map((k) => `keyword:${k}=>${k}`),
      'function:exists=>exists(',
    ]);
  });

  it('offers the values of status and kind', () => {
    expect(labels('a.where(status == ')).toEqual(['value:ok=>ok', 'value:error=>error', 'value:unset=>unset']);
    expect(labels('a.where(x > 1 and kind != se')).toEqual(
      ['server', 'client', 'producer', 'consumer', 'internal', 'unspecified'].map((k) => `value:${k}=>${k}`)
    );
  });

  it('offers scoped attributes and trace fields after their scope', () => {
    expect(completionsAt('a.where(span.ht', vocabulary)).toEqual({
      replaceLength: 'span.ht'.length,
      items: ['span.amount', 'span.http.status_code', 'span.status'].map((l) => ({
        label: l,
        kind: 'attribute',
        insertText: l,
      })),
    });
    expect(labels('a.where(resource.')).toEqual([
      'attribute:resource.deployment.environment=>resource.deployment.environment',
    ]);
    expect(labels('trace.r')).toEqual(
      ['trace.duration', 'trace.span_count', 'trace.root.name', 'trace.root.service', 'trace.has_error'].map(
        (f) => `field:${f}=>${f}`
      )
    );
  });

  it('offers nothing inside a string or a comment', () => {
    expect(completionsAt('span("GET ', vocabulary)).toEqual({ replaceLength: 0, items: [] });
    expect(completionsAt("a.where(x == 'y", vocabulary)).toEqual({ replaceLength: 0, items: [] });
    expect(completionsAt('a # note ', vocabulary)).toEqual({ replaceLength: 0, items: [] });
  });
});

describe('openCall', () => {
  it('names the innermost open call, ignoring brackets in strings', () => {
    expect(openCall('a.where(x > 1 and count(b')).toBe('count');
    expect(openCall('a.where(x > 1 and count(b) > 2 ')).toBe('where');
    expect(openCall('a.where(name == ")(" and ')).toBe('where');
    expect(openCall('a.where(name == ")(") and ')).toBeUndefined();
    expect(openCall('a.where(x)')).toBeUndefined();
  });
});

describe('spanNameSelector / attributeRef', () => {
  it('quotes what an identifier cannot say', () => {
    expect(spanNameSelector('payment.charge')).toBe('payment.charge');
    expect(spanNameSelector('GET /x')).toBe('span("GET /x")');
    expect(spanNameSelector('db.in')).toBe('span("db.in")');
    expect(attributeRef('amount', 'span')).toBe('amount');
    expect(attributeRef('duration', 'span')).toBe('span.duration');
    expect(attributeRef('service.name', 'resource')).toBe('resource.service.name');
  });
});
