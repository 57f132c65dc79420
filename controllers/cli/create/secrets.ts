// tide create secret git|helm|oci|tls: Secrets with the keys Flux's sources read (F2
// cmd/flux/create_secret_*.go).
import { required, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { type Creator, gitCredentialFlags, gitSecretValues, readText, secret } from './common.ts';

export const secretGit: Creator = {
  words: ['secret', 'git'],
  what: 'Git secret',
  flags: ['url', ...gitCredentialFlags],
  async build(ctx, name) {
    return [secret(ctx, name, await gitSecretValues(ctx, required(ctx, 'url')))];
  },
};

export const secretHelm: Creator = {
  words: ['secret', 'helm'],
  what: 'Helm secret',
  flags: ['username', 'password', 'ca-crt-file', 'tls-crt-file', 'tls-key-file'],
  async build(ctx, name) {
    const file = async (flag: string) => {
      const f = str(ctx, flag);
      return f ? readText(f, flag) : undefined;
    };
    const values = {
      username: str(ctx, 'username'),
      password: str(ctx, 'password'),
      'ca.crt': await file('ca-crt-file'),
      'tls.crt': await file('tls-crt-file'),
      'tls.key': await file('tls-key-file'),
    };
    if (Boolean(values['tls.crt']) !== Boolean(values['tls.key']))
      throw new CliError('--tls-crt-file and --tls-key-file go together');
    return [secret(ctx, name, values)];
  },
};

/** kubernetes.io/dockerconfigjson for one registry. */
export function dockerConfigJson(registry: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  return JSON.stringify({ auths: { [registry]: { username, password, auth } } });
}

export const secretOci: Creator = {
  words: ['secret', 'oci'],
  what: 'OCI secret',
  flags: ['url', 'username', 'password'],
  async build(ctx, name) {
    const registry =
      required(ctx, 'url')
        .replace(/^oci:\/\//, '')
        .split('/')[0] ?? '';
    if (!registry) throw new CliError('--url needs a registry host, e.g. ghcr.io');
    const config = dockerConfigJson(registry, required(ctx, 'username'), required(ctx, 'password'));
    return [secret(ctx, name, { '.dockerconfigjson': config }, 'kubernetes.io/dockerconfigjson')];
  },
};

export const secretTls: Creator = {
  words: ['secret', 'tls'],
  what: 'TLS secret',
  flags: ['tls-crt-file', 'tls-key-file', 'ca-crt-file'],
  async build(ctx, name) {
    const read = async (flag: string) => {
      const f = str(ctx, flag);
      return f ? readText(f, flag) : undefined;
    };
    const values = {
      'tls.crt': await read('tls-crt-file'),
      'tls.key': await read('tls-key-file'),
      'ca.crt': await read('ca-crt-file'),
    };
    if (Boolean(values['tls.crt']) !== Boolean(values['tls.key']))
      throw new CliError('--tls-crt-file and --tls-key-file go together');
    if (!values['tls.crt'] && !values['ca.crt'])
      throw new CliError('give --tls-crt-file with --tls-key-file, or --ca-crt-file');
    return [secret(ctx, name, values, values['tls.crt'] ? 'kubernetes.io/tls' : 'Opaque')];
  },
};
