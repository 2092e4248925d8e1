import { hasPermission } from '@grafana/runtime';

/**
 * The app's RBAC actions (plugin.json `roles`): pages are guarded by `includes[].action`, proxy
 * routes by `reqAction`, buttons by `can()`.
 */
export const ACTIONS = {
  rulesRead: 'betrace-app.rules:read',
  rulesWrite: 'betrace-app.rules:write',
  signalsRead: 'betrace-app.signals:read',
  signalsWrite: 'betrace-app.signals:write',
  evidenceRead: 'betrace-app.evidence:read',
  evidenceExport: 'betrace-app.evidence:export',
} as const;

export type Action = (typeof ACTIONS)[keyof typeof ACTIONS];

/** Whether the signed-in user holds an action (Grafana evaluates the roles granted to them). */
export function can(action: Action): boolean {
  return hasPermission(action);
}
