// Hash routes, so every page is a link and the server serves one index.html:
//   #/?q=&kind=&ns=&state=        overview (filters in the query)
//   #/o/<Kind>/<namespace>/<name>[/<tab>]   object page
//   #/graph?ns=&focus=            dependency graph
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'overview'; query: URLSearchParams }
  | { page: 'object'; kind: string; namespace: string; name: string; tab: string; query: URLSearchParams }
  | { page: 'graph'; query: URLSearchParams };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = raw.split('?');
  const query = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'o' && parts.length >= 4)
    return {
      page: 'object',
      kind: parts[1] ?? '',
      namespace: parts[2] ?? '',
      name: parts[3] ?? '',
      tab: parts[4] ?? 'status',
      query,
    };
  if (parts[0] === 'graph') return { page: 'graph', query };
  return { page: 'overview', query };
}

export const objectHref = (kind: string, namespace: string, name: string, tab?: string) =>
  `#/o/${[kind, namespace, name, ...(tab ? [tab] : [])].map(encodeURIComponent).join('/')}`;

export const graphHref = (params: Record<string, string> = {}) => {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
  return `#/graph${q ? `?${q}` : ''}`;
};

const routeEvent = 'tide-route';

/** Replaces the query of the current route without a history entry (filters typed in a box). */
export function replaceQuery(params: Record<string, string>) {
  const raw = location.hash.replace(/^#/, '') || '/';
  const path = raw.split('?')[0] ?? '/';
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
  const next = `#${path}${q ? `?${q}` : ''}`;
  if (next === location.hash) return;
  history.replaceState(null, '', next);
  dispatchEvent(new Event(routeEvent));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    addEventListener(routeEvent, on);
    return () => {
      removeEventListener('hashchange', on);
      removeEventListener(routeEvent, on);
    };
  }, []);
  return route;
}
