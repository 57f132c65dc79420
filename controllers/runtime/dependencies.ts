// spec.dependsOn (Kustomization, HelmRelease): an object waits until each dependency of its own kind is
// ready. Flux's rule (kustomize-controller checkDependencies):
//   - the dependency exists;
//   - readyExpr, when set, is true (CEL over `self`, the object, and `dep`, the dependency); it replaces
//     the built-in check unless the AdditiveCELDependencyCheck gate makes it an extra one;
//   - built-in: Ready=True at the dependency's current generation, then the caller's revision rule
//     (Kustomization: a dependency on the same source has applied the revision about to be applied).
// An expression that does not compile is a configuration error (Stalled, InvalidCELExpression); one that
// fails on the data (a missing field) only holds the object, like an unready dependency.
import type { DependencyReference } from '../api/meta.ts';
import { ConditionTypes, Reasons } from '../api/names.ts';
import { CelCompileError, CelEvaluationError, compileBool } from './cel.ts';
import { StallingError, WaitingError } from './errors.ts';
import type { IndexFunc } from './informer.ts';
import { type GVK, type KubeObject, keyOf, objectKey } from './object.ts';
import type { ReconcileContext, WatchSpec } from './reconciler.ts';

/** Flux's message prefix of terminal configuration errors. */
export const terminalErrorMessage = 'Reconciliation failed terminally due to configuration error';

export interface DependencyOptions<T extends KubeObject> {
  /** The kind of the dependencies (the object's own kind), watched by the controller. */
  kind: GVK;
  /** Wait before checking again (Flux --requeue-dependency). */
  requeueMs: number;
  /** Flux's AdditiveCELDependencyCheck gate: readyExpr adds to the built-in check instead of replacing it. */
  additiveCel?: boolean;
  /**
   * After Ready at its generation: why `dep` is still not ready for the object (e.g. "revision is not
   * up to date"), or undefined when it is.
   */
  revisionRule?(dep: T): string | undefined;
}

interface DepStatus {
  observedGeneration?: number;
  conditions?: { type: string; status: string }[];
}

const depsOf = (obj: KubeObject) => (obj.spec?.dependsOn ?? []) as DependencyReference[];
const depKey = (obj: KubeObject, d: DependencyReference) =>
  objectKey(d.namespace || obj.metadata.namespace, d.name);

/**
 * Compiles every readyExpr of obj's dependsOn; throws StallingError InvalidCELExpression for one that
 * does not. Run before anything else, so a bad expression stalls even while dependencies are missing.
 */
export function validateReadyExprs(obj: KubeObject): void {
  for (const d of depsOf(obj)) {
    if (d.readyExpr) compileReadyExpr(obj, d);
  }
}

function compileReadyExpr(obj: KubeObject, d: DependencyReference) {
  try {
    return compileBool(d.readyExpr ?? '', { variables: ['self', 'dep'] });
  } catch (err) {
    if (!(err instanceof CelCompileError)) throw err;
    throw new StallingError(
      Reasons.InvalidCELExpression,
      `${terminalErrorMessage}: failed to evaluate dependency ${depKey(obj, d)}: ${err.message}`,
    );
  }
}

/** Throws WaitingError DependencyNotReady naming the first dependency that is not ready. */
export function checkDependencies<T extends KubeObject>(
  obj: KubeObject,
  ctx: Pick<ReconcileContext, 'cached'>,
  opts: DependencyOptions<T>,
): void {
  for (const d of depsOf(obj)) {
    const key = depKey(obj, d);
    const dep = ctx.cached(opts.kind, key) as T | undefined;
    const why = dep ? whyNotReady(obj, d, dep, opts) : 'not found';
    if (why) throw new WaitingError(Reasons.DependencyNotReady, `dependency '${key}' ${why}`, opts.requeueMs);
  }
}

function whyNotReady<T extends KubeObject>(
  obj: KubeObject,
  d: DependencyReference,
  dep: T,
  opts: DependencyOptions<T>,
): string | undefined {
  if (d.readyExpr) {
    let ready: boolean;
    try {
      ready = compileReadyExpr(obj, d).evaluate({ self: obj, dep });
    } catch (err) {
      if (err instanceof CelEvaluationError) return `is not ready: ${err.message}`;
      throw err;
    }
    if (!ready) return 'is not ready according to readyExpr eval';
    if (!opts.additiveCel) return undefined;
  }
  const status = dep.status as DepStatus | undefined;
  const readyCond = status?.conditions?.find((c) => c.type === ConditionTypes.Ready);
  if (dep.metadata.generation !== status?.observedGeneration || readyCond?.status !== 'True')
    return 'is not ready';
  return opts.revisionRule?.(dep);
}

/** An index function filing each object under the `namespace/name` of every dependency. */
export const dependsOnIndex: IndexFunc = (obj) => depsOf(obj).map((d) => depKey(obj, d));

/**
 * Reconciles the objects depending on one as soon as it changes in a way that may release them:
 * `predicate` (default: its status changed).
 */
export function dependencyWatch(
  kind: GVK,
  index: string,
  predicate: WatchSpec['predicate'] = (a, b) => JSON.stringify(a.status) !== JSON.stringify(b.status),
): WatchSpec {
  return {
    kind,
    map: (dep, primary) => primary.byIndex(index, keyOf(dep)).map(keyOf),
    predicate,
  };
}
