// The provider types Tide implements, by spec.type. The CRD accepts Flux's whole list; a Provider of
// another type is refused (see providerUnsupportedFields in ../specs.ts).

import { COMMIT_STATUS_TYPES } from '../../api/kinds.ts';
import { discord, googlechat, msteams, rocket, slack } from './chat.ts';
import { bitbucket, gitea, github, gitlab } from './commitstatus.ts';
import type { NotifierFactory, ProviderSettings } from './types.ts';
import { UnsupportedProviderError } from './types.ts';
import { alertmanager, generic, genericHmac, grafana } from './webhook.ts';

export const notifiers: Readonly<Record<string, NotifierFactory>> = {
  generic,
  'generic-hmac': genericHmac,
  slack,
  discord,
  rocket,
  msteams,
  googlechat,
  alertmanager,
  grafana,
  github,
  gitlab,
  gitea,
  bitbucket,
};

/** Types whose events set Git commit statuses. */
export const isCommitStatusType = (type: string) => (COMMIT_STATUS_TYPES as readonly string[]).includes(type);
export const isGenericType = (type: string) => type === 'generic' || type === 'generic-hmac';

export const supportedTypes: readonly string[] = Object.keys(notifiers);

/** The notifier of the settings' type; throws UnsupportedProviderError for a type Tide lacks. */
export function notifierFor(s: ProviderSettings) {
  const make = notifiers[s.type];
  if (!make) throw new UnsupportedProviderError(`provider type '${s.type}' is not supported by Tide`);
  return make(s);
}
