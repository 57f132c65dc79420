// Which Alerts an event goes to (Flux internal/server/event_handlers.go filterAlertsForEvent): not
// suspended, an event source matching the object (kind, namespace defaulting to the Alert's, name or
// `*`, matchLabels read from the object), the severity, then inclusionList and exclusionList.

import { Reasons } from '../api/names.ts';
import type { Alert } from '../api/notification.ts';
import type { KubeObject } from '../runtime/object.ts';
import type { NotificationEvent } from './event.ts';

/** Index of the Alert cache: `<kind>/<namespace>` of every event source. */
export const bySource = 'eventSource';
/** Index of the Alert cache: `<namespace>/<provider name>`. */
export const byProvider = 'providerRef';

export const sourceKey = (kind: string, namespace: string) => `${kind}/${namespace}`;

export function sourceKeys(o: KubeObject): string[] {
  const a = o as Alert;
  return (a.spec?.eventSources ?? []).map((s) =>
    sourceKey(s.kind, s.namespace || (a.metadata.namespace ?? '')),
  );
}

export const providerKeys = (o: KubeObject): string[] => {
  const a = o as Alert;
  return a.spec?.providerRef?.name ? [`${a.metadata.namespace ?? ''}/${a.spec.providerRef.name}`] : [];
};

/** What an Alert's configuration got wrong, reported as a Warning event on the Alert. */
export type Report = (reason: string, message: string) => void;

/** The labels of the event's object, for matchLabels; undefined when it cannot be read. */
export type LabelsOf = (obj: {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}) => Promise<Record<string, string> | undefined>;

/**
 * A Go (RE2) regular expression as a JavaScript one: leading flag groups such as `(?i)` become flags,
 * `\A` and `\z` anchors the text. Matching searches anywhere, as Go's MatchString.
 */
export function goRegExp(pattern: string): RegExp {
  let source = pattern;
  let flags = '';
  for (let m = /^\(\?([imsU]+)\)/.exec(source); m; m = /^\(\?([imsU]+)\)/.exec(source)) {
    for (const f of m[1] ?? '') {
      if (f === 'U') throw new Error('the U (ungreedy) flag is not supported');
      if (!flags.includes(f)) flags += f;
    }
    source = source.slice(m[0].length);
  }
  source = source.replaceAll('\\A', '^').replaceAll('\\z', '$(?![\\s\\S])');
  return new RegExp(source, flags);
}

// Compiled expressions by source; an Alert's lists rarely change.
const compiled = new Map<string, RegExp | Error>();

function compile(pattern: string): RegExp | Error {
  let re = compiled.get(pattern);
  if (!re) {
    try {
      re = goRegExp(pattern);
    } catch (err) {
      re = err as Error;
    }
    if (compiled.size > 1024) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/** True when a pattern of the list matches; a pattern that does not compile is reported and skipped. */
function anyMatches(list: readonly string[], message: string, what: string, report: Report): boolean {
  for (const p of list) {
    const re = compile(p);
    if (re instanceof Error) {
      report(Reasons.InvalidConfig, `failed to compile ${what} regex: ${p}: ${re.message}`);
      continue;
    }
    if (re.test(message)) return true;
  }
  return false;
}

async function sourceMatches(
  alert: Alert,
  event: NotificationEvent,
  source: Alert['spec']['eventSources'][number],
  labelsOf: LabelsOf,
  report: Report,
): Promise<boolean> {
  const io = event.involvedObject;
  const namespace = source.namespace || alert.metadata.namespace;
  if (io.namespace !== namespace || io.kind !== source.kind) return false;
  const severity = alert.spec.eventSeverity ?? 'info';
  if (event.severity !== severity && severity !== 'info') return false;
  if (source.name !== '*' && source.name !== io.name) return false;
  if (!source.matchLabels) return true;
  // The source's apiVersion, when set, names the version to read the object at.
  const apiVersion = source.apiVersion || io.apiVersion || '';
  const labels = await labelsOf({ apiVersion, kind: io.kind, namespace: io.namespace, name: io.name });
  if (!labels) {
    report(Reasons.SourceFetchFailed, `error getting source object ${io.kind}/${io.namespace}/${io.name}`);
    return false;
  }
  return Object.entries(source.matchLabels).every(([k, v]) => labels[k] === v);
}

/** True when the event goes to this Alert. */
export async function alertMatches(
  alert: Alert,
  event: NotificationEvent,
  labelsOf: LabelsOf,
  report: Report,
): Promise<boolean> {
  if (alert.spec.suspend) return false;
  let matched = false;
  for (const source of alert.spec.eventSources ?? []) {
    if (await sourceMatches(alert, event, source, labelsOf, report)) {
      matched = true;
      break;
    }
  }
  if (!matched) return false;
  const { inclusionList, exclusionList } = alert.spec;
  if (inclusionList?.length && !anyMatches(inclusionList, event.message, 'inclusion', report)) return false;
  if (exclusionList?.length && anyMatches(exclusionList, event.message, 'exclusion', report)) return false;
  return true;
}

/** Problems of an Alert's spec that show before any event: patterns that do not compile. */
export function alertProblems(alert: Alert): string[] {
  const problems: string[] = [];
  for (const [what, list] of [
    ['inclusionList', alert.spec.inclusionList],
    ['exclusionList', alert.spec.exclusionList],
  ] as const) {
    for (const p of list ?? []) {
      const re = compile(p);
      if (re instanceof Error) problems.push(`spec.${what}: failed to compile regex ${p}: ${re.message}`);
    }
  }
  return problems;
}
