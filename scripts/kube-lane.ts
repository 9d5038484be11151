/**
 * One plain line before `npm test`: whether the real Kubernetes lane runs (and on which binaries) or is skipped, and
 * how to build it. The suites read the same rule (test/helpers/kube-target.ts).
 */
import { kubeBinDir, KUBE_VERSION } from '../lab/kube-real/binaries.ts';
import { realLaneSkip } from '../test/helpers/kube-target.ts';

const skip = realLaneSkip();
console.log(skip === false ? `real Kubernetes lane: ${KUBE_VERSION} from ${kubeBinDir()}` : skip);
