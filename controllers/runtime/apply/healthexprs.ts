// Health of custom resources decided by CEL expressions (Kustomization and HelmRelease
// spec.healthCheckExprs), with Flux's semantics (fluxcd/pkg runtime/cel StatusReader/StatusEvaluator):
//   - an entry matches by API group and kind; an entry without kind matches every kind of its group,
//     and one with the kind wins over it; the version is ignored;
//   - status.observedGeneration (an integer) behind metadata.generation is InProgress;
//   - then inProgress, failed, current, in this order: the first true one decides;
//   - none true: InProgress; an expression that fails to evaluate: Unknown, with the error, so the
//     wait runs into its timeout naming it.
// Entries that do not compile, or two for the same group and kind, are a configuration error.
import type { CustomHealthCheck } from '../../api/kustomize-types.ts';
import { type BoolExpression, CelCompileError, compileBool } from '../cel.ts';
import { type KubeObject, parseApiVersion } from '../object.ts';
import { Statuses, type StatusResult } from './health.ts';

/** A status rule for some objects: undefined for objects it does not cover. */
export type StatusOverride = (obj: KubeObject) => StatusResult | undefined;

interface Evaluator {
  inProgress?: BoolExpression;
  failed?: BoolExpression;
  current: BoolExpression;
}

const groupKind = (group: string, kind: string) => `${group}/${kind}`;

/** Compiles the rules; throws CelCompileError naming the entry (healthCheckExprs[i]). */
export function compileHealthExprs(
  checks: readonly CustomHealthCheck[] | undefined,
): StatusOverride | undefined {
  if (!checks?.length) return undefined;
  const evaluators = new Map<string, Evaluator>();
  checks.forEach((c, i) => {
    const key = groupKind(parseApiVersion(c.apiVersion).group, c.kind ?? '');
    if (evaluators.has(key))
      throw new CelCompileError(
        `duplicate custom health check for GroupKind ${key} at healthCheckExprs[${i}]`,
      );
    const compile = (what: string, source: string | undefined) => {
      if (!source) return undefined;
      try {
        return compileBool(source);
      } catch (err) {
        throw new CelCompileError(
          `failed to create custom status evaluator for healthCheckExprs[${i}]: ${what}: ${(err as Error).message}`,
        );
      }
    };
    const current = compile('current', c.current);
    if (!current) throw new CelCompileError(`healthCheckExprs[${i}]: expression current not specified`);
    evaluators.set(key, {
      current,
      inProgress: compile('inProgress', c.inProgress),
      failed: compile('failed', c.failed),
    });
  });
  return (obj) => {
    const group = parseApiVersion(obj.apiVersion ?? '').group;
    const e = evaluators.get(groupKind(group, obj.kind ?? '')) ?? evaluators.get(groupKind(group, ''));
    return e ? evaluate(e, obj) : undefined;
  };
}

function evaluate(e: Evaluator, obj: KubeObject): StatusResult {
  const observed = obj.status?.observedGeneration;
  const generation = obj.metadata.generation;
  if (Number.isInteger(observed) && Number.isInteger(generation) && observed !== generation)
    return {
      status: Statuses.InProgress,
      message: `${obj.kind} generation is ${generation}, but latest observed generation is ${observed}`,
    };
  const rules: [BoolExpression | undefined, StatusResult['status'], string][] = [
    [e.inProgress, Statuses.InProgress, 'inProgress'],
    [e.failed, Statuses.Failed, 'failed'],
    [e.current, Statuses.Current, 'current'],
  ];
  try {
    for (const [expr, status, name] of rules) {
      if (expr?.evaluate(obj as unknown as Record<string, unknown>))
        return { status, message: `healthCheckExprs ${name} is true: ${expr.source}` };
    }
  } catch (err) {
    return { status: Statuses.Unknown, message: (err as Error).message };
  }
  return { status: Statuses.InProgress, message: 'no health check expression is true yet' };
}
