import React, { useEffect, useState } from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, type GrafanaTheme2 } from '@grafana/data';
import { Button, Stack, Text, useStyles2 } from '@grafana/ui';
import { ruleHistory, type RuleVersionView } from '../../api/rules';
import { lineDiff } from './diff';
import { versionText } from './draft';
import { EmptyRules, ErrorState, LoadingState } from './States';
import { rulesTestIds } from './testIds';

interface Props {
  ruleId: string;
  currentVersion: number;
  canRollback: boolean;
  onRollback: (version: number) => void;
}

/** A rule's versions, newest first; a chosen version's diff against the current one, and rollback to it. */
export function RuleHistory({ ruleId, currentVersion, canRollback, onRollback }: Props) {
  const styles = useStyles2(getStyles);
  const [versions, setVersions] = useState<RuleVersionView[]>();
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<number>();

  useEffect(() => {
    let stale = false;
    ruleHistory(ruleId).then(
      (v) => !stale && setVersions(v),
      (e) => !stale && setError(e instanceof Error ? e.message : String(e))
    );
    return () => {
      stale = true;
    };
  }, [ruleId, currentVersion]);

  if (error) {
    return <ErrorState title="Could not load the rule's history" error={error} />;
  }
  if (!versions) {
    return <LoadingState text="Loading versions…" />;
  }
  if (versions.length === 0) {
    return <EmptyRules filtered={false}>This rule has no recorded versions.</EmptyRules>;
  }
  const current = versions.find((v) => v.version === currentVersion) ?? versions[0];
  const chosen = versions.find((v) => v.version === selected);
  return (
    <Stack direction="column" gap={2}>
      <ul className={styles.versions} data-testid={rulesTestIds.history.list} aria-label="Versions">
        {versions.map((v) => (
          <li key={v.version} data-testid={rulesTestIds.history.version(v.version)} className={styles.version}>
            <Stack gap={1} alignItems="center" justifyContent="space-between">
              <span>
                <strong>v{v.version}</strong> {v.version === currentVersion && <Text color="secondary">(current)</Text>}{' '}
                {dateTimeFormat(v.createdAt)} by {v.createdBy}
                {v.note && <> — {v.note}</>}
              </span>
              {v.version !== currentVersion && (
                <Stack gap={1}>
                  <Button
                    size="sm"
                    variant="secondary"
                    onClick={() => setSelected(v.version === selected ? undefined : v.version)}
                  >
                    {v.version === selected ? 'Hide diff' : 'Diff with current'}
                  </Button>
                  {canRollback && (
                    <Button
                      size="sm"
                      variant="secondary"
                      icon="history-alt"
                      data-testid={rulesTestIds.history.rollback(v.version)}
                      onClick={() => onRollback(v.version)}
                    >
                      Roll back to v{v.version}
                    </Button>
                  )}
                </Stack>
              )}
            </Stack>
          </li>
        ))}
      </ul>
      {chosen && <VersionDiff from={chosen} to={current} />}
    </Stack>
  );
}

function VersionDiff({ from, to }: { from: RuleVersionView; to: RuleVersionView }) {
  const styles = useStyles2(getStyles);
  const lines = lineDiff(versionText(from.definition), versionText(to.definition));
  return (
    <div>
      <Text element="h5">
        v{from.version} → v{to.version}
      </Text>
      <pre className={styles.diff} data-testid={rulesTestIds.history.diff}>
        {lines.map((l, i) => (
          <div key={i} className={l.op === 'add' ? styles.add : l.op === 'del' ? styles.del : undefined}>
            {l.op === 'add' ? '+ ' : l.op === 'del' ? '- ' : '  '}
            {l.text}
          </div>
        ))}
      </pre>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  versions: css({ listStyle: 'none', margin: 0, padding: 0 }),
  version: css({ padding: theme.spacing(1), borderBottom: `1px solid ${theme.colors.border.weak}` }),
  diff: css({ fontFamily: theme.typography.fontFamilyMonospace, padding: theme.spacing(1) }),
  add: css({ background: theme.colors.success.transparent }),
  del: css({ background: theme.colors.error.transparent }),
});
