// The kinds the dashboard shows: every kind in controllers/api (allKinds), described for the browser
// from its schema, so a new controller's kind appears without a dashboard change.
import { allKinds, type KindDescriptor, schemaOf } from '../api/index.ts';
import type { KindInfo } from './model/rows.ts';

const specFields = (d: KindDescriptor): Record<string, unknown> =>
  ((schemaOf(d) as { properties?: { spec?: { properties?: Record<string, unknown> } } }).properties?.spec
    ?.properties ?? {}) as Record<string, unknown>;

/** The browser's view of a kind, not yet probed. */
export function kindInfo(d: KindDescriptor): KindInfo {
  const spec = specFields(d);
  return {
    kind: d.kind,
    group: d.group,
    version: d.version,
    apiVersion: d.apiVersion,
    plural: d.plural,
    hasStatus: d.statusSubresource,
    suspendable: 'suspend' in spec,
    hasDependsOn: 'dependsOn' in spec,
    availability: 'pending',
  };
}

export const uiKinds = (): readonly KindDescriptor[] => allKinds;

/** The descriptor of a kind by its name (kinds are unique by name across Tide's groups). */
export function descriptorOf(
  kind: string,
  kinds: readonly KindDescriptor[] = allKinds,
): KindDescriptor | undefined {
  return kinds.find((d) => d.kind === kind);
}
