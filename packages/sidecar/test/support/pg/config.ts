// The PostgreSQL test run's `../src/config` (jest moduleNameMapper, project sidecar-postgres): the
// real module, with loadConfig giving each DATA_DIR its own PostgreSQL schema as DATABASE_URL.
import * as real from '../../../src/config';
import { storeTarget } from '../engine';

export * from '../../../src/config';

export function loadConfig(env: Parameters<typeof real.loadConfig>[0]): real.SidecarConfig {
  if (env.DATABASE_URL !== undefined) {
    return real.loadConfig(env);
  }
  return real.loadConfig({ ...env, DATABASE_URL: storeTarget(env.DATA_DIR ?? ':memory:') });
}
