import type { monacoTypes } from '@grafana/ui';
import { FUNCTIONS, INTRINSICS, KEYWORDS, METHODS } from './vocabulary';

export const LANGUAGE_ID = 'betrace';

/**
 * The Monarch tokenizer of the rule language, from the grammar's lexical rules: keywords,
 * `#` and `//` comments, both string quotes with escapes, durations before numbers (so `5s`
 * is one token), comparison operators, and a method name before `(` after a dot.
 */
export function monarchLanguage(): monacoTypes.languages.IMonarchLanguage {
  return {
    defaultToken: '',
    keywords: [...KEYWORDS],
    intrinsics: [...INTRINSICS],
    methods: [...METHODS],
    functions: [...FUNCTIONS],
    operators: ['==', '!=', '<=', '>=', '<', '>', '=~', '!~', '&&', '||', '!'],
    symbols: /[=><!~&|]+/,
    escapes: /\\(?:["'\\/nrtbf]|u[0-9A-Fa-f]{4})/,
    tokenizer: {
      root: [
        [/(#|\/\/).*$/, 'comment'],
        [/\.([a-zA-Z_]\w*)(?=\s*\()/, { cases: { '$1@methods': 'keyword.method', '@default': 'identifier' } }],
        [/[a-zA-Z_]\w*(?=\s*:(?!:))/, 'variable'],
        [
          /[a-zA-Z_]\w*/,
          {
            cases: {
              '@keywords': 'keyword',
              '@intrinsics': 'type.intrinsic',
              '@functions': 'predefined',
              '@default': 'identifier',
            },
          },
        ],
        [/-?\d+(\.\d+)?(ns|us|µs|ms|s|m|h)(?![\w])/, 'number.duration'],
        [/-?\d+(\.\d+)?([eE][+-]?\d+)?/, 'number'],
        [/"/, 'string', '@dqString'],
        [/'/, 'string', '@sqString'],
        [/[{}()[\]]/, '@brackets'],
        [/@symbols/, { cases: { '@operators': 'operator', '@default': '' } }],
        [/[.,:*]/, 'delimiter'],
        [/\s+/, 'white'],
      ],
      dqString: [
        [/[^\\"\n]+/, 'string'],
        [/@escapes/, 'string.escape'],
        [/\\./, 'string.escape.invalid'],
        [/"/, 'string', '@pop'],
        [/$/, 'string.invalid', '@pop'],
      ],
      sqString: [
        [/[^\\'\n]+/, 'string'],
        [/@escapes/, 'string.escape'],
        [/\\./, 'string.escape.invalid'],
        [/'/, 'string', '@pop'],
        [/$/, 'string.invalid', '@pop'],
      ],
    },
  };
}

/** Brackets, comments and auto-closing pairs for the editor. */
export const languageConfiguration: monacoTypes.languages.LanguageConfiguration = {
  comments: { lineComment: '//' },
  brackets: [
    ['{', '}'],
    ['(', ')'],
    ['[', ']'],
  ],
  autoClosingPairs: [
    { open: '{', close: '}' },
    { open: '(', close: ')' },
    { open: '[', close: ']' },
    { open: '"', close: '"', notIn: ['string'] },
    { open: "'", close: "'", notIn: ['string'] },
  ],
};
