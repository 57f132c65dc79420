// Kustomize building blocks shared by Kustomization and HelmRelease (post-renderers, drift
// ignore rules, health expressions): the counterpart of fluxcd/pkg apis/kustomize.
import { arr, obj, optional, type Static, str, stringMap } from './schema.ts';

export const Selector = (description: string) =>
  obj(
    {
      group: optional(str('API group of the objects to select (regular expression).')),
      version: optional(str('API version of the objects to select (regular expression).')),
      kind: optional(str('Kind of the objects to select (regular expression).')),
      name: optional(str('Name of the objects to select (regular expression).')),
      namespace: optional(str('Namespace of the objects to select (regular expression).')),
      annotationSelector: optional(
        str('Label-selector expression matched against the annotations of the objects.'),
      ),
      labelSelector: optional(str('Label-selector expression matched against the labels of the objects.')),
    },
    description,
  );
export type Selector = Static<ReturnType<typeof Selector>>;

export const Patch = obj(
  {
    patch: str('Inline strategic-merge patch, or JSON 6902 patch given as a list of operations.'),
    target: optional(
      Selector('Objects the patch applies to; a strategic-merge patch can also name its target.'),
    ),
  },
  'A patch and the objects it applies to.',
);
export type Patch = Static<typeof Patch>;

export const Image = obj(
  {
    name: str('Image name to replace, without tag.'),
    newName: optional(str('Image name replacing the original name.')),
    newTag: optional(str('Tag replacing the original tag.')),
    digest: optional(str('Digest replacing the tag; when set, newTag is ignored.')),
  },
  'Replacement of an image name, tag or digest.',
);
export type Image = Static<typeof Image>;

export const CustomHealthCheck = obj(
  {
    apiVersion: str('API version of the custom resources the expressions apply to.'),
    kind: optional(str('Kind of the custom resources the expressions apply to.')),
    current: str('CEL expression that is true when the resource has reached its desired state.'),
    inProgress: optional(str('CEL expression that is true while the resource is still progressing.')),
    failed: optional(str('CEL expression that is true when the resource has failed.')),
  },
  'CEL expressions that compute the health of a kind of custom resource.',
);
export type CustomHealthCheck = Static<typeof CustomHealthCheck>;

export const CommonMetadata = (description: string) =>
  obj(
    {
      annotations: optional(stringMap('Annotations to set on every object; they override existing values.')),
      labels: optional(stringMap('Labels to set on every object; they override existing values.')),
    },
    description,
  );
export type CommonMetadata = Static<ReturnType<typeof CommonMetadata>>;

export const IgnoreRule = (scope: string) =>
  obj(
    {
      paths: arr(
        str('JSON Pointer, e.g. `/spec/replicas`.'),
        'JSON Pointers (RFC 6901) of the fields to ignore.',
      ),
      target: optional(Selector(`Objects the rule applies to; every object of the ${scope} when unset.`)),
    },
    'Fields to leave out of drift detection and correction.',
  );
export type IgnoreRule = Static<ReturnType<typeof IgnoreRule>>;

/** Inventory of applied objects, as Kustomization and HelmRelease record it. */
export const ResourceInventory = (description: string) =>
  obj(
    {
      entries: arr(
        obj(
          {
            id: str('Object identity as `<namespace>_<name>_<group>_<kind>`.'),
            v: str('API version of the object.'),
          },
          'Reference to one applied object.',
        ),
        'Applied objects.',
      ),
    },
    description,
  );
export type ResourceInventory = Static<ReturnType<typeof ResourceInventory>>;
