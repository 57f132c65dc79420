// tide check [--pre] [--components ...] [--components-extra ...]
// Prerequisites (the Kubernetes version the chart needs), then the controllers (their Deployments
// rolled out) and the CRDs (each established, serving its version) (F2 cmd/flux/check.go).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allKinds } from '../../api/index.ts';
import { computeStatus, Statuses } from '../../runtime/apply/health.ts';
import { isMap, parseYaml } from '../../runtime/helm/yaml.ts';
import { parseConstraint, parseVersion } from '../../runtime/semver.ts';
import { bool, type Command, type Context, list } from '../command.ts';
import { CliError } from '../errors.ts';
import { tideDeployments } from '../install/apply.ts';
import { chartComponents, selectComponents } from '../install/components.ts';
import { chartDir } from '../package.ts';

/** The chart's kubeVersion constraint, e.g. `>=1.33.0-0`. */
export function kubeVersionConstraint(chart = chartDir()): string {
  const meta = parseYaml(readFileSync(join(chart, 'Chart.yaml'), 'utf8'));
  return isMap(meta) && typeof meta.kubeVersion === 'string' ? meta.kubeVersion : '>=1.33.0-0';
}

async function checkPrerequisites(ctx: Context): Promise<boolean> {
  ctx.log.action('checking prerequisites');
  const client = await ctx.client();
  const info = await client.request<{ gitVersion: string }>('GET', '/version');
  const version = info.gitVersion.replace(/^v/, '').replace(/[+].*$/, '');
  const constraint = kubeVersionConstraint();
  const parsed = parseVersion(version);
  if (!parsed || !parseConstraint(constraint).check(parsed)) {
    ctx.log.failure(`Kubernetes ${version} does not match ${constraint}`);
    return false;
  }
  ctx.log.success(`Kubernetes ${version} ${constraint}`);
  return true;
}

async function checkControllers(ctx: Context): Promise<boolean> {
  ctx.log.action('checking controllers');
  const components = list(ctx, 'components');
  const { selected } = selectComponents(
    chartComponents(),
    components.length ? components : undefined,
    list(ctx, 'components-extra'),
  );
  const found = await tideDeployments(ctx, ctx.namespace);
  let ok = true;
  for (const key of selected) {
    const name = `${key}-controller`;
    const d = found.find((x) => x.metadata.name === name);
    if (!d) {
      ctx.log.failure(`${name}: deployment not found in "${ctx.namespace}"`);
      ok = false;
      continue;
    }
    const st = computeStatus(d);
    if (st.status === Statuses.Current) ctx.log.success(`${name}: deployment ready`);
    else {
      ctx.log.failure(`${name}: deployment not ready: ${st.message || st.status}`);
      ok = false;
    }
    for (const c of d.spec?.template?.spec?.containers ?? []) ctx.log.action(`${name}: ${c.image}`);
  }
  // Deployments beyond the selection (e.g. extras installed earlier) are reported too.
  for (const d of found)
    if (!selected.some((k) => `${k}-controller` === d.metadata.name)) {
      const st = computeStatus(d);
      if (st.status === Statuses.Current) ctx.log.success(`${d.metadata.name}: deployment ready`);
      else {
        ctx.log.failure(`${d.metadata.name}: deployment not ready: ${st.message || st.status}`);
        ok = false;
      }
    }
  return ok;
}

async function checkCrds(ctx: Context): Promise<boolean> {
  ctx.log.action('checking crds');
  const client = await ctx.client();
  let ok = true;
  for (const kind of allKinds) {
    const name = `${kind.plural}.${kind.group}`;
    const crd = await client.tryGet({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name,
    });
    if (!crd) {
      ctx.log.failure(`${name}: not installed`);
      ok = false;
      continue;
    }
    const st = computeStatus(crd);
    const served = (crd.spec?.versions ?? []).some(
      (v: { name: string; served?: boolean }) => v.name === kind.version && v.served !== false,
    );
    if (st.status !== Statuses.Current || !served) {
      ctx.log.failure(`${name}/${kind.version}: ${served ? st.message : 'version not served'}`);
      ok = false;
    } else ctx.log.success(`${name}/${kind.version}`);
  }
  return ok;
}

async function run(ctx: Context, args: string[]): Promise<number> {
  if (args.length) throw new CliError(`tide check takes no arguments, got: ${args.join(' ')}`);
  let ok = await checkPrerequisites(ctx);
  if (bool(ctx, 'pre')) {
    if (!ok) throw new CliError('prerequisites checks failed');
    ctx.log.success('prerequisites checks passed');
    return 0;
  }
  ok = (await checkControllers(ctx)) && ok;
  ok = (await checkCrds(ctx)) && ok;
  if (!ok) throw new CliError('check failed');
  ctx.log.success('all checks passed');
  return 0;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'Check requirements and installation',
  flags: {
    pre: { type: 'boolean', description: 'only check the prerequisites (the Kubernetes version)' },
    components: {
      type: 'string',
      list: true,
      description: "the controllers that must run (default: the chart's)",
    },
    'components-extra': { type: 'string', list: true, description: 'more controllers that must run' },
  },
  run,
  help: `Check that the cluster can run Tide (--pre: the Kubernetes version the chart requires), and that
Tide runs: every controller's Deployment rolled out, every CRD established and serving its version.
Exits 1 when a check fails.

Usage:
  tide check [flags]

Examples:
  # Before installing
  tide check --pre

  # After installing, with the image automation controllers
  tide check --components-extra image-reflector-controller,image-automation-controller
`,
};
