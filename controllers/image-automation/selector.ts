// metav1.LabelSelector matching (matchLabels and matchExpressions, ANDed), with the validation
// apimachinery's LabelSelectorAsSelector applies; an empty or missing selector matches everything.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

/** Compiles a selector; throws Error (apimachinery's wording) for an invalid requirement. */
export function labelMatcher(selector: LabelSelector | undefined): LabelMatcher {
  const tests: LabelMatcher[] = [];
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) tests.push((l) => l?.[k] === v);
  for (const e of selector?.matchExpressions ?? []) {
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0)
          throw new Error(
            `values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`,
          );
        const has = (l: Record<string, string> | undefined) =>
          l?.[e.key] !== undefined && values.includes(l[e.key]!);
        tests.push(e.operator === 'In' ? has : (l) => !has(l));
        break;
      }
      case 'Exists':
      case 'DoesNotExist': {
        if (values.length > 0)
          throw new Error(
            `values: Invalid value: ${JSON.stringify(values)}: values set must be empty for exists and does not exist`,
          );
        const exists = (l: Record<string, string> | undefined) => l?.[e.key] !== undefined;
        tests.push(e.operator === 'Exists' ? exists : (l) => !exists(l));
        break;
      }
      default:
        throw new Error(`"${e.operator}" is not a valid label selector operator`);
    }
  }
  return (labels) => tests.every((t) => t(labels));
}
