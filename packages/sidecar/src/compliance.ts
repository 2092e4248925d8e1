/**
 * `@betrace/sidecar/compliance`: for Node services that mark their own operations as compliance
 * evidence, with the attribute names BeTrace's evidence spans use (the telemetry contract), so the
 * same TraceQL queries and dashboards find both. A wrapper (`withCompliance`) and method
 * decorators (`@SOC2('CC6.1')`, `@HIPAA('164.312(b)')` …) around an OpenTelemetry span. These
 * spans are not signed: the signing keys stay with BeTrace.
 */
import { Attributes, Span, SpanStatusCode, trace, Tracer } from '@opentelemetry/api';

export interface ComplianceOptions {
  /** e.g. `SOC2`, `HIPAA`, `PCI-DSS`; written in the contract's lower-case form (`soc2`, `pci-dss`). */
  framework: string;
  /** e.g. `CC6.1`, `164.312(b)`. */
  control: string;
  /** `compliance.evidence_type`, e.g. `access_check`, `audit_log`. */
  evidenceType?: string;
  /** Further span attributes. */
  attributes?: Attributes;
  /** Span name; default `compliance.evidence`. */
  name?: string;
  /** Default: the global provider's `betrace-compliance` tracer. */
  tracer?: Tracer;
}

const FRAMEWORKS: Record<string, string> = { pcidss: 'pci-dss', iso27001: 'iso27001', soc2: 'soc2', hipaa: 'hipaa', gdpr: 'gdpr' };

/** `SOC2` → `soc2`, `PCI DSS` / `pci_dss` → `pci-dss`, `ISO 27001` → `iso27001`; others lower-cased. */
export function normalizeFramework(framework: string): string {
  const compact = framework.toLowerCase().replace(/[\s_-]+/g, '');
  return FRAMEWORKS[compact] ?? framework.trim().toLowerCase();
}

/** The contract's attributes for a compliance span (without the outcome). */
export function complianceAttributes(options: Pick<ComplianceOptions, 'framework' | 'control' | 'evidenceType'>): Attributes {
  if (options.framework.trim() === '' || options.control.trim() === '') {
    throw new TypeError('a compliance span needs a framework and a control, e.g. { framework: "SOC2", control: "CC6.1" }');
  }
  const attrs: Attributes = { 'compliance.framework': normalizeFramework(options.framework), 'compliance.control': options.control };
  if (options.evidenceType !== undefined) {
    attrs['compliance.evidence_type'] = options.evidenceType;
  }
  return attrs;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Runs `fn` inside a `compliance.evidence` span (the active span while it runs). The outcome is
 * `pass` when it returns (or its promise resolves), `fail` when it throws (or rejects), with the
 * exception recorded and the span's status set to error; the error is rethrown unchanged.
 */
export function withCompliance<T>(options: ComplianceOptions, fn: (span: Span) => T): T {
  const attributes = { ...options.attributes, ...complianceAttributes(options) };
  const tracer = options.tracer ?? trace.getTracer('betrace-compliance');
  return tracer.startActiveSpan(options.name ?? 'compliance.evidence', { attributes }, (span) => {
    const pass = () => {
      span.setAttribute('compliance.outcome', 'pass');
      span.end();
    };
    const fail = (e: unknown) => {
      span.setAttribute('compliance.outcome', 'fail');
      span.recordException(e instanceof Error ? e : String(e));
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      span.end();
    };
    let result: T;
    try {
      result = fn(span);
    } catch (e) {
      fail(e);
      throw e;
    }
    if (isThenable(result)) {
      return result.then(
        (v) => {
          pass();
          return v;
        },
        (e: unknown) => {
          fail(e);
          throw e;
        },
      ) as T;
    }
    pass();
    return result;
  });
}

type Method = (this: never, ...args: never[]) => unknown;

/** A method decorator for both TypeScript 5 (standard) decorators and `experimentalDecorators`. */
export interface ComplianceDecorator {
  <M extends Method>(value: M, context: ClassMethodDecoratorContext): M;
  (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor;
}

/** Wraps every call of the method in `withCompliance`, with `code.function` = the method's name. */
export function Compliance(framework: string, control: string, options: Omit<ComplianceOptions, 'framework' | 'control'> = {}): ComplianceDecorator {
  complianceAttributes({ framework, control }); // a wrong decorator fails when the class is defined, not on first call
  const wrap = (method: Method, name: string): Method =>
    function (this: unknown, ...args: never[]) {
      return withCompliance({ ...options, framework, control, attributes: { 'code.function': name, ...options.attributes } }, () => method.apply(this as never, args));
    };
  return ((target: unknown, key: unknown, descriptor?: PropertyDescriptor) => {
    if (typeof key === 'object' && key !== null && (key as { kind?: string }).kind === 'method') {
      return wrap(target as Method, String((key as ClassMethodDecoratorContext).name));
    }
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      throw new TypeError(`@${framework}('${control}') decorates methods only`);
    }
    descriptor.value = wrap(descriptor.value as Method, String(key));
    return descriptor;
  }) as ComplianceDecorator;
}

type Options = Omit<ComplianceOptions, 'framework' | 'control'>;
export const SOC2 = (control: string, options?: Options): ComplianceDecorator => Compliance('soc2', control, options);
export const HIPAA = (control: string, options?: Options): ComplianceDecorator => Compliance('hipaa', control, options);
export const GDPR = (control: string, options?: Options): ComplianceDecorator => Compliance('gdpr', control, options);
export const PCIDSS = (control: string, options?: Options): ComplianceDecorator => Compliance('pci-dss', control, options);
export const ISO27001 = (control: string, options?: Options): ComplianceDecorator => Compliance('iso27001', control, options);
