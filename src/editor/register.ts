import type { Monaco, monacoTypes } from '@grafana/ui';
import { completionsAt, type CompletionKind } from './completion';
import { hoverAt } from './hover';
import { LANGUAGE_ID, languageConfiguration, monarchLanguage } from './monarch';
import { EMPTY_VOCABULARY, type TraceVocabulary } from './vocabulary';

/**
 * Monaco registers languages and providers globally per Monaco instance; the editor registers
 * the rule language once and updates the vocabulary (span and attribute names from Tempo) it completes from.
 */
const registered = new WeakMap<Monaco, { vocabulary: TraceVocabulary }>();

function kindOf(monaco: Monaco, kind: CompletionKind): monacoTypes.languages.CompletionItemKind {
  const k = monaco.languages.CompletionItemKind;
  switch (kind) {
    case 'keyword':
      return k.Keyword;
    case 'function':
      return k.Function;
    case 'method':
      return k.Method;
    case 'field':
      return k.Field;
    case 'span':
      return k.Class;
    case 'attribute':
      return k.Property;
    case 'value':
      return k.EnumMember;
  }
}

export function registerRuleLanguage(monaco: Monaco): void {
  if (registered.has(monaco)) {
    return;
  }
  const holder = { vocabulary: EMPTY_VOCABULARY };
  registered.set(monaco, holder);
  monaco.languages.register({ id: LANGUAGE_ID });
  monaco.languages.setMonarchTokensProvider(LANGUAGE_ID, monarchLanguage());
  monaco.languages.setLanguageConfiguration(LANGUAGE_ID, languageConfiguration);
  monaco.languages.registerCompletionItemProvider(LANGUAGE_ID, {
    triggerCharacters: ['.', '('],
    provideCompletionItems(model, position) {
      const before = model.getValueInRange({
        startLineNumber: 1,
        startColumn: 1,
        endLineNumber: position.lineNumber,
        endColumn: position.column,
      });
      const result = completionsAt(before, holder.vocabulary);
      const range = {
        startLineNumber: position.lineNumber,
        endLineNumber: position.lineNumber,
        startColumn: Math.max(1, position.column - result.replaceLength),
        endColumn: position.column,
      };
      return {
        suggestions: result.items.map((c, i) => ({
          label: c.label,
          kind: kindOf(monaco, c.kind),
          insertText: c.insertText,
          detail: c.detail,
          filterText: c.insertText,
          sortText: String(i).padStart(5, '0'),
          range,
        })),
      };
    },
  });
  monaco.languages.registerHoverProvider(LANGUAGE_ID, {
    provideHover(model, position) {
      const h = hoverAt(model.getLineContent(position.lineNumber), position.column);
      return h
        ? {
            range: {
              startLineNumber: position.lineNumber,
              endLineNumber: position.lineNumber,
              startColumn: h.startColumn,
              endColumn: h.endColumn,
            },
            contents: [{ value: `**${h.word}**` }, { value: h.help }],
          }
        : null;
    },
  });
}

/** Replaces the span and attribute names completion offers. */
export function setVocabulary(monaco: Monaco, vocabulary: TraceVocabulary): void {
  const holder = registered.get(monaco);
  if (holder) {
    holder.vocabulary = vocabulary;
  }
}
