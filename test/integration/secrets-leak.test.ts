// Secrets never leak. Every controller runs as its own process at debug level against the test bed,
// with a workload that uses every kind of credential Tide handles, each a unique random marker: Git
// basic auth over HTTPS, a Git bearer token, an SSH key with its passphrase, a proxy password, OCI
// registry passwords, a mutual-TLS client key, a Helm repository password, HelmRelease values from a
// Secret, SOPS age keys and the plaintext of a SOPS-encrypted Secret, notification Provider addresses,
// headers and tokens, a Receiver token, and image-automation push credentials. Failing cases (wrong
// passwords, keys and passphrases, an unreachable host with credentials in its URL, a decryption that
// fails, providers that reject or cannot be reached, values that do not parse) run alongside, since
// error paths are where secrets leak. Then every log line, Event, status, served artifact, delivered
// notification and CLI output is searched for every marker, as text and as base64.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { allKinds } from '../../controllers/api/kinds.ts';
import { ConditionTypes } from '../../controllers/api/names.ts';
import { extractTarGz } from '../../controllers/runtime/artifact/extract.ts';
import { type Client, createClient } from '../../controllers/runtime/client.ts';
import type { KubeObject } from '../../controllers/runtime/object.ts';
import { pushArtifact } from '../../controllers/runtime/oci/artifact.ts';
import { dockerConfigJson } from '../../controllers/runtime/oci/auth.ts';
import { createRegistryClient } from '../../controllers/runtime/oci/client.ts';
import { type GitHttpServer, gitEnv, startGitHttpServer } from '../../hack/testbed/gitserver.ts';
import { makePki } from '../../hack/testbed/pki.ts';
import { freePort, poll, run } from '../../hack/testbed/proc.ts';
import { toolPaths } from '../../hack/testbed/tools.ts';
import { ageKeyPair } from '../support/age.ts';
import { packageChart, pushChartOci } from '../support/charts.ts';
import { type ControllerProcess, startController } from '../support/controllers.ts';
import { ensureCrds } from '../support/crds.ts';
import { close, listen } from '../support/listen.ts';
import { startProxy, startTlsTerminator, type TestProxy } from '../support/proxy.ts';
import { type Sink, startSink } from '../support/sink.ts';
import { helmCli, startBasicAuthServer } from '../support/sources.ts';
import { testbed, useNamespace } from '../support/testbed.ts';
import { tide } from '../support/tide.ts';
import { sopsEncrypt } from './kustomize/kustomization-support.ts';
import { type AuthRegistry, makeTarGz, startAuthRegistry } from './oci/fixtures.ts';

const hex = () => randomBytes(12).toString('hex');
const mark = (what: string) => `tideleak${what}${hex()}`;

/** A line of a PEM (or OpenSSH) key body from its end, where only key material is. */
const keyLine = (pem: string) => {
  const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
  const line = body[body.length - 2];
  assert.ok(line && line.length >= 40, 'a full line of key material');
  return line;
};

/**
 * The forms a marker takes in text: itself, and base64 of any text containing it (three alignments;
 * the first and last four characters of each encoding depend on the neighbouring bytes, so they go).
 */
function forms(marker: string): { form: string; text: string }[] {
  const out = [{ form: 'plain', text: marker }];
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.from(`${'x'.repeat(pad)}${marker}`).toString('base64');
    out.push({ form: `base64/${pad}`, text: b64.slice(4, -4) });
  }
  return out;
}

type Cond = { type: string; status: string; reason: string; message: string };
const ready = (o: KubeObject) =>
  (o.status?.conditions as Cond[] | undefined)?.find((c) => c.type === ConditionTypes.Ready);

