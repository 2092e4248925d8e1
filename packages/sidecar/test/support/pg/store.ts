// The PostgreSQL test run's `../src/store` (jest moduleNameMapper, project sidecar-postgres): the
// real module, with Store opening the schema storeTarget() maps its SQLite target to.
import * as real from '../../../src/store';
import { isPostgresUrl } from '../../../src/db/sql';
import { storeTarget } from '../engine';

export * from '../../../src/store';

export class Store extends real.Store {
  constructor(target: string, options?: real.StoreOptions) {
    super(isPostgresUrl(target) ? target : storeTarget(target), options);
  }
}
