/**
 * The API's answers against its own OpenAPI document: a status the route does not document, a
 * media type it does not list, or a JSON body its schema rejects is an error naming the route.
 * Tests hook it into their request helpers, so every answer they get is checked.
 */
import { createRequire } from 'module';

// ajv 8 (fastify's) with its formats, from ajv-formats' own dependency: the top-level ajv is v6.
const requireFormats = createRequire(require.resolve('ajv-formats'));
 
const Ajv2020 = requireFormats('ajv/dist/2020').default as new (o: object) => AjvLike;
 
const addFormats = require('ajv-formats').default as (ajv: AjvLike) => void;

interface AjvLike {
  addSchema(schema: object): void;
  compile(schema: object): ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
  errorsText(errors: unknown, o?: object): string;
}

type Operation = { responses: Record<string, { content?: Record<string, { schema: object }> }> };
export type OpenApiDoc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, object> } };

/** `#/components/schemas/X` → `betrace#/$defs/X`: the components compiled once, as one schema. */
const rebase = <T>(o: T): T => JSON.parse(JSON.stringify(o).replace(/"#\/components\/schemas\//g, '"betrace#/$defs/'));

export class ApiContract {
  private readonly ajv: AjvLike;
  private readonly templates: Array<{ path: string; re: RegExp; params: number }>;
  private readonly compiled = new Map<string, ReturnType<AjvLike['compile']>>();
  /** `METHOD /path/{template} STATUS` of every answer checked. */
  readonly seen = new Set<string>();

  constructor(readonly doc: OpenApiDoc) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'betrace', $defs: rebase(doc.components.schemas) });
    // Static segments before parameters: /signals/summary is not /signals/{id}.
    this.templates = Object.keys(doc.paths)
      .map((p) => ({
        path: p,
        params: (p.match(/\{/g) ?? []).length,
        re: new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      }))
      .sort((a, b) => a.params - b.params);
  }

  /** The contract of the API at `base` (its document needs no token). */
  static async of(base: string): Promise<ApiContract> {
    const res = await fetch(`${base}/api/v1/openapi.json`);
    if (res.status !== 200) {
      throw new Error(`GET /api/v1/openapi.json answered ${res.status}`);
    }
    return new ApiContract((await res.json()) as OpenApiDoc);
  }

  /** The documented path of a URL (`/api/v1/rules/abc?x=1` → `/api/v1/rules/{id}`). */
  route(url: string): string | undefined {
    const p = decodeURI(url.split('?')[0]);
    return this.templates.find((t) => t.re.test(p))?.path;
  }

  /** Throws unless the answer is one the document gives for this route. */
  check(method: string, url: string, status: number, contentType: string | null, text: string): void {
    const route = this.route(url);
    const m = method.toLowerCase();
    const where = `${method.toUpperCase()} ${route ?? url} answered ${status}`;
    const op = route === undefined ? undefined : this.doc.paths[route][m];
    if (!op) {
      throw new Error(`${method.toUpperCase()} ${url}: not in the OpenAPI document`);
    }
    const documented = op.responses[String(status)];
    if (!documented) {
      throw new Error(`${where}, a status the OpenAPI document does not list (it lists ${Object.keys(op.responses).join(', ')}): ${text.slice(0, 200)}`);
    }
    this.seen.add(`${method.toUpperCase()} ${route} ${status}`);
    if (documented.content === undefined) {
      if (text !== '') {
        throw new Error(`${where} with a body, where the document says none: ${text.slice(0, 200)}`);
      }
      return;
    }
    const type = (contentType ?? '').split(';')[0].trim();
    const media = documented.content[type];
    if (!media) {
      throw new Error(`${where} with Content-Type ${JSON.stringify(type)}; the document lists ${Object.keys(documented.content).join(', ')}`);
    }
    if (type !== 'application/json') {
      return;
    }
    const key = `${m} ${route} ${status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rebase(media.schema));
      this.compiled.set(key, validate);
    }
    if (!validate(JSON.parse(text))) {
      throw new Error(`${where} with a body its documented schema rejects: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}: ${text.slice(0, 300)}`);
    }
  }
}
