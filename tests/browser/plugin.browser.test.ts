/**
 * The BUILT plugin (dist/module.js) in Chromium, on the Grafana stand-in, against a real
 * `betrace serve` and the Tempo test double: every page driven as a user would, as admin, editor
 * and viewer. One stack and one browser serve all the specs, in this order (the rule the Rules
 * specs create is replayed and rolled back later; discovery adopts a disabled rule; the config spec
 * changes the token last).
 * Screenshots: tests/browser/output/screenshots/.
 */
import { describeBrowser } from './harness/fixture';
import { configSpecs } from './specs/config';
import { evidenceSpecs } from './specs/evidence';
import { exploreSpecs } from './specs/explore';
import { rulesSpecs } from './specs/rules';
import { signalsSpecs } from './specs/signals';
import { suggestionsSpecs } from './specs/suggestions';

describeBrowser('BeTrace in a browser', (suite) => {
  rulesSpecs(suite);
  suggestionsSpecs(suite);
  signalsSpecs(suite);
  exploreSpecs(suite);
  evidenceSpecs(suite);
  configSpecs(suite);
});
