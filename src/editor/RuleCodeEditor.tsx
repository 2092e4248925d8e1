import React, { useCallback, useEffect, useRef } from 'react';
import { CodeEditor, type Monaco, type MonacoEditor } from '@grafana/ui';
import type { Diagnostic } from '@betrace/evaluator';
import { diagnosticsToMarkers } from './markers';
import { LANGUAGE_ID } from './monarch';
import { registerRuleLanguage, setVocabulary } from './register';
import { loadTempoVocabulary } from './tempoVocabulary';
import type { TraceVocabulary } from './vocabulary';

export const MARKER_OWNER = 'betrace';

export interface RuleCodeEditorProps {
  value: string;
  onChange: (value: string) => void;
  /** The evaluator's diagnostics of `value` (computed by the caller, debounced), drawn as markers. */
  diagnostics: readonly Diagnostic[];
  /** The Tempo datasource whose tag APIs feed completion. */
  tempoUid: string;
  readOnly?: boolean;
  height?: number;
  /** Ctrl/Cmd+S in the editor. */
  onSave?: () => void;
  /** Tempo's span and attribute names, once loaded: the caller checks the condition against them too. */
  onVocabulary?: (vocabulary: TraceVocabulary) => void;
}

/** Monaco (through @grafana/ui's CodeEditor) with the rule language: highlighting, markers, completion, hover. */
export function RuleCodeEditor({
  value,
  onChange,
  diagnostics,
  tempoUid,
  readOnly,
  height = 220,
  onSave,
  onVocabulary,
}: RuleCodeEditorProps) {
  const mounted = useRef<{ editor: MonacoEditor; monaco: Monaco } | undefined>(undefined);
  const diagnosticsRef = useRef(diagnostics);
  // A ref: the callback may change on every render, the vocabulary loads once per mount.
  const onVocabularyRef = useRef(onVocabulary);
  useEffect(() => {
    onVocabularyRef.current = onVocabulary;
  }, [onVocabulary]);

  const drawMarkers = useCallback(() => {
    const m = mounted.current;
    const model = m?.editor.getModel();
    if (m && model) {
      m.monaco.editor.setModelMarkers(model, MARKER_OWNER, diagnosticsToMarkers(diagnosticsRef.current));
    }
  }, []);

  useEffect(() => {
    diagnosticsRef.current = diagnostics;
    drawMarkers();
  }, [diagnostics, drawMarkers]);

  const onBeforeEditorMount = useCallback(
    (monaco: Monaco) => {
      registerRuleLanguage(monaco);
      loadTempoVocabulary(tempoUid).then(
        (v) => {
          setVocabulary(monaco, v);
          onVocabularyRef.current?.(v);
        },
        // Without Tempo, completion still offers the language's own words.
        () => undefined
      );
    },
    [tempoUid]
  );

  const onEditorDidMount = useCallback(
    (editor: MonacoEditor, monaco: Monaco) => {
      mounted.current = { editor, monaco };
      drawMarkers();
    },
    [drawMarkers]
  );

  return (
    <CodeEditor
      value={value}
      language={LANGUAGE_ID}
      height={height}
      readOnly={readOnly}
      showMiniMap={false}
      showLineNumbers
      onChange={onChange}
      onSave={onSave ? () => onSave() : undefined}
      onBeforeEditorMount={onBeforeEditorMount}
      onEditorDidMount={onEditorDidMount}
      monacoOptions={{
        fixedOverflowWidgets: true,
        scrollBeyondLastLine: false,
        wordBasedSuggestions: false,
        quickSuggestions: { other: true, strings: false, comments: false },
      }}
    />
  );
}
