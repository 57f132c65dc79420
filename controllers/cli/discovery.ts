// kubectl's resource words (`deployment`, `deploy`, `deployments.apps`, `cm`, `hr`) resolved through
// API discovery, for commands that take any kind of object (`tide trace`).
import type { Client } from '../runtime/client.ts';
import { CliError } from './errors.ts';

export interface Resource {
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

interface ApiResource {
  name: string;
  singularName?: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
}

/** True when `word` names the resource: plural, singular, kind or a short name, any case. */
export function namesResource(r: ApiResource, word: string): boolean {
  const w = word.toLowerCase();
  return (
    r.name === w || r.singularName === w || r.kind.toLowerCase() === w || (r.shortNames ?? []).includes(w)
  );
}

/**
 * Finds the resource a word names, the core group first, then every group at its preferred version
 * (`deployment.apps` narrows to a group). Subresources never match.
 */
export async function resolveResource(client: Client, word: string): Promise<Resource> {
  const dot = word.indexOf('.');
  const name = dot < 0 ? word : word.slice(0, dot);
  const group = dot < 0 ? undefined : word.slice(dot + 1);
  const versions: string[] = [];
  if (group === undefined || group === '') versions.push('v1');
  if (group !== '') {
    const groups = await client.request<{
      groups: { name: string; preferredVersion: { groupVersion: string } }[];
    }>('GET', '/apis');
    for (const g of groups.groups)
      if (group === undefined || g.name === group) versions.push(g.preferredVersion.groupVersion);
  }
  for (const gv of versions) {
    const path = gv === 'v1' ? '/api/v1' : `/apis/${gv}`;
    const list = await client.request<{ resources: ApiResource[] }>('GET', path);
    const found = list.resources.find((r) => !r.name.includes('/') && namesResource(r, name));
    if (found) return { apiVersion: gv, kind: found.kind, namespaced: found.namespaced };
  }
  throw new CliError(`the server doesn't have a resource type "${word}"`);
}
