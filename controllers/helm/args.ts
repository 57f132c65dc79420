// The helm command line of each action, from the HelmRelease the way Flux's helm-controller configures
// the Helm SDK actions (internal/action install.go, upgrade.go, rollback.go, uninstall.go, test.go):
// CRDs are the controller's (always --skip-crds), ownership of existing resources is taken unless
// disabled, server-side apply forces conflicts, force replaces only without server-side apply, and
// the wait strategy is Helm's kstatus watcher unless the action disables waiting.
import type { HelmRelease } from '../api/helm.ts';
import type { HelmAction } from './actions.ts';
import { actionTimeoutMs, maxHistory } from './release.ts';

export const CHART_FILE = 'chart.tgz';
export const VALUES_FILE = 'values.json';

interface WaitSpec {
  disableWait?: boolean;
  disableWaitForJobs?: boolean;
}

/** --wait and --wait-for-jobs: hookOnly without wait, else the spec's strategy (poller → watcher). */
function waitArgs(obj: HelmRelease, spec: WaitSpec | undefined, jobs = true): string[] {
  if (spec?.disableWait) return ['--wait=hookOnly'];
  const strategy = obj.spec.waitStrategy?.name === 'legacy' ? 'legacy' : 'watcher';
  return [`--wait=${strategy}`, ...(jobs && !spec?.disableWaitForJobs ? ['--wait-for-jobs'] : [])];
}

const flag = (on: boolean | undefined, name: string) => (on ? [name] : []);
const timeout = (ms: number) => ['--timeout', `${ms}ms`];

/** What the arguments depend on besides the HelmRelease. */
export interface ArgsContext {
  releaseName: string;
  /**
   * Whether the release the action starts from was applied server-side (`apply_method: ssa`): upgrade
   * and rollback with serverSideApply auto follow it.
   */
  lastAppliedServerSide: boolean;
}

export function helmArgs(action: HelmAction, obj: HelmRelease, ctx: ArgsContext): string[] {
  const name = ctx.releaseName;
  switch (action.kind) {
    case 'install': {
      const s = obj.spec.install ?? {};
      const ssa = s.serverSideApply ?? true;
      return [
        'install',
        name,
        CHART_FILE,
        '--values',
        VALUES_FILE,
        ...timeout(actionTimeoutMs(obj, s.timeout)),
        ...waitArgs(obj, s),
        '--skip-crds',
        `--server-side=${ssa}`,
        ...flag(ssa, '--force-conflicts'),
        ...flag(!s.disableTakeOwnership, '--take-ownership'),
        ...flag(s.disableHooks, '--no-hooks'),
        ...flag(s.disableOpenAPIValidation, '--disable-openapi-validation'),
        ...flag(s.disableSchemaValidation, '--skip-schema-validation'),
        ...flag(s.replace, '--replace'),
        ...flag(Boolean(obj.spec.targetNamespace) && s.createNamespace, '--create-namespace'),
      ];
    }
    case 'upgrade': {
      const s = obj.spec.upgrade ?? {};
      const mode = s.serverSideApply ?? 'auto';
      const ssa = mode === 'enabled' || (mode === 'auto' && ctx.lastAppliedServerSide);
      return [
        'upgrade',
        name,
        CHART_FILE,
        '--values',
        VALUES_FILE,
        ...timeout(actionTimeoutMs(obj, s.timeout)),
        ...waitArgs(obj, s),
        s.preserveValues ? '--reuse-values' : '--reset-values',
        '--history-max',
        String(maxHistory(obj)),
        `--server-side=${ssa}`,
        ...flag(ssa, '--force-conflicts'),
        ...flag(s.force && !ssa, '--force-replace'),
        ...flag(!s.disableTakeOwnership, '--take-ownership'),
        ...flag(s.disableHooks, '--no-hooks'),
        ...flag(s.disableOpenAPIValidation, '--disable-openapi-validation'),
        ...flag(s.disableSchemaValidation, '--skip-schema-validation'),
        ...flag(s.cleanupOnFail, '--cleanup-on-fail'),
      ];
    }
    case 'rollback': {
      const s = obj.spec.rollback ?? {};
      const ssa = ctx.lastAppliedServerSide;
      return [
        'rollback',
        name,
        String(action.version),
        ...timeout(actionTimeoutMs(obj, s.timeout)),
        ...waitArgs(obj, s),
        '--history-max',
        String(maxHistory(obj)),
        `--server-side=${ssa}`,
        ...flag(ssa, '--force-conflicts'),
        ...flag(s.force && !ssa, '--force-replace'),
        ...flag(s.disableHooks, '--no-hooks'),
        ...flag(s.cleanupOnFail, '--cleanup-on-fail'),
      ];
    }
    case 'uninstall': {
      const s = obj.spec.uninstall ?? {};
      return [
        'uninstall',
        name,
        ...timeout(actionTimeoutMs(obj, s.timeout)),
        ...waitArgs(obj, s, false),
        '--cascade',
        s.deletionPropagation ?? 'background',
        ...flag(s.keepHistory, '--keep-history'),
        ...flag(s.disableHooks, '--no-hooks'),
      ];
    }
    case 'test': {
      const t = obj.spec.test ?? {};
      return [
        'test',
        name,
        ...timeout(actionTimeoutMs(obj, t.timeout)),
        ...(t.filters ?? []).flatMap((f) => ['--filter', `${f.exclude ? '!' : ''}name=${f.name}`]),
      ];
    }
  }
}
