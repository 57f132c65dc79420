// The dashboard in a cluster (the chart's Deployment): watches as its ServiceAccount, signs users in and
// impersonates them.
//   node dist/controllers/ui/main.js --listen-address=:9080 --auth-mode=oidc \
//     --oidc-issuer-url=https://dex.example.com --oidc-client-id=tide \
//     --oidc-client-secret-file=/etc/tide/oidc/secret --oidc-redirect-url=https://tide.example.com/oauth2/callback
// Users need RBAC of their own (at least get/list/watch on the toolkit kinds); the ServiceAccount needs
// get/list/watch on them and `impersonate` on users and groups.
import { readFileSync } from 'node:fs';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { KubeConfig } from '../runtime/kubeconfig.ts';
import { createLogger, type LogLevel } from '../runtime/log.ts';
import { type Authenticator, createSessions, headerAuth, tokenFileAuth } from './auth.ts';
import { startDashboard } from './dashboard.ts';
import { oidcAuth } from './oidc.ts';

export const uiFlags = {
  'listen-address': { type: 'string', default: ':9080' },
  'auth-mode': { type: 'string', default: '' },
  'token-file': { type: 'string', default: '' },
  'user-header': { type: 'string', default: 'X-Forwarded-User' },
  'groups-header': { type: 'string', default: 'X-Forwarded-Groups' },
  'oidc-issuer-url': { type: 'string', default: '' },
  'oidc-client-id': { type: 'string', default: '' },
  'oidc-client-secret-file': { type: 'string', default: '' },
  'oidc-redirect-url': { type: 'string', default: '' },
  'oidc-scopes': { type: 'string', default: 'openid,email,profile,groups' },
  'oidc-username-claim': { type: 'string', default: 'email' },
  'oidc-username-prefix': { type: 'string', default: '' },
  'oidc-groups-claim': { type: 'string', default: 'groups' },
  'oidc-groups-prefix': { type: 'string', default: '' },
  'oidc-ca-file': { type: 'string', default: '' },
  'session-secret-file': { type: 'string', default: '' },
  'secure-cookies': { type: 'boolean', default: false },
  'watch-namespace': { type: 'string', default: '' },
  'kustomize-path': { type: 'string', default: process.env.TIDE_KUSTOMIZE_BIN ?? 'kustomize' },
  'sops-path': { type: 'string', default: process.env.TIDE_SOPS_BIN ?? 'sops' },
  'log-level': { type: 'string', default: 'info' },
} satisfies ParseArgsOptionsConfig;

type Values = { [K in keyof typeof uiFlags]: (typeof uiFlags)[K]['default'] };

const need = (v: Values, flag: keyof Values) => {
  const value = v[flag];
  if (!value) throw new Error(`--${flag} is required with --auth-mode=${v['auth-mode']}`);
  return String(value);
};

/** The sign-in the flags choose; there is no mode without one in a cluster. */
export function authFromFlags(v: Values): Authenticator {
  const secret = v['session-secret-file'] ? readFileSync(v['session-secret-file']) : undefined;
  const sessions = createSessions(secret);
  switch (v['auth-mode']) {
    case 'token':
      return tokenFileAuth(need(v, 'token-file'), sessions, { secure: v['secure-cookies'] });
    case 'header':
      return headerAuth({ userHeader: v['user-header'], groupsHeader: v['groups-header'] });
    case 'oidc':
      return oidcAuth(
        {
          issuerUrl: need(v, 'oidc-issuer-url'),
          clientId: need(v, 'oidc-client-id'),
          clientSecret: v['oidc-client-secret-file']
            ? readFileSync(v['oidc-client-secret-file'], 'utf8').trim()
            : process.env.TIDE_OIDC_CLIENT_SECRET,
          redirectUrl: need(v, 'oidc-redirect-url'),
          scopes: v['oidc-scopes'].split(',').filter(Boolean),
          usernameClaim: v['oidc-username-claim'],
          usernamePrefix: v['oidc-username-prefix'],
          groupsClaim: v['oidc-groups-claim'],
          groupsPrefix: v['oidc-groups-prefix'],
          ca: v['oidc-ca-file'] ? readFileSync(v['oidc-ca-file'], 'utf8') : undefined,
        },
        sessions,
      );
    default:
      throw new Error('--auth-mode must be token, header or oidc (locally, run tide ui instead)');
  }
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({ args: argv, options: uiFlags, strict: true, allowPositionals: false });
  const v = values as Values;
  const log = createLogger({ level: v['log-level'] as LogLevel, base: { controller: 'tide-ui' } });
  const auth = authFromFlags(v);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const stop = new AbortController();
  const dashboard = await startDashboard({
    kubeConfig,
    address: v['listen-address'],
    namespace: v['watch-namespace'] || undefined,
    tools: { kustomizeBin: v['kustomize-path'], sopsBin: v['sops-path'] },
    auth,
    log,
    signal: stop.signal,
  });
  log.info('dashboard serving', { address: v['listen-address'], port: dashboard.port, authMode: auth.mode });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await dashboard.close();
  return 0;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(JSON.stringify({ level: 'error', msg: 'tide-ui failed to start', error: err.message }));
      process.exit(1);
    },
  );
}