describe('secrets never leak into logs, events, status or artifacts', function () {
  this.timeout(300_000);
  const ns = useNamespace('leak');
  let client: Client;
  const procs: Record<string, ControllerProcess> = {};
  const closers: (() => Promise<void>)[] = [];
  const storage = { source: '', reflector: '' };
  let receiverPort = 0;
  let goodSink: Sink;
  let rejectSink: Sink;

  // Every value Tide must keep to itself. Failing cases have their own markers, so a leak names its path.
  const m = {
    gitPass: mark('gitpass'),
    gitWrong: mark('gitwrong'),
    bearer: mark('bearer'),
    bearerWrong: mark('bearerwrong'),
    sshPass: mark('sshpass'),
    sshPassWrong: mark('sshpasswrong'),
    sshKey: '',
    proxyPass: mark('proxypass'),
    proxyWrong: mark('proxywrong'),
    urlPass: mark('urlpass'),
    urlWrong: mark('urlwrong'),
    ociPass: mark('ocipass'),
    ociWrong: mark('ociwrong'),
    mtlsPass: mark('mtlspass'),
    tlsKey: '',
    helmPass: mark('helmpass'),
    helmWrong: mark('helmwrong'),
    values: mark('values'),
    badValues: mark('badvalues'),
    age: '',
    ageWrong: '',
    sopsPlain: mark('sopsplain'),
    sopsInvalid: mark('sopsinvalid'),
    providerAddr: mark('provaddr'),
    providerHeader: mark('provheader'),
    providerToken: mark('provtoken'),
    providerUnreachable: mark('provunreach'),
    providerBadHeaders: mark('provbadheaders'),
    providerRejectAddr: mark('provrejectaddr'),
    providerRejectHeader: mark('provrejectheader'),
    slackHook: mark('slackhook'),
    helmOciWrong: mark('helmociwrong'),
    receiver: mark('receiver'),
    kubeToken: mark('kubetoken'),
    gitEcho: mark('gitecho'),
    bearerEcho: mark('bearerecho'),
    helmEcho: mark('helmecho'),
    helmOciEcho: mark('helmociecho'),
    ociEcho: mark('ociecho'),
    helmUrlPass: mark('helmurlpass'),
  };

  /** Secret names the test itself wrote (their data holds markers on purpose). */
  const ownSecrets = new Set<string>();
  const secret = async (name: string, stringData: Record<string, string>, type = 'Opaque') => {
    ownSecrets.add(name);
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      type,
      metadata: { name, namespace: ns() },
      stringData,
    } as KubeObject);
  };
  const create = (apiVersion: string, kind: string, name: string, spec: Record<string, unknown>) =>
    client.create({ apiVersion, kind, metadata: { name, namespace: ns(), labels: { leak: 'test' } }, spec });
  const gitRepo = (name: string, url: string, extra: Record<string, unknown> = {}) =>
    create('source.toolkit.fluxcd.io/v1', 'GitRepository', name, {
      url,
      interval: '1m',
      timeout: '20s',
      ref: { branch: 'main' },
      ...extra,
    });

  const repoName = `leak-${process.pid}`;
  const image = () => `${regA.host}/tide/leak-app`;
  let regA: AuthRegistry;
  let regB: AuthRegistry;
  let git: GitHttpServer;
  let proxy: TestProxy;
  /** A working copy of the Git repository (its first commit), for tide build and diff. */
  let work = '';

  before(async function () {
    this.timeout(240_000);
    const tb = testbed();
    await ensureCrds();
    client = createClient(tb.kubeconfig, { fieldManager: 'tide-test' });
    const dir = await mkdtemp(join(tb.dir, 'leak-'));
    const tools = await toolPaths(['helm', 'kustomize', 'sops']);
    const ociUser = { username: 'leak-bot', password: m.ociPass };

    // Upstreams with the markers as their credentials.
    await mkdir(join(dir, 'pki'));
    const pki = await makePki(join(dir, 'pki'));
    const caCrt = await readFile(pki.caCert, 'utf8');
    const upstreams = await Promise.all([
      startGitHttpServer(join(dir, 'git'), 'leak-user', m.gitPass),
      startAuthRegistry(join(dir, 'reg-a'), ociUser),
      startAuthRegistry(
        join(dir, 'reg-b'),
        { username: 'leak-bot', password: m.mtlsPass },
        { clientCertificates: true },
      ),
      startProxy({ username: 'leak-proxy', password: m.proxyPass }),
    ]);
    [git, regA, regB, proxy] = upstreams;
    closers.push(git.close, regA.close, regB.close, proxy.close);
    const gitPort = Number(new URL(git.url).port);
    const https = await startTlsTerminator(gitPort, {
      certFile: pki.apiserverCert,
      keyFile: pki.apiserverKey,
    });
    closers.push(https.close);
    const bearer = await startBearerFront(git, m.bearer);
    closers.push(bearer.close);
    const echo = await startEchoingRefuser();
    closers.push(echo.close);
    const echoHost = echo.url.slice('http://'.length);
    m.tlsKey = keyLine(regB.clientKey.toString('utf8'));

    // An SSH key with a passphrase, accepted by the test bed's sshd.
    const sshKeyFile = join(dir, 'ssh-key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', m.sshPass, '-f', sshKeyFile]);
    await appendFile(join(tb.dir, 'ssh', 'authorized_keys'), await readFile(`${sshKeyFile}.pub`));
    const sshKey = await readFile(sshKeyFile, 'utf8');
    m.sshKey = keyLine(sshKey);

    // SOPS: an age key that decrypts, one that does not, and a Secret encrypted in Git.
    const age = ageKeyPair();
    const otherAge = ageKeyPair();
    m.age = age.identity;
    m.ageWrong = otherAge.identity;
    const encrypted = await sopsEncrypt(
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak-db\n  namespace: ${ns()}\ntype: Opaque\nstringData:\n  password: ${m.sopsPlain}\n`,
      age.recipient,
    );
    assert.ok(!encrypted.includes(m.sopsPlain));

    // Images in registry A (tags only matter to the reflector), an artifact in each registry.
    const admin = (reg: AuthRegistry, password: string) =>
      createRegistryClient({
        registry: reg.host,
        credentials: { username: 'leak-bot', password },
        caCert: reg.caCert,
        clientCert: reg.clientCert,
        clientKey: reg.clientKey,
      });
    for (const [reg, password] of [
      [regA, m.ociPass],
      [regB, m.mtlsPass],
    ] as const) {
      const c = admin(reg, password);
      try {
        const layer = await makeTarGz({ 'app.yaml': 'kind: Namespace\n' });
        await pushArtifact(c, 'tide/leak-app', { layer, tags: ['1.0.0', '1.1.0'] });
      } finally {
        await c.close();
      }
    }

    // The Git repository: a ConfigMap with an image setter and the encrypted Secret.
    await git.createRepo(repoName);
    work = join(dir, 'work');
    const g = (...args: string[]) =>
      run('git', ['-c', 'user.name=Leak', '-c', 'user.email=leak@tide.invalid', '-C', work, ...args], {
        env: gitEnv,
      });
    await mkdir(join(work, 'app'), { recursive: true });
    await writeFile(
      join(work, 'app', 'cm.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak-app\n  namespace: ${ns()}\ndata:\n  image: ${image()}:1.0.0 # {"$imagepolicy": "${ns()}:leak-app"}\n`,
    );
    await writeFile(join(work, 'app', 'secret.enc.yaml'), encrypted);
    // A Secret that decrypts but that the API server refuses: its data is not base64.
    const invalid = await sopsEncrypt(
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak-invalid\n  namespace: ${ns()}\ndata:\n  password: "${m.sopsInvalid}!!"\n`,
      age.recipient,
    );
    await mkdir(join(work, 'invalid'), { recursive: true });
    await writeFile(join(work, 'invalid', 'secret.enc.yaml'), invalid);
    await g('init', '-q', '-b', 'main');
    await g('add', '-A');
    await g('commit', '-q', '-m', 'initial');
    await g(
      'push',
      '-q',
      `${git.url.replace('http://', `http://leak-user:${m.gitPass}@`)}/${repoName}.git`,
      'main',
    );

    // A chart repository behind basic auth, with a chart that does not render secretNote.
    const chartsRoot = join(dir, 'charts');
    const chartDir = join(dir, 'chart-src', 'leakdemo');
    await mkdir(join(chartDir, 'templates'), { recursive: true });
    await writeFile(join(chartDir, 'Chart.yaml'), 'apiVersion: v2\nname: leakdemo\nversion: 0.1.0\n');
    await writeFile(join(chartDir, 'values.yaml'), 'message: hello\nsecretNote: ""\n');
    await writeFile(
      join(chartDir, 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  message: {{ .Values.message | quote }}\n',
    );
    await packageChart(chartDir, chartsRoot);
    await pushChartOci(chartDir, { host: regA.host, repository: 'charts', caCert: regA.caCert, ...ociUser });
    const charts = await startBasicAuthServer(chartsRoot, 'leak-helm', m.helmPass);
    closers.push(charts.close);
    await (await helmCli(join(dir, 'helm')))(['repo', 'index', chartsRoot, '--url', charts.url]);

    // Notification targets: one that takes everything, one that refuses.
    goodSink = await startSink();
    // Like many APIs, the refusing one names the credentials it refused in its answer.
    rejectSink = await startSink((r) => ({
      status: 401,
      body: `invalid credentials: ${r.headers.authorization ?? ''} ${r.headers['x-api-key'] ?? ''}`,
    }));
    closers.push(goodSink.close, rejectSink.close);

    // Every controller, at debug level, posting events to the notification-controller.
    storage.source = await mkdtemp(join(dir, 'source-'));
    storage.reflector = await mkdtemp(join(dir, 'reflector-'));
    const eventsPort = await freePort();
    receiverPort = await freePort();
    const common = ['--log-level=debug', '--min-retry-delay=500ms', '--max-retry-delay=5s'];
    const events = `--events-addr=http://127.0.0.1:${eventsPort}/`;
    const args: Record<string, string[]> = {
      notification: [`--events-addr=127.0.0.1:${eventsPort}`, `--receiverAddr=127.0.0.1:${receiverPort}`],
      source: [`--storage-path=${storage.source}`, '--storage-addr=127.0.0.1:0', events],
      kustomize: [
        `--kustomize-path=${tools.kustomize}`,
        `--sops-path=${tools.sops}`,
        '--requeue-dependency=1s',
        events,
      ],
      helm: [
        `--helm-path=${tools.helm}`,
        `--kustomize-path=${tools.kustomize}`,
        '--requeue-dependency=1s',
        events,
      ],
      'image-reflector': [`--storage-path=${storage.reflector}`, events],
      'image-automation': [events],
    };
    await Promise.all(
      Object.entries(args).map(async ([name, a]) => {
        procs[name] = await startController(name, [...a, ...common]);
      }),
    );

    // Credentials.
    const gitAuth = { username: 'leak-user', password: m.gitPass, 'ca.crt': caCrt };
    await secret('git-https', gitAuth);
    await secret('git-wrong', { ...gitAuth, password: m.gitWrong });
    await secret('git-bearer', { bearerToken: m.bearer });
    await secret('git-bearer-wrong', { bearerToken: m.bearerWrong });
    const ssh = { identity: sshKey, known_hosts: tb.ssh.knownHosts };
    await secret('git-ssh', { ...ssh, password: m.sshPass });
    await secret('git-ssh-wrong', { ...ssh, password: m.sshPassWrong });
    await secret('proxy', { address: proxy.url, username: 'leak-proxy', password: m.proxyPass });
    await secret('proxy-wrong', { address: proxy.url, username: 'leak-proxy', password: m.proxyWrong });
    const dockerConfig = (reg: AuthRegistry, password: string) => ({
      '.dockerconfigjson': dockerConfigJson(reg.host, { username: 'leak-bot', password }),
    });
    const dockerType = 'kubernetes.io/dockerconfigjson';
    await secret('reg-a', dockerConfig(regA, m.ociPass), dockerType);
    await secret('reg-a-wrong', dockerConfig(regA, m.ociWrong), dockerType);
    await secret('reg-a-ca', { 'ca.crt': regA.caCert.toString('utf8') });
    await secret('reg-b', dockerConfig(regB, m.mtlsPass), dockerType);
    await secret(
      'reg-b-tls',
      {
        'ca.crt': regB.caCert.toString('utf8'),
        'tls.crt': regB.clientCert.toString('utf8'),
        'tls.key': regB.clientKey.toString('utf8'),
      },
      'kubernetes.io/tls',
    );
    await secret('helm', { username: 'leak-helm', password: m.helmPass });
    await secret('helm-wrong', { username: 'leak-helm', password: m.helmWrong });
    await secret('hr-values', { 'values.yaml': `secretNote: ${m.values}\n` });
    await secret('hr-bad-values', { 'values.yaml': `secretNote: [${m.badValues}\n  - {\n` });
    await secret('sops-age', { 'identity.agekey': `${m.age}\n` });
    await secret('sops-age-wrong', { 'identity.agekey': `${m.ageWrong}\n` });
    const closed = await freePort();
    await secret('provider-generic', {
      address: `http://hook:${m.providerAddr}@${goodSink.url.slice('http://'.length)}/events`,
      headers: `X-Api-Key: ${m.providerHeader}\n`,
    });
    await secret('provider-hmac', { token: m.providerToken });
    await secret('provider-unreachable', {
      address: `http://hook:${m.providerUnreachable}@127.0.0.1:${closed}/events`,
    });
    await secret('provider-rejected', {
      address: `http://hook:${m.providerRejectAddr}@${rejectSink.url.slice('http://'.length)}/events`,
      headers: `X-Api-Key: ${m.providerRejectHeader}\n`,
    });
    await secret('provider-slack', { address: `${rejectSink.url}/services/T0/B0/${m.slackHook}` });
    await secret('helm-oci', { username: 'leak-bot', password: m.ociPass });
    await secret('helm-oci-wrong', { username: 'leak-bot', password: m.helmOciWrong });
    await secret('provider-bad-headers', {
      address: `${goodSink.url}/bad`,
      headers: `X-Api-Key: [${m.providerBadHeaders}\n  - {\n`,
    });
    await secret('receiver', { token: m.receiver });
    await secret('git-echo', { username: 'leak-user', password: m.gitEcho });
    await secret('git-bearer-echo', { bearerToken: m.bearerEcho });
    await secret('helm-echo', { username: 'leak-helm', password: m.helmEcho });
    await secret('helm-oci-echo', { username: 'leak-bot', password: m.helmOciEcho });
    await secret(
      'oci-echo',
      {
        '.dockerconfigjson': dockerConfigJson(echoHost, { username: 'leak-bot', password: m.ociEcho }),
      },
      'kubernetes.io/dockerconfigjson',
    );
    await secret('remote-kubeconfig', {
      value: [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: remote, cluster: {server: "https://127.0.0.1:${closed}", certificate-authority-data: ${regA.caCert.toString('base64')}}}]`,
        `users: [{name: remote, user: {token: ${m.kubeToken}}}]`,
        'contexts: [{name: remote, context: {cluster: remote, user: remote}}]',
        'current-context: remote',
      ].join('\n'),
    });

    // Sources.
    const tlsUrl = `https://127.0.0.1:${https.port}/${repoName}.git`;
    await gitRepo('git-https', tlsUrl, { secretRef: { name: 'git-https' } });
    await gitRepo('git-wrong', tlsUrl, { secretRef: { name: 'git-wrong' } });
    await gitRepo('git-bearer', `${bearer.url}/${repoName}.git`, { secretRef: { name: 'git-bearer' } });
    await gitRepo('git-bearer-wrong', `${bearer.url}/${repoName}.git`, {
      secretRef: { name: 'git-bearer-wrong' },
    });
    const sshUrl = tb.ssh.urlFor(join(git.root, `${repoName}.git`));
    await gitRepo('git-ssh', sshUrl, { secretRef: { name: 'git-ssh' } });
    await gitRepo('git-ssh-wrong', sshUrl, { secretRef: { name: 'git-ssh-wrong' } });
    await gitRepo('git-proxy', tlsUrl, {
      secretRef: { name: 'git-https' },
      proxySecretRef: { name: 'proxy' },
    });
    await gitRepo('git-proxy-wrong', tlsUrl, {
      secretRef: { name: 'git-https' },
      proxySecretRef: { name: 'proxy-wrong' },
    });
    // Credentials in the URL: a host that refuses connections, and a server that refuses the password.
    await gitRepo('git-url-unreachable', `http://leak-user:${m.urlPass}@127.0.0.1:${closed}/${repoName}.git`);
    await gitRepo('git-url-wrong', `http://leak-user:${m.urlWrong}@127.0.0.1:${gitPort}/${repoName}.git`);
    const oci = (name: string, reg: AuthRegistry, creds: string, cert: string) =>
      create('source.toolkit.fluxcd.io/v1', 'OCIRepository', name, {
        url: `oci://${reg.host}/tide/leak-app`,
        interval: '1m',
        ref: { tag: '1.1.0' },
        secretRef: { name: creds },
        certSecretRef: { name: cert },
      });
    await oci('oci-basic', regA, 'reg-a', 'reg-a-ca');
    await oci('oci-wrong', regA, 'reg-a-wrong', 'reg-a-ca');
    await oci('oci-mtls', regB, 'reg-b', 'reg-b-tls');
    const helmRepo = (name: string, creds: string) =>
      create('source.toolkit.fluxcd.io/v1', 'HelmRepository', name, {
        url: charts.url,
        interval: '1m',
        secretRef: { name: creds },
      });
    await helmRepo('helm', 'helm');
    // Servers that refuse and quote the credentials they got, as some do.
    await gitRepo('git-echo', `${echo.url}/repo.git`, { secretRef: { name: 'git-echo' } });
    await gitRepo('git-bearer-echo', `${echo.url}/repo.git`, { secretRef: { name: 'git-bearer-echo' } });
    await create('source.toolkit.fluxcd.io/v1', 'HelmRepository', 'helm-echo', {
      url: echo.url,
      interval: '1m',
      secretRef: { name: 'helm-echo' },
    });
    await create('source.toolkit.fluxcd.io/v1', 'HelmRepository', 'helm-oci-echo', {
      type: 'oci',
      url: `oci://${echoHost}/charts`,
      interval: '1m',
      insecure: true,
      secretRef: { name: 'helm-oci-echo' },
    });
    await create('source.toolkit.fluxcd.io/v1', 'HelmChart', 'chart-oci-echo', {
      chart: 'leakdemo',
      version: '0.1.0',
      interval: '1m',
      sourceRef: { kind: 'HelmRepository', name: 'helm-oci-echo' },
    });
    await create('source.toolkit.fluxcd.io/v1', 'OCIRepository', 'oci-echo', {
      url: `oci://${echoHost}/tide/leak-app`,
      interval: '1m',
      insecure: true,
      ref: { tag: '1.1.0' },
      secretRef: { name: 'oci-echo' },
    });
    await create('image.toolkit.fluxcd.io/v1', 'ImageRepository', 'leak-app-echo', {
      image: `${echoHost}/tide/leak-app`,
      interval: '1m',
      insecure: true,
      secretRef: { name: 'oci-echo' },
    });
    // Charts in an OCI registry behind basic auth (HelmRepository type oci, HelmChart from it).
    const ociHelmRepo = (name: string, creds: string) =>
      create('source.toolkit.fluxcd.io/v1', 'HelmRepository', name, {
        type: 'oci',
        url: `oci://${regA.host}/charts`,
        interval: '1m',
        secretRef: { name: creds },
        certSecretRef: { name: 'reg-a-ca' },
      });
    await ociHelmRepo('helm-oci', 'helm-oci');
    await ociHelmRepo('helm-oci-wrong', 'helm-oci-wrong');
    for (const [name, repo] of [
      ['chart-oci', 'helm-oci'],
      ['chart-oci-wrong', 'helm-oci-wrong'],
    ] as const)
      await create('source.toolkit.fluxcd.io/v1', 'HelmChart', name, {
        chart: 'leakdemo',
        version: '0.1.0',
        interval: '1m',
        sourceRef: { kind: 'HelmRepository', name: repo },
      });
    await helmRepo('helm-wrong', 'helm-wrong');
    await create('source.toolkit.fluxcd.io/v1', 'HelmRepository', 'helm-url-creds', {
      url: `http://leak-helm:${m.helmUrlPass}@127.0.0.1:${closed}/`,
      interval: '1m',
    });

    // Consumers.
    const ks = (name: string, key: string, path = './app') =>
      create('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', name, {
        interval: '1m',
        path,
        prune: true,
        sourceRef: { kind: 'GitRepository', name: 'git-https' },
        decryption: { provider: 'sops', secretRef: { name: key } },
      });
    await ks('sops', 'sops-age');
    await ks('sops-wrong', 'sops-age-wrong');
    await ks('sops-invalid', 'sops-age', './invalid');
    // A remote cluster's kubeconfig with a token, the cluster unreachable.
    await create('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'remote', {
      interval: '1m',
      path: './app',
      prune: true,
      sourceRef: { kind: 'GitRepository', name: 'git-https' },
      kubeConfig: { secretRef: { name: 'remote-kubeconfig' } },
    });
    const hr = (name: string, values: string) =>
      create('helm.toolkit.fluxcd.io/v2', 'HelmRelease', name, {
        interval: '1m',
        chart: {
          spec: { chart: 'leakdemo', version: '0.1.0', sourceRef: { kind: 'HelmRepository', name: 'helm' } },
        },
        valuesFrom: [{ kind: 'Secret', name: values }],
      });
    await hr('release', 'hr-values');
    await hr('release-bad-values', 'hr-bad-values');
    await create('helm.toolkit.fluxcd.io/v2', 'HelmRelease', 'remote-release', {
      interval: '1m',
      chart: {
        spec: { chart: 'leakdemo', version: '0.1.0', sourceRef: { kind: 'HelmRepository', name: 'helm' } },
      },
      kubeConfig: { secretRef: { name: 'remote-kubeconfig' } },
    });
    const imageRepo = (name: string, creds: string, cert: string) =>
      create('image.toolkit.fluxcd.io/v1', 'ImageRepository', name, {
        image: image(),
        interval: '1m',
        secretRef: { name: creds },
        certSecretRef: { name: cert },
      });
    await imageRepo('leak-app', 'reg-a', 'reg-a-ca');
    await imageRepo('leak-app-wrong', 'reg-a-wrong', 'reg-a-ca');
    // The reflector refuses client certificates: an error path with a TLS key in the Secret.
    await imageRepo('leak-app-mtls', 'reg-b', 'reg-b-tls');
    await create('image.toolkit.fluxcd.io/v1', 'ImagePolicy', 'leak-app', {
      imageRepositoryRef: { name: 'leak-app' },
      policy: { semver: { range: '1.x' } },
    });
    const automation = (name: string, source: string) =>
      create('image.toolkit.fluxcd.io/v1', 'ImageUpdateAutomation', name, {
        sourceRef: { kind: 'GitRepository', name: source },
        interval: '1m',
        git: {
          checkout: { ref: { branch: 'main' } },
          commit: { author: { name: 'Leak Bot', email: 'bot@tide.invalid' } },
          push: { branch: 'main' },
        },
        update: { strategy: 'Setters', path: './app' },
      });
    await automation('push', 'git-https');
    await automation('push-wrong', 'git-wrong');

    // Notifications: every Tide kind's events to a provider that takes them, one that refuses, one
    // that cannot be reached and one whose headers do not parse.
    const v1beta3 = 'notification.toolkit.fluxcd.io/v1beta3';
    await create(v1beta3, 'Provider', 'generic', {
      type: 'generic',
      secretRef: { name: 'provider-generic' },
    });
    await create(v1beta3, 'Provider', 'hmac', {
      type: 'generic-hmac',
      address: `${rejectSink.url}/hmac`,
      secretRef: { name: 'provider-hmac' },
    });
    await create(v1beta3, 'Provider', 'unreachable', {
      type: 'generic',
      timeout: '5s',
      secretRef: { name: 'provider-unreachable' },
    });
    await create(v1beta3, 'Provider', 'rejected', {
      type: 'generic',
      secretRef: { name: 'provider-rejected' },
    });
    await create(v1beta3, 'Provider', 'slack', { type: 'slack', secretRef: { name: 'provider-slack' } });
    await create(v1beta3, 'Provider', 'bad-headers', {
      type: 'generic',
      secretRef: { name: 'provider-bad-headers' },
    });
    const sources = ['GitRepository', 'OCIRepository', 'HelmRepository', 'HelmChart', 'Kustomization']
      .concat(['HelmRelease', 'ImageRepository', 'ImagePolicy', 'ImageUpdateAutomation'])
      .map((kind) => ({ kind, name: '*' }));
    for (const provider of ['generic', 'hmac', 'unreachable', 'bad-headers', 'rejected', 'slack'])
      await create(v1beta3, 'Alert', `to-${provider}`, {
        providerRef: { name: provider },
        eventSeverity: 'info',
        eventSources: sources,
      });
    await create('notification.toolkit.fluxcd.io/v1', 'Receiver', 'hook', {
      type: 'generic',
      secretRef: { name: 'receiver' },
      resources: [{ kind: 'GitRepository', name: 'git-https' }],
    });
  });

  after(async function () {
    this.timeout(120_000);
    // The namespace is being deleted (useNamespace's hook ran first): HelmReleases and Kustomizations
    // go while their controllers run, so their finalizers do not hang.
    for (const [group, version, kind] of [
      ['helm.toolkit.fluxcd.io', 'v2', 'HelmRelease'],
      ['kustomize.toolkit.fluxcd.io', 'v1', 'Kustomization'],
    ] as const)
      await poll(`${kind}s finalized`, 60_000, async () =>
        (await client.list({ group, version, kind }, { namespace: ns() })).items.length === 0
          ? true
          : undefined,
      ).catch((err: Error) => console.error(`cleanup: ${err.message}`));
    await Promise.all(Object.values(procs).map((p) => p.stop()));
    await Promise.allSettled(closers.map((c) => c()));
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [name, p] of Object.entries(procs))
      console.error(`--- ${name}-controller ---\n${p.logs().split('\n').slice(-25).join('\n')}`);
  });

  const get = (apiVersion: string, kind: string, name: string) =>
    client.get({ apiVersion, kind, namespace: ns(), name });
  /** Waits for Ready=True at the current generation, or Ready=False with a message matching `want`. */
  const untilReady = (apiVersion: string, kind: string, name: string, want: true | RegExp) =>
    poll(
      `${kind} ${name} ${want === true ? 'Ready' : `Ready=False matching ${want}`}`,
      150_000,
      async () => {
        const o = await get(apiVersion, kind, name);
        const r = ready(o);
        if (want === true && r?.status === 'True' && o.status?.observedGeneration === o.metadata.generation)
          return o;
        if (want !== true && r?.status === 'False' && want.test(r.message)) return o;
        throw new Error(`Ready=${r?.status} ${r?.reason}: ${r?.message}`);
      },
      500,
    );

  it('runs the workload: good credentials work, bad ones fail with a condition', async () => {
    const src = 'source.toolkit.fluxcd.io/v1';
    const img = 'image.toolkit.fluxcd.io/v1';
    const ks = 'kustomize.toolkit.fluxcd.io/v1';
    const hr = 'helm.toolkit.fluxcd.io/v2';
    const refused = /refused the credentials/;
    const authFailed = /authentication failed/;
    // Ready=True, or Ready=False with the message of the failure the case is about (not an earlier one,
    // such as a source not ready yet).
    const expect: [string, string, string, true | RegExp][] = [
      [src, 'GitRepository', 'git-https', true],
      [src, 'GitRepository', 'git-bearer', true],
      [src, 'GitRepository', 'git-ssh', true],
      [src, 'GitRepository', 'git-proxy', true],
      [src, 'GitRepository', 'git-wrong', authFailed],
      [src, 'GitRepository', 'git-bearer-wrong', authFailed],
      [src, 'GitRepository', 'git-ssh-wrong', /could not be decrypted with the Secret's 'password'/],
      [src, 'GitRepository', 'git-proxy-wrong', /the proxy refused the credentials/],
      [src, 'GitRepository', 'git-url-unreachable', /ECONNREFUSED/],
      [src, 'GitRepository', 'git-url-wrong', authFailed],
      [src, 'GitRepository', 'git-echo', authFailed],
      [src, 'GitRepository', 'git-bearer-echo', authFailed],
      [src, 'OCIRepository', 'oci-basic', true],
      [src, 'OCIRepository', 'oci-mtls', true],
      [src, 'OCIRepository', 'oci-wrong', refused],
      [src, 'OCIRepository', 'oci-echo', refused],
      [src, 'HelmRepository', 'helm', true],
      [src, 'HelmRepository', 'helm-oci', true],
      [src, 'HelmRepository', 'helm-wrong', authFailed],
      [src, 'HelmRepository', 'helm-echo', authFailed],
      [src, 'HelmRepository', 'helm-url-creds', /connection refused/],
      [src, 'HelmChart', 'chart-oci', true],
      [src, 'HelmChart', 'chart-oci-wrong', refused],
      [src, 'HelmChart', 'chart-oci-echo', refused],
      [ks, 'Kustomization', 'sops', true],
      [ks, 'Kustomization', 'sops-wrong', /decryption failed/],
      [ks, 'Kustomization', 'sops-invalid', /leak-invalid/],
      [ks, 'Kustomization', 'remote', /ECONNREFUSED|connect/],
      [hr, 'HelmRelease', 'release', true],
      [hr, 'HelmRelease', 'release-bad-values', /unmarshaling values/],
      [hr, 'HelmRelease', 'remote-release', /ECONNREFUSED|connect/],
      [img, 'ImageRepository', 'leak-app', true],
      [img, 'ImageRepository', 'leak-app-wrong', refused],
      [img, 'ImageRepository', 'leak-app-echo', refused],
      [img, 'ImageRepository', 'leak-app-mtls', /client certificates \(tls.crt, tls.key\) are not supported/],
      [img, 'ImagePolicy', 'leak-app', true],
      [img, 'ImageUpdateAutomation', 'push-wrong', authFailed],
      ['notification.toolkit.fluxcd.io/v1', 'Receiver', 'hook', true],
    ];
    await Promise.all(expect.map(([a, k, n, want]) => untilReady(a, k, n, want)));

    // The decrypted Secret is in the cluster (the SOPS path ran), with the plaintext value.
    const db = await client.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns(), name: 'leak-db' });
    const data = (db as KubeObject & { data?: Record<string, string> }).data;
    assert.equal(Buffer.from(String(data?.password), 'base64').toString(), m.sopsPlain);

    // The automation pushed with the credentials: the repository now names 1.1.0.
    await poll('the automation pushed 1.1.0', 120_000, async () => {
      const shown = await run('git', [
        '--git-dir',
        join(git.root, `${repoName}.git`),
        'show',
        'main:app/cm.yaml',
      ]);
      return shown.includes(`${image()}:1.1.0`) ? true : undefined;
    });

    // The Receiver: its token opens the hook, a guessed path does not.
    const hook = await get('notification.toolkit.fluxcd.io/v1', 'Receiver', 'hook');
    const post = (path: string) =>
      fetch(`http://127.0.0.1:${receiverPort}${path}`, { method: 'POST', body: '{}' });
    assert.equal((await post(String(hook.status?.webhookPath))).status, 200);
    assert.equal((await post(`/hook/${'0'.repeat(64)}`)).status, 404);

    // Deliveries: the good sink got events, the refusing one was tried, the unreachable one failed.
    await goodSink.until('the generic provider delivered', (rs) => rs.some((r) => r.path === '/events'));
    await rejectSink.until('the refusing provider was tried', (rs) => rs.length > 0);
    for (const alert of ['to-hmac', 'to-unreachable', 'to-bad-headers', 'to-rejected', 'to-slack'])
      await poll(`a failed delivery reported on ${alert}`, 90_000, async () => {
        const list = await client.list(
          { group: '', version: 'v1', kind: 'Event' },
          { namespace: ns(), fieldSelector: `involvedObject.kind=Alert,involvedObject.name=${alert}` },
        );
        return list.items.some((e) => (e as { type?: string }).type === 'Warning') ? true : undefined;
      });
  });

  it('finds no credential, key, token or decrypted value in any log, event, status, artifact or notification', async () => {
    const tb = testbed();
    /** [where, text] pairs: everything Tide wrote that a user or an attacker with read access sees. */
    const texts: [string, string][] = [];

    // Controller output (stdout and stderr go to one file per process).
    for (const [name, p] of Object.entries(procs)) texts.push([`${name}-controller log`, p.logs()]);
    const counts = await collectCluster(
      client,
      texts,
      (o) =>
        // Legitimate stores of secret values: the Secrets the test wrote, the Secret the user's SOPS file
        // decrypts to (applying it is the point), and Helm's release records (Helm's storage format holds
        // the release's values, as with the helm CLI).
        o.kind === 'Secret' &&
        ((o.metadata.namespace === ns() &&
          (ownSecrets.has(o.metadata.name ?? '') || o.metadata.name === 'leak-db')) ||
          (o as { type?: string }).type === 'helm.sh/release.v1'),
    );
    assert.ok(counts.events > 20, `the workload recorded events (${counts.events})`);
    assert.ok(counts.tideObjects >= 30, `every object of the workload was read (${counts.tideObjects})`);

    // Every file the source-controller serves (tarballs extracted) and the reflector's database. The
    // SOPS file in Git legitimately holds ciphertext; the plaintext must not be in any artifact.
    const artifacts =
      (await collectFiles(storage.source, 'source-controller storage', texts)) +
      (await collectFiles(storage.reflector, 'image-reflector storage', texts));
    // Git repositories (one more after the automation's push), an OCI artifact per registry, a chart.
    assert.ok(artifacts >= 5, `artifacts scanned: ${artifacts}`);
    // The storage is what the artifact server serves.
    const git = await get('source.toolkit.fluxcd.io/v1', 'GitRepository', 'git-https');
    const served = await fetch(String(git.status?.artifact?.url));
    assert.equal(served.status, 200);
    texts.push([
      'GitRepository git-https artifact as served',
      Buffer.from(await served.arrayBuffer()).toString('latin1'),
    ]);

    // Notifications as the targets received them: credentials belong in their headers (and the path of
    // a Slack webhook) only.
    for (const [label, sink] of [
      ['generic provider', goodSink],
      ['refusing provider', rejectSink],
    ] as const)
      for (const r of sink.requests) texts.push([`${label}: body of ${r.method} ${r.path}`, r.body]);

    // What a user sees with the CLI, also diffing the live decrypted Secret with the encrypted file.
    const local = ['--path', join(work, 'app'), '-n', ns()];
    for (const [args, codes] of [
      [['get', 'all', '-A'], [0]],
      [['events', '-A'], [0]],
      [['build', 'kustomization', 'sops', ...local], [0]],
      [
        ['diff', 'kustomization', 'sops', ...local],
        [0, 1],
      ],
    ] as const) {
      const out = await tide([...args], tb.controlPlane.kubeconfig);
      assert.ok(
        (codes as readonly number[]).includes(out.code ?? -1),
        `tide ${args.join(' ')}: ${out.stderr}`,
      );
      texts.push([`tide ${args.join(' ')}`, `${out.stdout}\n${out.stderr}`]);
    }

    // The search finds a marker where it is: in a Secret the test wrote (base64 in data).
    const own = await client.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns(), name: 'git-https' });
    assert.deepEqual(
      findLeaks({ gitPass: m.gitPass }, [['Secret git-https', JSON.stringify(own)]]).map(
        (l) => l.split(' in ')[0],
      ),
      ['gitPass (base64/0)'],
    );
    const leaks = findLeaks(m, texts);
    assert.deepEqual(leaks, [], `secrets leaked:\n${leaks.join('\n')}`);
  });
});

