// The commit message: spec.git.commit.messageTemplate (Go text/template with Sprig's hermetic
// functions in Flux) rendered against the changes of the run; Flux's default message when unset.
// Outcomes, as Flux reports them: a template Go would not parse is Ready=False GitOperationFailed
// (Flux's wording); one using `.Updated` or `.Changed.ImageResult`, fields v1 removed, is Stalled
// RemovedTemplateField; valid Go that Tide cannot render is Stalled UnsupportedField, naming the
// construct. No commit is made with a message that was not rendered.
import { Reasons } from '../api/names.ts';
import { GenericError, StallingError } from '../runtime/errors.ts';
import type { UpdateResult } from './setters.ts';
import { templateData } from './template/data.ts';
import { compileTemplate, type Template, TemplateExecError } from './template/exec.ts';
import { TemplateSyntaxError } from './template/lex.ts';
import { UnsupportedTemplateError } from './template/parse.ts';

export const defaultMessageTemplate = 'Update from image update automation';
const templateName = 'commit message';
const docs = 'See: https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template';

const unsupported = (err: Error) =>
  new StallingError(
    Reasons.UnsupportedField,
    `spec.git.commit.messageTemplate is not supported by Tide: ${err.message}`,
  );

/** Parses the template now, so a bad one is reported before any clone. */
export function compileMessageTemplate(text: string | undefined): Template {
  try {
    return compileTemplate(templateName, text || defaultMessageTemplate);
  } catch (err) {
    if (err instanceof UnsupportedTemplateError) throw unsupported(err);
    if (err instanceof TemplateSyntaxError) {
      throw new GenericError(
        Reasons.GitOperationFailed,
        `failed to update source: unable to create commit message template from spec: ${err.message}`,
      );
    }
    throw err;
  }
}

const removedFields = [
  {
    pattern: "can't evaluate field Updated in type source.TemplateData",
    message: `template uses removed '.Updated' field. Please use '.Changed' instead. ${docs}`,
  },
  {
    pattern: "can't evaluate field ImageResult in type update.Result",
    message: `template uses removed '.Changed.ImageResult' field. Please use '.Changed.FileChanges' or '.Changed.Objects' instead. ${docs}`,
  },
];

/** Renders the message for the changes; throws the reconcile error of a failed rendering. */
export function renderMessage(
  template: Template,
  automation: { namespace: string; name: string },
  result: UpdateResult,
  values: Record<string, string> | undefined,
): string {
  try {
    return template.render(templateData(automation, result, values));
  } catch (err) {
    if (err instanceof UnsupportedTemplateError) throw unsupported(err);
    if (err instanceof TemplateExecError) {
      const removed = removedFields.find((r) => err.message.includes(r.pattern));
      if (removed) throw new StallingError(Reasons.RemovedTemplateField, removed.message);
      throw new GenericError(
        Reasons.GitOperationFailed,
        `failed to update source: failed to run template from spec: ${err.message}`,
      );
    }
    throw err;
  }
}
