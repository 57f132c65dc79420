// CEL expressions as Flux uses them (fluxcd/pkg runtime/cel): over JSON objects (a Kubernetes object,
// or several bound to variables), with optional types and the string extensions, yielding a boolean.
// The engine is @marcbachmann/cel-js: zero dependencies, plain JS objects as maps, JSON numbers compare
// with CEL int literals (`status.replicas == 3`), errors carry the source position.
import { Environment } from '@marcbachmann/cel-js';

/** An expression that does not parse or type-check: a configuration error (Flux: InvalidCELExpression). */
export class CelCompileError extends Error {
  override name = 'CelCompileError';
}

/** An expression that failed on the data given (a missing field, a wrong type). */
export class CelEvaluationError extends Error {
  override name = 'CelEvaluationError';
}

// cel-js messages end with a source excerpt on further lines; conditions and events keep the first.
const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

export interface Expression<T> {
  readonly source: string;
  /** The value; throws CelEvaluationError when the expression fails or yields another type. */
  evaluate(vars: Record<string, unknown>): T;
}

export type BoolExpression = Expression<boolean>;

export interface CompileOptions {
  /**
   * Variables the expression may use, each a map (Flux: google.protobuf.Struct). With them the
   * expression is type-checked and must yield a bool (Flux's WithCompile + WithOutputType(Bool)).
   * Without them any identifier is a dynamic variable and the expression is only parsed: the top-level
   * fields of a custom resource are not known in advance.
   */
  variables?: readonly string[];
}

/** Parses (and with `variables`, type-checks) an expression yielding a bool; throws CelCompileError. */
export function compileBool(source: string, opts: CompileOptions = {}): BoolExpression {
  return compileTyped(source, opts, 'bool', (v): v is boolean => typeof v === 'boolean');
}

/** As compileBool, for an expression yielding a string (notification-controller's commitStatusExpr). */
export function compileString(source: string, opts: CompileOptions = {}): Expression<string> {
  return compileTyped(source, opts, 'string', (v): v is string => typeof v === 'string');
}

function compileTyped<T>(
  source: string,
  opts: CompileOptions,
  type: 'bool' | 'string',
  is: (v: unknown) => v is T,
): Expression<T> {
  const env = new Environment({
    unlistedVariablesAreDyn: !opts.variables,
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: true,
  });
  for (const v of opts.variables ?? []) env.registerVariable(v, 'map');
  let program: ReturnType<Environment['parse']>;
  try {
    program = env.parse(source);
  } catch (err) {
    throw new CelCompileError(`failed to parse the CEL expression '${source}': ${firstLine(err)}`);
  }
  if (opts.variables) {
    const checked = program.check();
    if (!checked.valid)
      throw new CelCompileError(
        `failed to parse the CEL expression '${source}': ${firstLine(checked.error)}`,
      );
    if (checked.type !== type)
      throw new CelCompileError(`CEL expression output type mismatch: expected ${type}, got ${checked.type}`);
  }
  return {
    source,
    evaluate(vars) {
      let value: unknown;
      try {
        value = program(vars);
      } catch (err) {
        throw new CelEvaluationError(`failed to evaluate the CEL expression '${source}': ${firstLine(err)}`);
      }
      if (!is(value))
        throw new CelEvaluationError(
          `failed to evaluate CEL expression as ${type === 'bool' ? 'boolean' : type}: '${source}'`,
        );
      return value;
    },
  };
}
