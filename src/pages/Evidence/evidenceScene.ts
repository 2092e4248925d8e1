import { testIds } from '../../components/testIds';
import { placeholderScene } from '../placeholderScene';

export const EVIDENCE_PLACEHOLDER = 'Evidence will be listed here: per compliance control, the traces checked, passed and failed, with the signature and chain of every record verified.';

export function evidenceScene() {
  return placeholderScene('Evidence is coming', EVIDENCE_PLACEHOLDER, testIds.evidence.container);
}