/** An HTTP front to a Git server that takes a bearer token and forwards with the server's basic auth. */
async function startBearerFront(upstream: GitHttpServer, token: string) {
  const target = new URL(upstream.url);
  const basic = `Basic ${Buffer.from(`${upstream.username}:${upstream.password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="tide-test"' }).end('bad token\n');
      return;
    }
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host, authorization: basic },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const url = `http://${await listen(server)}`;
  return { url, close: () => close(server) };
}

/**
 * Adds every Event, the status and metadata of every Tide object, and every ConfigMap and Secret
 * (in every namespace) that `legitimate` does not claim to `texts`; returns what it read.
 */
async function collectCluster(
  client: Client,
  texts: [string, string][],
  legitimate: (o: KubeObject) => boolean,
): Promise<{ events: number; tideObjects: number }> {
  // Events whole: message, note, annotations, series.
  const events = await client.listAll({ group: '', version: 'v1', kind: 'Event' });
  for (const e of events.items)
    texts.push([`Event ${e.metadata.namespace}/${e.metadata.name}`, JSON.stringify(e)]);
  let tideObjects = 0;
  for (const k of allKinds) {
    const list = await client.listAll({ group: k.group, version: k.version, kind: k.kind });
    for (const o of list.items) {
      tideObjects++;
      const { managedFields: _, ...meta } = o.metadata;
      texts.push([
        `${k.kind} ${o.metadata.namespace}/${o.metadata.name}`,
        JSON.stringify({ meta, status: o.status }),
      ]);
    }
  }
  for (const kind of ['ConfigMap', 'Secret']) {
    const list = await client.listAll({ group: '', version: 'v1', kind });
    for (const o of list.items)
      if (!legitimate({ ...o, kind }))
        texts.push([`${kind} ${o.metadata.namespace}/${o.metadata.name}`, JSON.stringify(o)]);
  }
  return { events: events.items.length, tideObjects };
}

