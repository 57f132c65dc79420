// How commit message failures become reconcile outcomes, with Flux's reasons and wording.
import assert from 'node:assert/strict';
import { compileMessageTemplate, renderMessage } from '../../../controllers/image-automation/message.ts';
import type { UpdateResult } from '../../../controllers/image-automation/setters.ts';
import { isStalling, type ReconcileError } from '../../../controllers/runtime/errors.ts';

const result: UpdateResult = new Map([
  [
    'app.yaml',
    [
      {
        id: { apiVersion: 'v1', kind: 'ConfigMap', name: 'app', namespace: 'dev' },
        changes: [{ oldValue: 'a:1', newValue: 'a:2', setter: 'flux-system:a' }],
      },
    ],
  ],
]);
const automation = { namespace: 'flux-system', name: 'auto' };
const render = (template: string | undefined, values?: Record<string, string>) =>
  renderMessage(compileMessageTemplate(template), automation, result, values);

function failure(fn: () => unknown): ReconcileError {
  try {
    fn();
  } catch (err) {
    return err as ReconcileError;
  }
  throw new Error('no failure');
}

describe('image-automation/message', () => {
  it("renders Flux's default message, and a template with values", () => {
    assert.equal(render(undefined), 'Update from image update automation');
    assert.equal(render(''), 'Update from image update automation');
    assert.equal(
      render(
        '{{ .AutomationObject }} on {{ .Values.cluster }}: {{ range .Changed.Changes }}{{ .NewValue }}{{ end }}',
        {
          cluster: 'prod',
        },
      ),
      'flux-system/auto on prod: a:2',
    );
  });

  it('stalls a template using a field v1 removed, with RemovedTemplateField and Flux message', () => {
    for (const [template, field] of [
      ['{{ range .Updated.Images }}{{ . }}{{ end }}', ".Updated' field. Please use '.Changed' instead"],
      [
        '{{ .Changed.ImageResult.Files }}',
        ".Changed.ImageResult' field. Please use '.Changed.FileChanges' or '.Changed.Objects' instead",
      ],
    ]) {
      const err = failure(() => render(template));
      assert.ok(isStalling(err));
      assert.equal(err.reason, 'RemovedTemplateField');
      assert.ok(err.message.startsWith(`template uses removed '${field}`), err.message);
    }
  });

  it("reports a template Go rejects as GitOperationFailed in Flux's words, and retries", () => {
    const parse = failure(() => compileMessageTemplate('{{ if }}'));
    assert.equal(parse.reason, 'GitOperationFailed');
    assert.ok(!isStalling(parse));
    assert.equal(
      parse.message,
      'failed to update source: unable to create commit message template from spec: template: commit message:1: missing value for if',
    );
    const exec = failure(() => render('{{ .Changed.Nope }}'));
    assert.equal(exec.reason, 'GitOperationFailed');
    assert.match(
      exec.message,
      /^failed to update source: failed to run template from spec: template: commit message:1:11: /,
    );
  });

  it('stalls a template Tide cannot render, naming the construct, as an unsupported field', () => {
    const err = failure(() => compileMessageTemplate('{{ sha256sum .Values.x }}'));
    assert.ok(isStalling(err));
    assert.equal(err.reason, 'UnsupportedField');
    assert.equal(
      err.message,
      'spec.git.commit.messageTemplate is not supported by Tide: the function "sha256sum" is not supported by Tide',
    );
  });
});
