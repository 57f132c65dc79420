// Pieces every page uses: state badges, health badges, counters and notices.
import type { ComponentChildren } from 'preact';
import type { Counts, Group } from '../model/overview.ts';
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

/** A select of `values` with an "all" choice (the empty value). */
export function Choice({
  label,
  all,
  value,
  values,
  onChange,
}: {
  label: string;
  all: string;
  value: string;
  values: readonly string[];
  onChange(v: string): void;
}) {
  return (
    <select
      aria-label={label}
      value={value}
      onChange={(e) => onChange((e.target as HTMLSelectElement).value)}
    >
      <option value="">{all}</option>
      {values.map((v) => (
        <option key={v} value={v}>
          {v}
        </option>
      ))}
    </select>
  );
}

/** State counts per group (namespace, kind); a click on a group selects it (again: unselects). */
export function CountTable({
  title,
  groups,
  selected,
  onSelect,
}: {
  title: string;
  groups: Group[];
  selected: string;
  onSelect(name: string): void;
}) {
  return (
    <table class="counts" aria-label={`By ${title.toLowerCase()}`}>
      <thead>
        <tr>
          <th>{title}</th>
          {stateOrder.map((s) => (
            <th key={s} class={`num state-${s}`} title={s}>
              {s[0]?.toUpperCase()}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <tr key={g.name} class={selected === g.name ? 'selected' : ''}>
            <td>
              <button type="button" class="link" onClick={() => onSelect(selected === g.name ? '' : g.name)}>
                {g.name}
              </button>
            </td>
            <CountCells counts={g.counts} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}
