// The controllers Tide can install: the `controllers` entries of the chart's values.yaml (one entry per
// controller), which are on by default there (Flux's --components), and which this build has at all
// (controllers/<key>/main.ts or dist/controllers/<key>/main.js): a controller not built yet is skipped.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, parseYaml } from '../../runtime/helm/yaml.ts';
import { CliError } from '../errors.ts';
import { chartDir, packageRoot } from '../package.ts';

export interface Component {
  /** The chart's values key and the folder of the controller: source, kustomize, image-reflector. */
  key: string;
  /** Its Deployment, ServiceAccount and component name: source-controller. */
  name: string;
  /** On by default in values.yaml. */
  enabled: boolean;
  /** This build has the controller. */
  available: boolean;
}

/** The controllers of the chart, in values.yaml order. */
export function chartComponents(chart = chartDir(), root = packageRoot()): Component[] {
  const values = parseYaml(readFileSync(join(chart, 'values.yaml'), 'utf8'));
  const controllers = isMap(values) && isMap(values.controllers) ? values.controllers : {};
  return Object.entries(controllers).map(([key, v]) => ({
    key,
    name: `${key}-controller`,
    enabled: isMap(v) && v.enabled === true,
    available:
      !!root &&
      (existsSync(join(root, 'controllers', key, 'main.ts')) ||
        existsSync(join(root, 'dist', 'controllers', key, 'main.js'))),
  }));
}

export interface Selection {
  /** Keys to install. */
  selected: string[];
  /** Asked for (or on by default) but not part of this build. */
  skipped: string[];
}

/**
 * The components to install: `components` (default: the chart's enabled ones) plus `extra`, named by key
 * or Deployment name (`source` or `source-controller`); unknown names fail, unavailable ones are skipped.
 */
export function selectComponents(
  all: readonly Component[],
  components: readonly string[] | undefined,
  extra: readonly string[] = [],
): Selection {
  const byName = (n: string) => {
    const c = all.find((x) => x.key === n || x.name === n);
    if (!c) throw new CliError(`unknown component "${n}": want one of ${all.map((x) => x.name).join(', ')}`);
    return c;
  };
  const wanted = [
    ...(components?.length ? components.map(byName) : all.filter((c) => c.enabled)),
    ...extra.map(byName),
  ];
  const unique = all.filter((c) => wanted.includes(c));
  return {
    selected: unique.filter((c) => c.available).map((c) => c.key),
    skipped: unique.filter((c) => !c.available).map((c) => c.name),
  };
}
