// The data Flux gives the commit message template (image-automation-controller TemplateData), as Go
// values: `.AutomationObject` (a types.NamespacedName, printed `namespace/name`), `.Changed` (an
// update.Result: `.FileChanges` file → object → changes, and the methods `.Changes` and `.Objects`)
// and `.Values` (spec.git.commit.messageTemplateValues).
import type { Change, ObjectIdentifier, UpdateResult } from '../setters.ts';
import { GoList, GoMap, GoStruct, type GoValue } from './values.ts';

const changeValue = (c: Change) =>
  new GoStruct('update.Change', [
    ['OldValue', c.oldValue],
    ['NewValue', c.newValue],
    ['Setter', c.setter],
  ]);

/** update.ObjectIdentifier: an embedded kyaml ResourceIdentifier (TypeMeta and NameMeta). */
function identifierValue(id: ObjectIdentifier): GoStruct {
  const typeMeta = new GoStruct('yaml.TypeMeta', [
    ['APIVersion', id.apiVersion],
    ['Kind', id.kind],
  ]);
  const nameMeta = new GoStruct('yaml.NameMeta', [
    ['Name', id.name],
    ['Namespace', id.namespace],
  ]);
  const resource = new GoStruct(
    'yaml.ResourceIdentifier',
    [
      ['TypeMeta', typeMeta],
      ['NameMeta', nameMeta],
    ],
    { embedded: ['TypeMeta', 'NameMeta'] },
  );
  return new GoStruct('update.ObjectIdentifier', [['ResourceIdentifier', resource]], {
    embedded: ['ResourceIdentifier'],
    unprintable:
      'printing an object identifier is not supported by Tide; print its fields (.Kind, .Name, .Namespace, .APIVersion)',
  });
}

const changeList = (changes: Change[]) => new GoList('[]update.Change', changes.map(changeValue));

const objectChanges = (entries: [GoValue, GoValue][]) =>
  new GoMap(
    'update.ObjectChanges',
    'update.ObjectIdentifier',
    entries,
    () => new GoList('[]update.Change', []),
  );

/** The template's dot for one run. */
export function templateData(
  automation: { namespace: string; name: string },
  result: UpdateResult,
  values: Record<string, string> | undefined,
): GoStruct {
  const files = [...result.keys()].sort();
  const fileChanges = new GoMap(
    'map[string]update.ObjectChanges',
    'string',
    files.map((f) => [
      f,
      objectChanges(result.get(f)!.map((o) => [identifierValue(o.id), changeList(o.changes)])),
    ]),
    () => objectChanges([]),
  );
  // Changes and Objects walk the files in order (Go walks its map in random order; sorted is one of them).
  const changes = () => {
    const seen: Change[] = [];
    for (const f of files)
      for (const o of result.get(f)!)
        for (const c of o.changes)
          if (
            !seen.some((s) => s.oldValue === c.oldValue && s.newValue === c.newValue && s.setter === c.setter)
          )
            seen.push(c);
    return changeList(seen);
  };
  const objects = () => {
    const merged: { id: ObjectIdentifier; changes: Change[] }[] = [];
    for (const f of files) {
      for (const o of result.get(f)!) {
        const same = merged.find((m) => JSON.stringify(m.id) === JSON.stringify(o.id));
        if (same) same.changes.push(...o.changes);
        else merged.push({ id: o.id, changes: [...o.changes] });
      }
    }
    return objectChanges(merged.map((m) => [identifierValue(m.id), changeList(m.changes)]));
  };
  const changed = new GoStruct('update.Result', [['FileChanges', fileChanges]], {
    methods: { Changes: changes, Objects: objects },
  });
  const automationObject = new GoStruct(
    'types.NamespacedName',
    [
      ['Namespace', automation.namespace],
      ['Name', automation.name],
    ],
    { stringer: () => `${automation.namespace}/${automation.name}` },
  );
  const valueMap = new GoMap('map[string]string', 'string', Object.entries(values ?? {}), () => '');
  return new GoStruct('source.TemplateData', [
    ['AutomationObject', automationObject],
    ['Changed', changed],
    ['Values', valueMap],
  ]);
}
