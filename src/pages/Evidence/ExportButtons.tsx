import React, { useState } from 'react';
import { Alert, Button, Stack } from '@grafana/ui';
import { EXPORT_FORMATS, exportEvidence, saveBlob, type EvidenceFilters, type ExportFormat } from '../../api/evidence';
import { testIds } from '../../components/testIds';
import { ACTIONS, can } from '../../utils/permissions';

/** Auditors' exports of the chosen framework, control and range, signed records verified. */
export function ExportButtons({ filters }: { filters: () => EvidenceFilters }) {
  const [busy, setBusy] = useState<ExportFormat>();
  const [error, setError] = useState<string>();
  if (!can(ACTIONS.evidenceExport)) {
    return null;
  }
  const run = async (format: ExportFormat) => {
    setBusy(format);
    setError(undefined);
    try {
      const { blob, filename } = await exportEvidence(format, filters());
      saveBlob(blob, filename);
    } catch (e) {
      setError(`${format.toUpperCase()} export failed: ${(e as Error).message}`);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <Stack direction="column" gap={1}>
      <Stack gap={1} data-testid={testIds.evidence.exportButtons}>
        {EXPORT_FORMATS.map((format) => (
          <Button
            key={format}
            variant="secondary"
            size="sm"
            icon={busy === format ? 'spinner' : 'download-alt'}
            disabled={busy !== undefined}
            onClick={() => run(format)}
          >
            {`Export ${format.toUpperCase()}`}
          </Button>
        ))}
      </Stack>
      {error && (
        <Alert
          title="Export failed"
          severity="error"
          data-testid={testIds.evidence.exportError}
          onRemove={() => setError(undefined)}
        >
          {error}
        </Alert>
      )}
    </Stack>
  );
}
