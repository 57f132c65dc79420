// The dashboard's page: header with navigation, the live connection's state and who is signed in, and
// the page the hash route names.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Session } from '../model/views.ts';
import { getJson, live, useLive } from './api.ts';
import { GraphPage } from './graph.tsx';
import { ObjectPage } from './object.tsx';
import { Overview } from './overview.tsx';
import { useRoute } from './router.ts';
import './style.css';

function Header({ page }: { page: string }) {
  useLive();
  const [session, setSession] = useState<Session>();
  useEffect(() => {
    getJson<Session>('/api/session').then(setSession, () => undefined);
  }, []);
  const failing = [...live.rows.values()].filter((r) => r.state === 'failing').length;
  return (
    <header class="top">
      <a href="#/" class="brand">
        Tide
      </a>
      <nav>
        <a href="#/" class={page === 'overview' ? 'active' : ''}>
          Overview{failing ? <span class="pill state-failing">{failing}</span> : null}
        </a>
        <a href="#/graph" class={page === 'graph' ? 'active' : ''}>
          Graph
        </a>
      </nav>
      <span class={`conn conn-${live.connection}`} title="Updates arrive from the cluster's watches">
        {live.connection === 'live' ? 'live' : live.connection}
      </span>
      {session && (
        <span class="user" title={session.groups.join(', ')}>
          {session.user}
          {session.mode !== 'local' && (
            <a href="/logout" class="link">
              {' '}
              sign out
            </a>
          )}
        </span>
      )}
    </header>
  );
}

function App() {
  const route = useRoute();
  return (
    <>
      <Header page={route.page} />
      {route.page === 'overview' && <Overview query={route.query} />}
      {route.page === 'graph' && <GraphPage query={route.query} />}
      {route.page === 'object' && (
        <ObjectPage kind={route.kind} namespace={route.namespace} name={route.name} tab={route.tab} />
      )}
    </>
  );
}

live.connect();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
