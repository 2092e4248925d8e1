/**
 * The page chrome Grafana wraps around an app's pages (`PluginPage`, set with setPluginPage): the
 * breadcrumbs from the app's nav root to the page (pageNav and its parentItem chain), the title,
 * the sub-title and the actions, then the page. Scenes' SceneAppPage hands it pageNav.
 */
import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2, NavModelItem } from '@grafana/data';
import type { PluginPageProps } from '@grafana/runtime';
import { Stack, Text, TextLink, useStyles2 } from '@grafana/ui';
import { HOST_IDS } from './ids';

function chain(item: NavModelItem | undefined): NavModelItem[] {
  const out: NavModelItem[] = [];
  for (let i = item; i; i = i.parentItem) {
    if (!i.hideFromBreadcrumbs) {
      out.unshift(i);
    }
  }
  return out;
}

export function HostPluginPage({ pageNav, subTitle, actions, children }: PluginPageProps) {
  const styles = useStyles2(getStyles);
  const sub = subTitle ?? pageNav?.subTitle;
  const crumbs: NavModelItem[] = [
    { text: 'Home', url: '/' },
    { text: 'BeTrace', url: '/a/betrace-app' },
    ...chain(pageNav),
  ];
  return (
    <div className={styles.page}>
      <nav aria-label="Breadcrumbs" data-testid={HOST_IDS.breadcrumbs} className={styles.crumbs}>
        {crumbs.map((c, i) => (
          <span key={i} className={styles.crumb}>
            {i > 0 && <span className={styles.sep}>›</span>}
            {c.url && i < crumbs.length - 1 ? (
              <TextLink href={c.url} color="secondary" inline={false}>
                {c.text}
              </TextLink>
            ) : (
              <Text color="primary">{c.text}</Text>
            )}
          </span>
        ))}
      </nav>
      <Stack justifyContent="space-between" alignItems="center">
        <div>
          <h1 data-testid={HOST_IDS.title}>{pageNav?.text}</h1>
          {sub ? <Text color="secondary">{sub}</Text> : null}
        </div>
        {actions}
      </Stack>
      <div className={styles.body}>{children}</div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ padding: theme.spacing(2, 3), display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  crumbs: css({ display: 'flex', alignItems: 'baseline', fontSize: theme.typography.bodySmall.fontSize }),
  crumb: css({ display: 'inline-flex', alignItems: 'baseline' }),
  sep: css({ margin: theme.spacing(0, 1), color: theme.colors.text.secondary }),
  body: css({ paddingTop: theme.spacing(2) }),
});
