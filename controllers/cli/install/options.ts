// The flags `tide install` and `tide bootstrap` share: which controllers, which image, and the chart
// values they set; read into RenderOptions once.
import { type Context, type FlagSpecs, list, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { chartComponents, selectComponents } from './components.ts';
import type { RenderOptions } from './render.ts';

export const installFlags: FlagSpecs = {
  components: {
    type: 'string',
    list: true,
    description:
      "the controllers to install (default: the chart's, source, kustomize, helm and notification)",
  },
  'components-extra': {
    type: 'string',
    list: true,
    description: 'more controllers to install: image-reflector-controller, image-automation-controller',
  },
  version: {
    type: 'string',
    short: 'v',
    description: "image tag of the controllers (default: this CLI's version)",
  },
  registry: { type: 'string', description: 'image repository of the controllers, e.g. ghcr.io/acme/tide' },
  'image-pull-secret': { type: 'string', description: 'Secret of the namespace used to pull the image' },
  'log-level': { type: 'string', description: 'log level of the controllers: debug, info or error' },
  'watch-all-namespaces': {
    type: 'boolean',
    description:
      'watch every namespace (default true; --watch-all-namespaces=false watches only the install namespace)',
  },
  'network-policy': { type: 'boolean', description: 'install the NetworkPolicies (default true)' },
  'cluster-domain': {
    type: 'string',
    description: 'the cluster domain of Service addresses (default cluster.local)',
  },
  values: { type: 'string', short: 'f', list: true, description: 'more chart values files' },
  set: { type: 'string', list: true, description: 'chart values, as helm --set takes them' },
};

const boolFlag = (ctx: Context, name: string): boolean | undefined => {
  const v = ctx.flags[name];
  return typeof v === 'boolean' ? v : undefined;
};

/** The render options of the flags; a controller this build lacks is skipped with a warning. */
export function renderOptionsFrom(ctx: Context): RenderOptions {
  const level = str(ctx, 'log-level');
  if (level && !['debug', 'info', 'error'].includes(level))
    throw new CliError(`invalid --log-level "${level}": want debug, info or error`);
  const components = list(ctx, 'components');
  const { selected, skipped } = selectComponents(
    chartComponents(),
    components.length ? components : undefined,
    list(ctx, 'components-extra'),
  );
  for (const name of skipped) ctx.log.warning(`${name} is not part of this build of Tide: skipped`);
  if (!selected.length) throw new CliError('no components to install');
  return {
    namespace: ctx.namespace,
    components: selected,
    version: str(ctx, 'version'),
    registry: str(ctx, 'registry'),
    imagePullSecret: str(ctx, 'image-pull-secret'),
    logLevel: level,
    watchAllNamespaces: boolFlag(ctx, 'watch-all-namespaces'),
    networkPolicy: boolFlag(ctx, 'network-policy'),
    clusterDomain: str(ctx, 'cluster-domain'),
    valuesFiles: list(ctx, 'values'),
    set: list(ctx, 'set'),
  };
}
