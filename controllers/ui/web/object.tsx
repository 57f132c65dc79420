// The object page: state, actions, and the tabs Status (conditions, source, events, last reconcile),
// Inventory (applied objects as a tree with health), Drift (Git against the cluster), History and YAML.
// It loads again whenever the object's row changes on the live stream.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Hunk } from '../model/diff.ts';
import { rowKey } from '../model/rows.ts';
import type { Detail, DriftObject, DriftView, InventoryNode, InventoryView } from '../model/views.ts';
import { toYaml } from '../model/yaml.ts';
import { ApiError, live, objectPath, postJson, useJson, useLive } from './api.ts';
import { HealthBadge, Notice, StateBadge } from './components.tsx';
import { ago, shortRevision } from './format.ts';
import { graphHref, objectHref } from './router.ts';

interface Props {
  kind: string;
  namespace: string;
  name: string;
  tab: string;
}

/** The row of this object on the live stream: a new object each time the watch sees a change. */
function useRow(key: string) {
  useLive();
  return live.rows.get(key);
}

type ActionResult = { ok: boolean; message: string } | undefined;

function Actions({ detail, onResult }: { detail: Detail; onResult(r: ActionResult): void }) {
  const [busy, setBusy] = useState('');
  const { kind, namespace, name } = detail.row;
  const run = async (id: string, action: string, body: Record<string, unknown> = {}) => {
    setBusy(id);
    onResult(undefined);
    try {
      const r = await postJson<{ message: string }>(
        `${objectPath(kind, namespace, name)}/actions/${action}`,
        body,
      );
      onResult({ ok: true, message: r.message });
    } catch (err) {
      onResult({ ok: false, message: err instanceof ApiError ? err.message : String(err) });
    } finally {
      setBusy('');
    }
  };
  const a = detail.actions;
  const button = (action: string, label: string, body?: Record<string, unknown>, id = action) => (
    <button type="button" key={id} disabled={busy !== ''} onClick={() => run(id, action, body)}>
      {busy === id ? `${label}…` : label}
    </button>
  );
  return (
    <div class="actions">
      {a.reconcile && button('reconcile', 'Reconcile')}
      {a.reconcile &&
        a.withSource &&
        button('reconcile', 'Reconcile with source', { withSource: true }, 'reconcile-source')}
      {a.suspend && button('suspend', 'Suspend')}
      {a.resume && button('resume', 'Resume')}
      {a.rollback && button('rollback', 'Roll back')}
    </div>
  );
}

function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function SourceFact({ source }: { source: NonNullable<Detail['source']> }) {
  const { ref } = source;
  return (
    <>
      {source.row ? (
        <a href={objectHref(ref.kind, ref.namespace, ref.name)}>
          {ref.kind} {ref.namespace}/{ref.name}
        </a>
      ) : (
        <span class="missing">
          {ref.kind} {ref.namespace}/{ref.name} (not found)
        </span>
      )}
      {source.row && <StateBadge state={source.row.state} />}
      {source.revision && (
        <span class="source-revision">
          {' at '}
          {source.commitUrl ? (
            <a href={source.commitUrl} target="_blank" rel="noreferrer noopener" class="commit">
              {shortRevision(source.revision)}
            </a>
          ) : (
            shortRevision(source.revision)
          )}
        </span>
      )}
      {source.url && <div class="url">{source.url}</div>}
    </>
  );
}

