import { parseRule, pushdownRule } from '@betrace/evaluator';
import { parseTraceQL } from '../../../tests/support/traceql';

function pushdown(rule: string) {
  const parsed = parseRule(rule);
  if (!parsed.ast) {
    throw new Error(JSON.stringify(parsed.diagnostics));
  }
  return pushdownRule(parsed.ast);
}

describe('pushdownRule', () => {
  it.each<[string, string]>([
    ['when { payment.charge.where(currency == "USD") } always { payment.fraud_check }', '{ name = "payment.charge" && span.currency = "USD" }'],
    [
      'when { payment.charge.where(amount > 1000) } always { payment.fraud_check }',
      '{ name = "payment.charge" && (span.amount > 1000 || span.amount =~ "\\\\s*[-+]?([0-9]+\\\\.?[0-9]*|\\\\.[0-9]+)([eE][-+]?[0-9]+)?\\\\s*") }',
    ],
    ['when { payment.charge } never { payment.auto_approve or payment.skip_verification }', '{ name = "payment.charge" } && ({ name = "payment.auto_approve" } || { name = "payment.skip_verification" })'],
    ['when { payment.charge } always { payment.fraud_check } never { payment.auto_approve }', '{ name = "payment.charge" }'],
    ['trace.has(payment.charge) and not trace.has(payment.fraud_check)', '{ name = "payment.charge" }'],
    ['trace.count(http.retry) > 3', '{ name = "http.retry" }'],
    ['count(http.retry) < 3', '{}'],
    ['max(db.query, duration) > 2s', '{ name = "db.query" }'],
    ['all(db.query).where(duration < 2s)', '{}'],
    ['trace.has_error', '{ status = error }'],
    ['trace.root.name == "GET /" and trace.root.service == web', '{ rootName = "GET /" } && { rootServiceName = "web" }'],
    ['trace.duration > 10s', '{}'],
    ['*.where(duration > 250ms and status == error and kind == server)', '{ duration > 250000000ns && status = error && kind = server }'],
    ['*.where(service == checkout and status_message != "")', '{ resource.service.name = "checkout" && statusMessage != "" }'],
    ['*.where(resource.deployment.environment == prod and "http.route" == "/a b")', '{ resource.deployment.environment = "prod" && span.http.route = "/a b" }'],
    ['*.where("odd key" == "x")', '{ span."odd key" = "x" }'],
    ['*.where(currency in [USD, "EUR"])', '{ (span.currency = "USD" || span.currency = "EUR") }'],
    [
      '*.where(currency in ["USD", 5])',
      '{ (span.currency = "USD" || (span.currency = 5 || span.currency =~ "\\\\s*[-+]?([0-9]+\\\\.?[0-9]*|\\\\.[0-9]+)([eE][-+]?[0-9]+)?\\\\s*")) }',
    ],
    ['*.where(code == "404")', '{}'],
    ['*.where(currency != "USD")', '{}'],
    ['*.where(name matches "^GET ")', '{ name =~ "(?s).*(?:^GET ).*" }'],
    ['*.where(exists("user.id") and verified)', '{ span.user.id != nil && span.verified = true }'],
    ['*.where(not verified)', '{}'],
    ['*.where(a == "x" or b == "y")', '{ (span.a = "x" || span.b = "y") }'],
    ['*.where(a == "x" or not b)', '{}'],
    ['db.query.child_of(payment.charge)', '{ name = "db.query" } && { name = "payment.charge" }'],
    ['when { p: payment.charge } always { fraud.before(p, within 5s) }', '{ name = "payment.charge" }'],
    ['when { p: payment.charge } never { refund.where(order_id == p.order_id) }', '{ name = "payment.charge" } && { name = "refund" }'],
    ['span("say \\"hi\\"")', '{ name = "say \\"hi\\"" }'],
  ])('%s', (rule, expected) => {
    const p = pushdown(rule);
    expect(p.query).toBe(expected);
    expect(p.fullScan).toBe(expected === '{}');
    expect(() => parseTraceQL(p.query)).not.toThrow();
  });
});
