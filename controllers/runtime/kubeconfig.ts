// The kubeconfig, read as client-go reads it: $KUBECONFIG (a list of files, first value wins),
// ~/.kube/config, or the in-cluster ServiceAccount; the current context's cluster (server, CA,
// skip-verify, TLS server name, proxy) and user (client certificate, token or token file, basic
// credentials, exec credential plugins). Our own because @kubernetes/client-node costs every
// controller about 75 MiB of memory and half a second to import, for the few fields used here. The
// surface mirrors client-node's KubeConfig where the two meet, so either can be handed to createClient.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { dump, load } from 'js-yaml';
import { runProcess } from './process.ts';

export interface KubeCluster {
  name: string;
  server: string;
  /** Base64 PEM, as in the file. */
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

export interface ExecConfig {
  apiVersion?: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  provideClusterInfo?: boolean;
}

export interface KubeUser {
  name: string;
  token?: string;
  tokenFile?: string;
  /** Base64 PEM, as in the file. */
  certData?: string;
  certFile?: string;
  keyData?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  authProvider?: { name: string };
}

export interface KubeContext {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

/** What a client needs of a kubeconfig (ours, or @kubernetes/client-node's). */
export interface KubeConfigSource {
  getCurrentCluster(): Pick<KubeCluster, 'server' | 'proxyUrl'> | null;
  /** Fills TLS options (ca, cert, key, rejectUnauthorized, servername) and auth (headers, auth). */
  applyToHTTPSOptions(opts: HttpsOptions): Promise<void>;
}

export interface HttpsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
  auth?: string;
  headers?: Record<string, string | number | string[] | undefined>;
}

const inCluster = {
  token: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  ca: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
};

type Raw = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const named = (list: unknown): { name: string; value: Raw }[] =>
  Array.isArray(list)
    ? list
        .filter((e): e is Raw => typeof e === 'object' && e !== null && typeof (e as Raw).name === 'string')
        .map((e) => ({ name: e.name as string, value: (e.cluster ?? e.user ?? e.context ?? {}) as Raw }))
    : [];

export class KubeConfig implements KubeConfigSource {
  clusters: KubeCluster[] = [];
  users: KubeUser[] = [];
  contexts: KubeContext[] = [];
  currentContext = '';
  #exec = new Map<string, { expires: number; token?: string; cert?: string; key?: string }>();

