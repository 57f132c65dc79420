// CEL expressions as Flux evaluates them over Kubernetes objects: readyExpr (typed variables, bool
// result) and health expressions (any top-level field, parsed only).
import assert from 'node:assert/strict';
import {
  CelCompileError,
  CelEvaluationError,
  compileBool,
  compileString,
} from '../../../controllers/runtime/cel.ts';

const dep = {
  metadata: { name: 'backend', generation: 3, labels: { 'app/version': 'v1.2.3' } },
  status: { observedGeneration: 3, conditions: [{ type: 'Ready', status: 'True' }] },
};
const self = { metadata: { name: 'frontend', labels: { 'app/version': 'v1.2.3' } } };

describe('runtime/cel', () => {
  it("evaluates Flux's documented readyExpr over self and dep", () => {
    const expr = compileBool(
      "dep.metadata.labels['app/version'] == self.metadata.labels['app/version'] && " +
        "dep.status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True') && " +
        'dep.metadata.generation == dep.status.observedGeneration',
      { variables: ['self', 'dep'] },
    );
    assert.equal(expr.evaluate({ self, dep }), true);
    const older = { ...dep, metadata: { ...dep.metadata, labels: { 'app/version': 'v1.2.2' } } };
    assert.equal(expr.evaluate({ self, dep: older }), false);
  });

  it('compares JSON numbers with int literals, and supports optionals and string extensions', () => {
    const obj = { status: { replicas: 3, phase: 'Bound' } };
    assert.equal(compileBool('status.replicas == 3 && status.replicas > 2').evaluate(obj), true);
    assert.equal(compileBool("status.?missing.orValue('none') == 'none'").evaluate(obj), true);
    assert.equal(compileBool("status.phase.lowerAscii() == 'bound'").evaluate(obj), true);
  });

  it('refuses with typed variables: a syntax error, an unknown variable, a non-bool result', () => {
    const vars = { variables: ['self', 'dep'] };
    assert.throws(() => compileBool('dep.status.', vars), CelCompileError);
    assert.throws(() => compileBool('other.metadata.name == "x"', vars), /Unknown variable: other/);
    assert.throws(() => compileBool('dep.metadata.name', vars), /expected bool, got dyn/);
  });

  it('only parses without variables: unknown fields fail at evaluation, naming the expression', () => {
    assert.throws(() => compileBool('status.ready ==', {}), CelCompileError);
    const expr = compileBool('status.phase == "Bound"');
    assert.throws(
      () => expr.evaluate({ status: {} }),
      (err: Error) =>
        err instanceof CelEvaluationError &&
        err.message === `failed to evaluate the CEL expression 'status.phase == "Bound"': No such key: phase`,
    );
    assert.throws(() => compileBool('status.phase').evaluate({ status: { phase: 'x' } }), /as boolean/);
  });

  it('compiles string expressions (commitStatusExpr): typed output, refused otherwise', () => {
    const vars = { variables: ['event', 'provider', 'alert'] };
    const expr = compileString(
      "(event.involvedObject.kind + '/' + event.involvedObject.name + '/' + provider.metadata.uid.split('-')[0]).lowerAscii()",
      vars,
    );
    const event = { involvedObject: { kind: 'Kustomization', name: 'Apps' } };
    assert.equal(
      expr.evaluate({ event, provider: { metadata: { uid: 'abc123-def' } }, alert: {} }),
      'kustomization/apps/abc123',
    );
    assert.throws(() => compileString("event.reason == 'x'", vars), /expected string, got bool/);
    assert.throws(() => compileString('event.reason').evaluate({ event: { reason: 1 } }), /as string/);
  });
});
