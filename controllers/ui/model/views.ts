// The shapes the dashboard's API answers with, shared by the server that builds them and the pages
// that render them. Types only.
import type { Hunk } from './diff.ts';
import type { HistoryEntry } from './history.ts';
import type { KindInfo, Ref, Row } from './rows.ts';

export interface EventView {
  type: string;
  reason: string;
  message: string;
  count: number;
  first?: string;
  last?: string;
  revision?: string;
  from?: string;
}

export interface SourceView {
  ref: Ref;
  /** Absent when the source is not in the cache (missing, or not visible). */
  row?: Row;
  url?: string;
  /** The source's stored revision, and its commit page. */
  revision?: string;
  commitUrl?: string;
}

export interface Detail {
  kind: KindInfo;
  row: Row;
  /** The object as the API server has it, without managedFields. */
  // biome-ignore lint/suspicious/noExplicitAny: any Tide object
  object: { metadata: Record<string, unknown>; spec?: any; status?: any; [k: string]: unknown };
  source?: SourceView;
  /** The commit page of the row's own revision, when it is a Git commit of a known host. */
  revisionUrl?: string;
  events: EventView[];
  eventsError?: string;
  lastReconcile?: { duration?: string; at?: string };
  history: HistoryEntry[];
  /** What the page offers; the API server still decides when the button is pressed. */
  actions: { reconcile: boolean; withSource: boolean; suspend: boolean; resume: boolean; rollback: boolean };
  views: { inventory: boolean; drift: boolean };
}

export interface InventoryNode {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** kstatus: Current, InProgress, Failed, Terminating, NotFound, Unknown. */
  status: string;
  message: string;
  children: InventoryNode[];
}

export interface InventoryView {
  /** Where the list comes from. */
  from: 'status.inventory' | 'helm release' | 'none';
  nodes: InventoryNode[];
  total: number;
  error?: string;
}

export interface DriftObject {
  subject: string;
  kind: string;
  namespace: string;
  name: string;
  /** What applying Git now would do: created, configured, unchanged, skipped; deleted (pruned) or orphaned. */
  action: 'created' | 'configured' | 'unchanged' | 'skipped' | 'deleted' | 'orphaned';
  hunks: Hunk[];
  /** Who else wrote the live object (manager, operation, time), the usual authors of drift. */
  changedBy: { manager: string; operation: string; time?: string }[];
}

export interface DriftView {
  /** The source revision rendered. */
  revision: string;
  /** What the Kustomization last applied. */
  appliedRevision: string;
  computedAt: string;
  counts: Record<string, number>;
  objects: DriftObject[];
}

export type EdgeState = 'ok' | 'blocked' | 'warning';

export interface GraphEdge {
  from: string;
  to: string;
  type: 'dependsOn' | 'source';
  state: EdgeState;
  reason: string;
}

export interface GraphNode {
  key: string;
  row?: Row;
  /** A reference to an object that is not there (or not visible). */
  missing?: Ref;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface Session {
  user: string;
  groups: string[];
  mode: 'local' | 'token' | 'header' | 'oidc';
  rollback: boolean;
}