  /** $KUBECONFIG, else ~/.kube/config, else the in-cluster ServiceAccount. */
  loadFromDefault(): void {
    const env = process.env.KUBECONFIG;
    if (env) {
      for (const file of env.split(delimiter).filter(Boolean)) {
        try {
          this.#merge(readFileSync(file, 'utf8'), dirname(file));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      if (this.contexts.length) return;
    }
    const home = join(homedir(), '.kube', 'config');
    try {
      this.loadFromFile(home);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (process.env.KUBERNETES_SERVICE_HOST) this.loadFromCluster();
  }

  loadFromFile(file: string): void {
    this.#reset();
    this.#merge(readFileSync(file, 'utf8'), dirname(file));
  }

  loadFromString(text: string): void {
    this.#reset();
    this.#merge(text, process.cwd());
  }

  loadFromOptions(o: {
    clusters: KubeCluster[];
    users: KubeUser[];
    contexts: KubeContext[];
    currentContext: string;
  }): void {
    this.#reset();
    this.clusters = o.clusters.map((c) => ({ ...c }));
    this.users = o.users.map((u) => ({ ...u }));
    this.contexts = o.contexts.map((c) => ({ ...c }));
    this.currentContext = o.currentContext;
  }

  /** The Pod's ServiceAccount: its token file is read again as the kubelet rotates it. */
  loadFromCluster(): void {
    this.#reset();
    const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
    const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.clusters = [{ name: 'inCluster', server, caFile: inCluster.ca, skipTLSVerify: false }];
    this.users = [{ name: 'inClusterUser', tokenFile: inCluster.token }];
    this.contexts = [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser' }];
    this.currentContext = 'inClusterContext';
  }

  getContextObject(name: string): KubeContext | undefined {
    return this.contexts.find((c) => c.name === name);
  }

  setCurrentContext(name: string): void {
    this.currentContext = name;
  }

  getCurrentContext(): string {
    return this.currentContext;
  }

  getCurrentCluster(): KubeCluster | null {
    const ctx = this.getContextObject(this.currentContext);
    return this.clusters.find((c) => c.name === ctx?.cluster) ?? null;
  }

  getCurrentUser(): KubeUser | null {
    const ctx = this.getContextObject(this.currentContext);
    return this.users.find((u) => u.name === ctx?.user) ?? null;
  }

  /** The kubeconfig as YAML (data fields inline, file references as they were). */
  exportConfig(): string {
    return dump(
      {
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': this.currentContext,
        clusters: this.clusters.map((c) => ({
          name: c.name,
          cluster: compact({
            server: c.server,
            'certificate-authority-data': c.caData,
            'certificate-authority': c.caFile,
            'insecure-skip-tls-verify': c.skipTLSVerify || undefined,
            'tls-server-name': c.tlsServerName,
            'proxy-url': c.proxyUrl,
          }),
        })),
        users: this.users.map((u) => ({
          name: u.name,
          user: compact({
            token: u.token,
            tokenFile: u.tokenFile,
            'client-certificate-data': u.certData,
            'client-certificate': u.certFile,
            'client-key-data': u.keyData,
            'client-key': u.keyFile,
            username: u.username,
            password: u.password,
            exec: u.exec,
          }),
        })),
        contexts: this.contexts.map((c) => ({
          name: c.name,
          context: compact({ cluster: c.cluster, user: c.user, namespace: c.namespace }),
        })),
      },
      { noRefs: true },
    );
  }

  async applyToHTTPSOptions(opts: HttpsOptions): Promise<void> {
    const cluster = this.getCurrentCluster();
    if (cluster?.caData) opts.ca = Buffer.from(cluster.caData, 'base64');
    else if (cluster?.caFile) opts.ca = await readFile(cluster.caFile);
    if (cluster?.skipTLSVerify) opts.rejectUnauthorized = false;
    if (cluster?.tlsServerName) opts.servername = cluster.tlsServerName;
    const user = this.getCurrentUser();
    if (user) await this.#applyUser(user, cluster, opts);
  }

  async #applyUser(user: KubeUser, cluster: KubeCluster | null, opts: HttpsOptions): Promise<void> {
    if (user.authProvider)
      throw new Error(
        `kubeconfig user '${user.name}': auth-provider '${user.authProvider.name}' is not supported; use an exec credential plugin`,
      );
    const file = (data: string | undefined, path: string | undefined) =>
      data
        ? Promise.resolve(Buffer.from(data, 'base64'))
        : path
          ? readFile(path)
          : Promise.resolve(undefined);
    const cert = await file(user.certData, user.certFile);
    const key = await file(user.keyData, user.keyFile);
    if (cert) opts.cert = cert;
    if (key) opts.key = key;
    let token = user.token ?? (user.tokenFile ? (await readFile(user.tokenFile, 'utf8')).trim() : undefined);
    if (user.exec) {
      const cred = await this.#execCredential(user.name, user.exec, cluster);
      token = cred.token ?? token;
      if (cred.cert) opts.cert = cred.cert;
      if (cred.key) opts.key = cred.key;
    }
    if (token) opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
    else if (user.username) opts.auth = `${user.username}:${user.password ?? ''}`;
  }

  /** Runs an exec credential plugin (client.authentication.k8s.io), cached until the credential expires. */
  async #execCredential(userName: string, exec: ExecConfig, cluster: KubeCluster | null) {
    const cached = this.#exec.get(userName);
    if (cached && cached.expires > Date.now()) return cached;
    const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
    const info = {
      apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        ...(exec.provideClusterInfo && cluster
          ? { cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }
          : {}),
      },
    };
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    for (const e of exec.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(info);
    const res = await runProcess(exec.command, exec.args ?? [], { env, timeoutMs: 60_000 });
    if (res.code !== 0)
      throw new Error(
        `kubeconfig user '${userName}': exec plugin ${exec.command} failed (exit ${res.code}): ${res.stderr.trim().slice(0, 500)}`,
      );
    let status: {
      token?: string;
      clientCertificateData?: string;
      clientKeyData?: string;
      expirationTimestamp?: string;
    };
    try {
      status = (JSON.parse(res.stdout.toString('utf8')) as { status?: typeof status }).status ?? {};
    } catch {
      throw new Error(
        `kubeconfig user '${userName}': exec plugin ${exec.command} did not print an ExecCredential`,
      );
    }
    const expires = status.expirationTimestamp
      ? Date.parse(status.expirationTimestamp)
      : Number.POSITIVE_INFINITY;
    const cred = {
      expires: Number.isNaN(expires) ? 0 : expires - 10_000,
      ...(status.token ? { token: status.token } : {}),
      ...(status.clientCertificateData ? { cert: status.clientCertificateData } : {}),
      ...(status.clientKeyData ? { key: status.clientKeyData } : {}),
    };
    this.#exec.set(userName, cred);
    return cred;
  }

  #reset(): void {
    this.clusters = [];
    this.users = [];
    this.contexts = [];
    this.currentContext = '';
    this.#exec.clear();
  }

  /** Adds a file's entries; names already present win, as client-go merges $KUBECONFIG lists. */
  #merge(text: string, base: string): void {
    const raw = (load(text) ?? {}) as Raw;
    if (typeof raw !== 'object') throw new Error('kubeconfig is not a YAML map');
    const path = (p: string | undefined) => (p && !isAbsolute(p) ? join(base, p) : p);
    const add = <T extends { name: string }>(list: T[], items: T[]) => {
      for (const item of items) if (!list.some((x) => x.name === item.name)) list.push(item);
    };
    add(
      this.clusters,
      named(raw.clusters).map(({ name, value }) => parseCluster(name, value, path)),
    );
    add(
      this.users,
      named(raw.users).map(({ name, value }) => parseUser(name, value, path)),
    );
    add(
      this.contexts,
      named(raw.contexts).map(({ name, value }) => parseContext(name, value)),
    );
    if (!this.currentContext) this.currentContext = str(raw['current-context']) ?? '';
  }
}

type PathFn = (p: string | undefined) => string | undefined;

function parseCluster(name: string, c: Raw, path: PathFn): KubeCluster {
  return compact({
    name,
    server: str(c.server) ?? '',
    caData: str(c['certificate-authority-data']),
    caFile: path(str(c['certificate-authority'])),
    skipTLSVerify: c['insecure-skip-tls-verify'] === true,
    tlsServerName: str(c['tls-server-name']),
    proxyUrl: str(c['proxy-url']),
  }) as KubeCluster;
}

function parseExec(exec: Raw | undefined): ExecConfig | undefined {
  if (!exec || typeof exec.command !== 'string') return undefined;
  return compact({
    apiVersion: str(exec.apiVersion),
    command: exec.command,
    args: Array.isArray(exec.args) ? exec.args.map(String) : undefined,
    env: Array.isArray(exec.env) ? (exec.env as { name: string; value: string }[]) : undefined,
    provideClusterInfo: exec.provideClusterInfo === true || undefined,
  }) as ExecConfig;
}

function parseUser(name: string, u: Raw, path: PathFn): KubeUser {
  const provider = u['auth-provider'] as Raw | undefined;
  return compact({
    name,
    token: str(u.token),
    tokenFile: path(str(u.tokenFile)),
    certData: str(u['client-certificate-data']),
    certFile: path(str(u['client-certificate'])),
    keyData: str(u['client-key-data']),
    keyFile: path(str(u['client-key'])),
    username: str(u.username),
    password: str(u.password),
    exec: parseExec(u.exec as Raw | undefined),
    authProvider: provider && typeof provider.name === 'string' ? { name: provider.name } : undefined,
  }) as KubeUser;
}

function parseContext(name: string, c: Raw): KubeContext {
  return compact({
    name,
    cluster: str(c.cluster) ?? '',
    user: str(c.user) ?? '',
    namespace: str(c.namespace),
  }) as KubeContext;
}

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