function StatusTab({ detail }: { detail: Detail }) {
  const { row, source } = detail;
  const conditions = (detail.object.status?.conditions ?? []) as {
    type: string;
    status: string;
    reason?: string;
    message?: string;
    lastTransitionTime?: string;
  }[];
  const now = Date.now();
  return (
    <div class="status-tab">
      <dl class="facts">
        <Fact label="Revision">
          {detail.revisionUrl ? (
            <a href={detail.revisionUrl} target="_blank" rel="noreferrer noopener" class="commit">
              {shortRevision(row.revision)}
            </a>
          ) : (
            <span title={row.revision}>{shortRevision(row.revision) || '—'}</span>
          )}
        </Fact>
        {source && (
          <Fact label="Source">
            <SourceFact source={source} />
          </Fact>
        )}
        <Fact label="Last reconcile">
          {detail.lastReconcile ? (
            <span class="last-reconcile">
              took {detail.lastReconcile.duration ?? '?'}
              {detail.lastReconcile.at ? `, ${ago(detail.lastReconcile.at, now)}` : ''}
            </span>
          ) : (
            '—'
          )}
        </Fact>
        <Fact label="Last handled request">
          <span class="handled">{row.lastHandledReconcileAt ?? '—'}</span>
        </Fact>
        <Fact label="Generation">
          {row.generation ?? '—'} (observed {row.observedGeneration ?? '—'})
        </Fact>
        {row.dependsOn && (
          <Fact label="Depends on">
            {row.dependsOn.map((d) => (
              <a
                key={`${d.namespace}/${d.name}`}
                class="dep"
                href={objectHref(row.kind, d.namespace, d.name)}
              >
                {d.namespace}/{d.name}
              </a>
            ))}{' '}
            <a href={graphHref({ focus: row.key })}>graph</a>
          </Fact>
        )}
      </dl>
      <h3>Conditions</h3>
      {conditions.length === 0 ? (
        <p class="muted">No conditions.</p>
      ) : (
        <table class="conditions">
          <thead>
            <tr>
              <th>Type</th>
              <th>Status</th>
              <th>Reason</th>
              <th>Message</th>
              <th>Since</th>
            </tr>
          </thead>
          <tbody>
            {conditions.map((c) => (
              <tr key={c.type} class={`cond-${c.status}`}>
                <td>{c.type}</td>
                <td>{c.status}</td>
                <td>{c.reason}</td>
                <td class="message">{c.message}</td>
                <td title={c.lastTransitionTime}>{ago(c.lastTransitionTime, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Events</h3>
      {detail.eventsError && <Notice kind="info">{detail.eventsError}</Notice>}
      {detail.events.length === 0 && !detail.eventsError ? (
        <p class="muted">No recent events (Kubernetes keeps them for an hour).</p>
      ) : (
        <table class="events">
          <thead>
            <tr>
              <th>Type</th>
              <th>Reason</th>
              <th>Message</th>
              <th>Count</th>
              <th>Last</th>
            </tr>
          </thead>
          <tbody>
            {detail.events.map((e, i) => (
              <tr key={`${e.last}-${i}`} class={`event-${e.type}`}>
                <td>{e.type}</td>
                <td>{e.reason}</td>
                <td class="message">{e.message}</td>
                <td class="num">{e.count}</td>
                <td title={e.last}>{ago(e.last, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Tree({ nodes, depth = 0 }: { nodes: InventoryNode[]; depth?: number }) {
  return (
    <ul class={depth ? 'tree nested' : 'tree'}>
      {nodes.map((n) => (
        <li key={`${n.apiVersion}/${n.kind}/${n.namespace}/${n.name}`} class="inventory-item">
          <span class="node">
            <HealthBadge status={n.status} />
            <span class="kind">{n.kind}</span>
            <span class="name">
              {n.namespace ? `${n.namespace}/` : ''}
              {n.name}
            </span>
            {n.message && <span class="muted"> — {n.message}</span>}
          </span>
          {n.children.length > 0 && <Tree nodes={n.children} depth={depth + 1} />}
        </li>
      ))}
    </ul>
  );
}

function InventoryTab({ path, version }: { path: string; version: unknown }) {
  const [tick, setTick] = useState(0);
  // Pods and ReplicaSets are not watched: look again every 15 s while the tab is open.
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 15_000);
    return () => clearInterval(t);
  }, []);
  const inv = useJson<InventoryView>(`${path}/inventory`, [version, tick]);
  if (inv.error) return <Notice kind="error">{inv.error.message}</Notice>;
  if (!inv.data) return <p class="muted">Reading the applied objects…</p>;
  if (inv.data.error) return <Notice kind="error">{inv.data.error}</Notice>;
  return (
    <div class="inventory">
      <p class="muted">
        {inv.data.total} objects, from {inv.data.from}
      </p>
      <Tree nodes={inv.data.nodes} />
    </div>
  );
}

function HunkView({ hunk }: { hunk: Hunk }) {
  return (
    <tbody class="hunk">
      <tr class="hunk-head">
        <td colSpan={3}>
          @@ -{hunk.oldStart},{hunk.oldLines} +{hunk.newStart},{hunk.newLines} @@
        </td>
      </tr>
      {hunk.lines.map((l, i) => (
        <tr key={i} class={`line line-${l.op}`}>
          <td class="ln">{l.old ?? ''}</td>
          <td class="ln">{l.new ?? ''}</td>
          <td class="text">
            {l.op === 'add' ? '+' : l.op === 'del' ? '-' : ' '}
            {l.text}
          </td>
        </tr>
      ))}
    </tbody>
  );
}

function DriftItem({ o }: { o: DriftObject }) {
  const changed = o.hunks.length > 0;
  const [open, setOpen] = useState(changed);
  return (
    <div class={`drift-object action-${o.action}`} data-subject={o.subject}>
      <button type="button" class="drift-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span class={`badge action ${o.action}`}>{o.action}</span>
        <span class="subject">{o.subject}</span>
        {o.changedBy.length > 0 && (
          <span class="muted changed-by">
            also written by{' '}
            {o.changedBy
              .map((m) => `${m.manager} (${m.operation}${m.time ? `, ${ago(m.time)}` : ''})`)
              .join(', ')}
          </span>
        )}
      </button>
      {open && changed && (
        <table class="diff">
          {o.hunks.map((h, i) => (
            <HunkView key={i} hunk={h} />
          ))}
        </table>
      )}
      {open && !changed && (
        <p class="muted">{o.action === 'unchanged' ? 'No difference.' : `Would be ${o.action}.`}</p>
      )}
    </div>
  );
}

function DriftTab({ path }: { path: string }) {
  const [run, setRun] = useState(0);
  const drift = useJson<DriftView>(`${path}/drift`, [run]);
  const [showAll, setShowAll] = useState(false);
  const recompute = (
    <button type="button" disabled={drift.loading} onClick={() => setRun((n) => n + 1)}>
      {drift.loading ? 'Computing…' : 'Compute again'}
    </button>
  );
  if (drift.error)
    return (
      <div class="drift">
        <Notice kind="error">
          <pre class="preline">{drift.error.message}</pre>
        </Notice>
        {recompute}
      </div>
    );
  if (!drift.data) return <p class="muted">Building the source and dry-running it against the cluster…</p>;
  const d = drift.data;
  const differing = d.objects.filter((o) => o.action !== 'unchanged' && o.action !== 'skipped');
  const shown = showAll ? d.objects : differing;
  return (
    <div class="drift">
      <div class="drift-summary">
        <span>
          Git at <b title={d.revision}>{shortRevision(d.revision)}</b> against the cluster
          {d.appliedRevision !== d.revision && ` (last applied ${shortRevision(d.appliedRevision)})`}:{' '}
        </span>
        <span class="legend">
          <span class="line-del">− cluster</span> <span class="line-add">+ Git</span>
        </span>
        {Object.entries(d.counts).map(([k, v]) => (
          <span key={k} class={`badge action ${k}`}>
            {v} {k}
          </span>
        ))}
        {recompute}
        <label class="toggle">
          <input type="checkbox" checked={showAll} onChange={() => setShowAll(!showAll)} /> show unchanged
        </label>
      </div>
      {differing.length === 0 && <Notice kind="ok">No drift: the cluster matches what Git renders.</Notice>}
      {shown.map((o) => (
        <DriftItem key={o.subject} o={o} />
      ))}
    </div>
  );
}

function HistoryTab({ detail }: { detail: Detail }) {
  const now = Date.now();
  if (!detail.history.length) return <p class="muted">No history recorded yet.</p>;
  return (
    <table class="history">
      <thead>
        <tr>
          <th>Revision</th>
          <th>Outcome</th>
          <th>First</th>
          <th>Last</th>
          <th>Duration</th>
          <th>Count</th>
        </tr>
      </thead>
      <tbody>
        {detail.history.map((h, i) => (
          <tr key={`${h.revision}-${i}`} class={h.ok ? 'ok' : 'failed'}>
            <td title={h.revision}>{shortRevision(h.revision)}</td>
            <td>
              <span class={`badge ${h.ok ? 'state-ready' : 'state-failing'}`}>
                {h.status || (h.ok ? 'ok' : 'failed')}
              </span>
            </td>
            <td title={h.first}>{ago(h.first, now)}</td>
            <td title={h.last}>{ago(h.last, now)}</td>
            <td>{h.duration ?? ''}</td>
            <td class="num">{h.count ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ObjectPage({ kind, namespace, name, tab }: Props) {
  const key = rowKey(kind, namespace, name);
  const row = useRow(key);
  const path = objectPath(kind, namespace, name);
  const detail = useJson<Detail>(path, [row]);
  const [result, setResult] = useState<ActionResult>(undefined);
  const yaml = useMemo(() => (detail.data ? toYaml(detail.data.object) : ''), [detail.data]);
  useEffect(() => setResult(undefined), [key]);
  const d = detail.data;
  if (!d && detail.error) return <Notice kind="error">{detail.error.message}</Notice>;
  if (!d) return <p class="muted">Loading…</p>;
  const current = row ?? d.row;
  const tabs = [
    ['status', 'Status'],
    ...(d.views.inventory ? [['inventory', 'Inventory']] : []),
    ...(d.views.drift ? [['drift', 'Drift']] : []),
    ['history', 'History'],
    ['yaml', 'YAML'],
  ] as [string, string][];
  return (
    <main class="object-page">
      <header class="object-head">
        <div>
          <div class="crumbs">
            <a href="#/">Overview</a> / {kind}
          </div>
          <h2>
            <span class="ns">{namespace}/</span>
            {name} <StateBadge state={current.state} />
          </h2>
          <p class={`ready-message state-${current.state}`}>
            {current.reason && <span class="reason">{current.reason}</span>} {current.message}
          </p>
        </div>
        <Actions detail={d} onResult={setResult} />
      </header>
      {result && (
        <Notice kind={result.ok ? 'ok' : 'error'}>
          <span class="action-result">{result.message}</span>
        </Notice>
      )}
      <nav class="tabs">
        {tabs.map(([id, label]) => (
          <a key={id} href={objectHref(kind, namespace, name, id)} class={tab === id ? 'active' : ''}>
            {label}
          </a>
        ))}
      </nav>
      {tab === 'status' && <StatusTab detail={d} />}
      {tab === 'inventory' && <InventoryTab path={path} version={row} />}
      {tab === 'drift' && <DriftTab path={path} />}
      {tab === 'history' && <HistoryTab detail={d} />}
      {tab === 'yaml' && <pre class="yaml">{yaml}</pre>}
    </main>
  );
}
