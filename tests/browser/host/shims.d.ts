declare module 'grafana-runtime-plugin-page' {
  import type { ComponentType } from 'react';
  import type { PluginPageProps } from '@grafana/runtime';
  export function setPluginPage(component: ComponentType<PluginPageProps>): void;
}

declare module 'grafana-i18n-internal' {
  export function initializeI18n(options: { language: string; ns: string[] }): Promise<{ language: string }>;
}

declare module 'grafana-runtime-user' {
  export function setCurrentUser(user: unknown): void;
}
