// Pieces every page uses: state badges, health badges, counters and notices.
import type { ComponentChildren } from 'preact';
import type { Counts } from '../model/overview.ts';
import { type State, stateOrder } from '../model/rows.ts';

const stateLabel: Record<State, string> = {
  failing: 'Failing',
  progressing: 'Progressing',
  suspended: 'Suspended',
  ready: 'Ready',
};

export function StateBadge({ state }: { state: State }) {
  return <span class={`badge state-${state}`}>{stateLabel[state]}</span>;
}

/** kstatus health of an applied object. */
export function HealthBadge({ status }: { status: string }) {
  const cls =
    status === 'Current'
      ? 'state-ready'
      : status === 'Failed'
        ? 'state-failing'
        : status === 'InProgress' || status === 'Terminating'
          ? 'state-progressing'
          : 'state-unknown';
  return <span class={`badge ${cls}`}>{status}</span>;
}

export function CountCards({
  counts,
  selected,
  onSelect,
}: {
  counts: Counts;
  selected: readonly State[];
  onSelect(state: State): void;
}) {
  return (
    <div class="cards">
      {stateOrder.map((s) => (
        <button
          type="button"
          key={s}
          class={`card state-${s}${selected.includes(s) ? ' selected' : ''}`}
          aria-pressed={selected.includes(s)}
          onClick={() => onSelect(s)}
        >
          <span class="card-count" data-state={s}>
            {counts[s]}
          </span>
          <span class="card-label">{stateLabel[s]}</span>
        </button>
      ))}
      <div class="card total">
        <span class="card-count">{counts.total}</span>
        <span class="card-label">Objects</span>
      </div>
    </div>
  );
}

export function Notice({ kind, children }: { kind: 'error' | 'info' | 'ok'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function CountCells({ counts }: { counts: Counts }) {
  return (
    <>
      {stateOrder.map((s) => (
        <td key={s} class={`num ${counts[s] ? `count-${s}` : 'zero'}`}>
          {counts[s] || '·'}
        </td>
      ))}
    </>
  );
}