/** Adds every file under `dir` to `texts`, tarballs also extracted; returns the number of tarballs. */
async function collectFiles(dir: string, label: string, texts: [string, string][]): Promise<number> {
  let tarballs = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) tarballs += await collectFiles(path, `${label}/${e.name}`, texts);
    if (!e.isFile()) continue;
    texts.push([`${label}/${e.name}`, (await readFile(path)).toString('latin1')]);
    if (!/\.(tar\.gz|tgz)$/.test(e.name)) continue;
    tarballs++;
    const out = await mkdtemp(join(testbed().dir, 'leak-art-'));
    await extractTarGz(path, out);
    await collectFiles(out, `${label}/${e.name}!`, texts);
  }
  return tarballs;
}

/** Every place a marker (or its base64) appears, with some context. */
function findLeaks(markers: Record<string, string>, texts: [string, string][]): string[] {
  const leaks: string[] = [];
  for (const [name, marker] of Object.entries(markers)) {
    assert.ok(marker.length >= 32, `marker ${name} is set`);
    for (const f of forms(marker))
      for (const [where, text] of texts) {
        const at = text.indexOf(f.text);
        if (at >= 0)
          leaks.push(`${name} (${f.form}) in ${where}: …${text.slice(Math.max(0, at - 160), at + 40)}…`);
      }
  }
  return leaks;
}

/**
 * A server that refuses every request with a Basic challenge and quotes the credentials it got in its
 * answer, as some servers do: error paths must keep such answers' secrets out of what they report.
 */
async function startEchoingRefuser() {
  const server = createServer((req, res) => {
    req.resume();
    const got = `${req.headers.authorization ?? ''} ${req.headers['proxy-authorization'] ?? ''}`;
    res
      .writeHead(401, { 'www-authenticate': 'Basic realm="tide-test"', 'content-type': 'text/plain' })
      .end(`refused credentials: ${got}\n`);
  });
  const url = `http://${await listen(server)}`;
  return { url, close: () => close(server) };
}
