// One object's drift as the page shows it: the live object and what applying Git would make of it
// (the server-side dry-run), both without the fields nobody writes (managedFields, resourceVersion,
// status …) and without the ignored paths, Secret values masked, dumped as YAML with sorted keys and
// diffed line by line. Pure.
import { dump } from 'js-yaml';
import { Annotations } from '../api/names.ts';
import { withoutPaths } from '../runtime/apply/ignore.ts';
import type { KubeObject } from '../runtime/object.ts';
import { diffText, type Hunk } from './model/diff.ts';

const noisyMetadata = [
  'managedFields',
  'resourceVersion',
  'uid',
  'generation',
  'creationTimestamp',
  'selfLink',
];

/** The object as it is compared: no status, no server-managed metadata, no kubectl last-applied copy. */
export function normalize(obj: KubeObject): KubeObject {
  const { status: _s, ...rest } = structuredClone(obj);
  const metadata: Record<string, unknown> = { ...rest.metadata };
  for (const k of noisyMetadata) delete metadata[k];
  const annotations = { ...(rest.metadata.annotations ?? {}) };
  delete annotations[Annotations.lastAppliedConfiguration];
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { ...rest, metadata } as KubeObject;
}

const isSecret = (o: KubeObject | undefined) => o?.kind === 'Secret' && o.apiVersion === 'v1';

/**
 * Secret values replaced by `***`; where the two sides differ, by `*** (cluster value)` and `*** (Git
 * value)`, so the diff says which keys drifted without showing any value.
 */
export function maskSecrets(
  live: KubeObject | undefined,
  git: KubeObject | undefined,
): [KubeObject | undefined, KubeObject | undefined] {
  if (!isSecret(live) && !isSecret(git)) return [live, git];
  const l = live && structuredClone(live);
  const g = git && structuredClone(git);
  for (const field of ['data', 'stringData'] as const) {
    maskPair((l?.[field] ?? {}) as Record<string, string>, (g?.[field] ?? {}) as Record<string, string>);
  }
  return [l, g];
}

function maskPair(lv: Record<string, string>, gv: Record<string, string>): void {
  for (const k of new Set([...Object.keys(lv), ...Object.keys(gv)])) {
    const changed = k in lv && k in gv && lv[k] !== gv[k];
    if (k in lv) lv[k] = changed ? '*** (cluster value)' : '***';
    if (k in gv) gv[k] = changed ? '*** (Git value)' : '***';
  }
}

export const toYaml = (o: KubeObject | undefined): string =>
  o ? dump(o, { sortKeys: true, lineWidth: -1, noRefs: true }) : '';

/** The hunks from the live object to what Git would make of it, ignoring `ignoredPaths`. */
export function objectDiff(
  live: KubeObject | undefined,
  git: KubeObject | undefined,
  ignoredPaths: readonly string[] = [],
): Hunk[] {
  const prep = (o: KubeObject | undefined) => o && withoutPaths(normalize(o), ignoredPaths);
  const [l, g] = maskSecrets(prep(live), prep(git));
  return diffText(toYaml(l), toYaml(g));
}
