import React from 'react';
import { Badge, type BadgeColor } from '@grafana/ui';
import { STATUS_LABELS, type SignalStatus } from '../../api/signals';

const SEVERITY_COLORS: Record<string, BadgeColor> = {
  info: 'blue',
  low: 'green',
  medium: 'orange',
  high: 'red',
  critical: 'red',
};

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge
      text={severity}
      color={SEVERITY_COLORS[severity] ?? 'darkgrey'}
      icon={severity === 'critical' ? 'exclamation-triangle' : undefined}
    />
  );
}

const STATUS_COLORS: Record<SignalStatus, BadgeColor> = {
  open: 'orange',
  acknowledged: 'blue',
  resolved: 'green',
  false_positive: 'darkgrey',
};

export function StatusBadge({ status }: { status: string }) {
  const known = status in STATUS_LABELS ? (status as SignalStatus) : undefined;
  return <Badge text={known ? STATUS_LABELS[known] : status} color={known ? STATUS_COLORS[known] : 'darkgrey'} />;
}
