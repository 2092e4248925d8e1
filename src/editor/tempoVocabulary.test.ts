import { of, throwError } from 'rxjs';
import tagValues from '../../tests/fixtures/tempo/search-tag-values-v2-response.json';
import { loadTempoVocabulary, tempoProxyUrl, vocabularyFromTempo } from './tempoVocabulary';

const fetchMock = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: fetchMock }),
}));

const tags = {
  scopes: [
    { name: 'span', tags: ['http.method', 'amount', 'amount'] },
    { name: 'resource', tags: ['service.name', 'deployment.environment'] },
    { name: 'intrinsic', tags: ['duration', 'name'] },
  ],
};

describe('vocabularyFromTempo', () => {
  it('takes span names from the name tag values and attributes by scope, sorted and unique', () => {
    expect(
      vocabularyFromTempo(tags, {
        tagValues: [
          { type: 'string', value: 'b' },
          { type: 'string', value: 'a' },
          { type: 'string', value: 'b' },
        ],
      })
    ).toEqual({
      spanNames: ['a', 'b'],
      spanAttributes: ['amount', 'http.method'],
      resourceAttributes: ['deployment.environment', 'service.name'],
    });
  });

  it('reads Tempo’s real tag values answer and tolerates empty ones', () => {
    expect(vocabularyFromTempo({}, tagValues).spanNames).toEqual(
      [...new Set(tagValues.tagValues.map((v) => v.value))].sort((a, b) => a.localeCompare(b))
    );
    expect(vocabularyFromTempo({}, {})).toEqual({ spanNames: [], spanAttributes: [], resourceAttributes: [] });
  });
});

describe('loadTempoVocabulary', () => {
  beforeEach(() => fetchMock.mockReset());

  it('asks the Tempo datasource’s proxy for tags and span names', async () => {
    fetchMock.mockImplementation(({ url }: { url: string }) =>
      of({
        data: url.endsWith('/api/v2/search/tags') ? tags : { tagValues: [{ type: 'string', value: 'payment.charge' }] },
      })
    );
    await expect(loadTempoVocabulary('my tempo')).resolves.toEqual({
      spanNames: ['payment.charge'],
      spanAttributes: ['amount', 'http.method'],
      resourceAttributes: ['deployment.environment', 'service.name'],
    });
    expect(fetchMock.mock.calls.map(([o]) => o.url)).toEqual([
      '/api/datasources/proxy/uid/my%20tempo/api/v2/search/tags',
      '/api/datasources/proxy/uid/my%20tempo/api/v2/search/tag/name/values',
    ]);
    expect(tempoProxyUrl('tempo', '/x')).toBe('/api/datasources/proxy/uid/tempo/x');
  });

  it('fails when Tempo fails (the editor then completes the language’s own words)', async () => {
    fetchMock.mockReturnValue(throwError(() => ({ status: 502 })));
    await expect(loadTempoVocabulary('tempo')).rejects.toEqual({ status: 502 });
  });
});
